"""Fuzz suite: hostile and damaged files are refused with a ValueError naming the file, in bounded
time and memory, and nothing is ever unpickled.

The inputs are built in tests/hostile.py: every truncation of a small model file, 1,000 seeded bit
flips, every zip header field set to hostile values, members of the wrong kind, declared huge
sizes, decompression bombs, non-integer sizes, θ of the wrong dtype or length, pickled payloads
(a sentinel file proves nothing ran), and hostile CSV, ``.npy``, ``.npz`` and IDX data. Each input
is loaded under `tracemalloc`; the bounds asserted are generous on purpose (the machine may be
loaded): at most `SECONDS` per file and `MEMORY` bytes of Python/NumPy allocations beyond a small
multiple of the file's size, where the unchecked reader took 5.5 s and +1 GB for the 64 MiB bomb.
Files are written to a RAM folder (/dev/shm) where there is one, so disk writes don't dominate.
"""

import io
import os
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hostile import (
    MAY_LOAD,
    bit_flips,
    bombs,
    csv_cases,
    declared_sizes,
    header_fields,
    idx_cases,
    mismatches,
    npy_cases,
    npz_data_cases,
    pickles,
    small_model,
    truncations,
    wrong_members,
)

import mlpnet
from mlpnet.cli import cli

SECONDS = 1.0
"""Time bound per file (generous: loading a refused 2 KB file takes about a millisecond)."""
MEMORY = 4 << 20
"""Bound on the peak of traced allocations while a file is refused, beyond 4 × its size."""


@pytest.fixture(scope="module")
def folder():
    """A folder in RAM where available (many small files are written), removed afterwards."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix="mlpnet-hostile-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def traced():
    """tracemalloc running for the module (NumPy reports its allocations to it)."""
    was = tracemalloc.is_tracing()
    tracemalloc.start()
    yield
    if not was:
        tracemalloc.stop()


def attempt(folder, case):
    """Write the case's file, run its loader: (outcome, seconds, peak bytes, path)."""
    path = folder / f"input{case.suffix}"
    path.write_bytes(case.content)
    tracemalloc.reset_peak()
    start_memory = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    try:
        outcome = case.load(path)
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        outcome = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - start_memory
    return outcome, seconds, peak, path


def check(folder, cases, original=None):
    """Every case refused as documented (or, where allowed, loaded unchanged), within bounds."""
    assert cases
    loaded = 0
    for case in cases:
        outcome, seconds, peak, path = attempt(folder, case)
        where = f"{case.name}: {outcome!r}"
        assert seconds < SECONDS, where
        assert peak < MEMORY + 4 * len(case.content), f"{where}: {peak:,} bytes"
        if case.match == MAY_LOAD and not isinstance(outcome, Exception):
            loaded += 1  # harmless damage (a timestamp): then the model must be intact
            np.testing.assert_array_equal(outcome.params, original.params)
            assert outcome.spec() == original.spec()
            continue
        assert type(outcome) is ValueError, where
        assert str(path) in str(outcome), where
        if case.match not in (None, MAY_LOAD):
            import re

            assert re.search(case.match, str(outcome)), where
    return loaded


def central_field(field):
    """The first central-directory entry with `field` (e.g. "method=99") set."""
    return next(
        c for c in header_fields() if c.name.startswith("central@") and c.name.endswith(field)
    )


@pytest.fixture(scope="module")
def original():
    return mlpnet.Network([2, 3, 1], activation="tanh", seed=0)


def test_the_small_model_itself_loads(folder, traced, original):
    path = folder / "good.npz"
    path.write_bytes(small_model())
    net = mlpnet.load(path)
    np.testing.assert_array_equal(net.params, original.params)
    assert len(small_model()) < 2_500  # "a 2 KB model file"


def test_every_truncation_is_refused(folder, traced):
    cases = truncations()
    assert len(cases) == len(small_model())
    check(folder, cases)


def test_a_thousand_bit_flips_are_refused_or_harmless(folder, traced, original):
    cases = bit_flips(1000, seed=0)
    loaded = check(folder, cases, original)
    assert loaded < 300  # most flips hit a CRC-checked member or a checked header


def test_every_zip_header_field(folder, traced, original):
    cases = header_fields()
    assert len(cases) > 300
    check(folder, cases, original)


@pytest.mark.parametrize(
    "field", ["method=99", "method=12", "method=14", "flags=1", "version=255", "made_by=255"]
)
def test_the_issues_zip_damage_is_a_value_error(folder, traced, field):
    cases = [c for c in header_fields() if c.name.startswith("central@") and c.name.endswith(field)]
    assert len(cases) == 4 and cases[0] == central_field(field)  # one per member
    check(folder, cases)


def test_members_of_the_wrong_kind(folder, traced):
    check(folder, wrong_members())


def test_declared_huge_sizes_and_non_integer_sizes(folder, traced):
    check(folder, declared_sizes())


def test_theta_dtype_and_length_must_match_the_architecture(folder, traced):
    check(folder, mismatches())


def test_decompression_bombs(folder, traced):
    cases = bombs()
    assert len(cases[0].content) < 200_000  # 64 MiB of θ in under 200 KB
    check(folder, cases)


def test_pickled_payloads_never_run(folder, traced, tmp_path):
    sentinel = tmp_path / "pickle-ran"
    cases = pickles(sentinel)
    import pickle

    pickle.loads(cases[0].content)  # noqa: S301 - proves the payload works: it makes the file
    assert sentinel.exists()
    sentinel.unlink()
    check(folder, cases)
    assert not sentinel.exists()


def test_hostile_csv(folder, traced):
    check(folder, csv_cases())


def test_hostile_npy_and_npz_data(folder, traced):
    check(folder, npy_cases() + npz_data_cases())


def test_hostile_idx(folder, traced):
    check(folder, idx_cases())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: central_field("method=99"), "compression method 99"),
        (lambda: central_field("flags=1"), "is encrypted"),
        (lambda: central_field("version=255"), "version 25.5"),
        (lambda: bombs()[0], "decompression bomb"),
        (lambda: declared_sizes()[2], "n_out must be a positive integer"),
        (lambda: wrong_members()[0], "not a valid .npy array"),
    ],
    ids=["method", "encrypted", "version", "bomb", "size 17.5", "raw bytes"],
)
def test_the_command_line_says_file_and_problem(folder, make, message):
    case = make()
    path = folder / "hostile.npz"
    path.write_bytes(case.content)
    result = CliRunner().invoke(cli, ["evaluate", str(path), "--data", "xor"])
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert line.startswith(f"error: {path}: ") and message in line, line
    assert "unexpected" not in line and len(line.splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "options", "message"),
    [
        ("y\n1\n0\n", "", "no feature columns"),
        ("a,y\n1e308,0\n2,1\n", "", "line 2, column 'a': 1e+308 overflows float32"),
        ("a,y\n1,0\nnan,1\n", "", "line 3, column 'a': nan is not a finite number"),
        ("caf\xe9,y\n1,0\n", "", "line 1: not UTF-8 text"),
    ],
    ids=["one column", "overflow", "NaN", "latin-1"],
)
def test_data_errors_on_the_command_line_say_where(tmp_path, text, options, message):
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode("latin-1"))
    result = CliRunner().invoke(cli, ["train", "--data", str(path), "-o", str(tmp_path / "m")])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line == f"error: {path}: {line.split(': ', 2)[2]}" and message in line, line


def test_dropout_rates_survive_a_round_trip_and_bad_ones_are_refused(tmp_path):
    import json
    import zipfile

    net = mlpnet.Network([3, 4, 2], dropout=0.25, seed=0)
    net.save(tmp_path / "d.npz")
    assert [layer.dropout for layer in mlpnet.load(tmp_path / "d.npz").layers] == [0.25, 0.0]
    with zipfile.ZipFile(tmp_path / "d.npz") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    spec = json.loads(np.load(tmp_path / "d.npz")["spec"].item())
    for rate in (1.0, -0.1, "0.5", None):
        spec["layers"][0]["dropout"] = rate
        buffer = io.BytesIO()
        np.save(buffer, np.array(json.dumps(spec)))
        bad = tmp_path / "bad.npz"
        with zipfile.ZipFile(bad, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, buffer.getvalue() if name == "spec.npy" else data)
        with pytest.raises(ValueError, match=r"bad\.npz.*dropout must be a number in \[0, 1\)"):
            mlpnet.load(bad)
