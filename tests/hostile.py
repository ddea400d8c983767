"""Hostile inputs for the fuzz suite (tests/test_hostile_files.py): each a name, bytes and a check.

Every generator returns ``Case`` tuples: the file's bytes, its suffix, the loader to run on it, and
a regular expression the `ValueError` must match (None: any ValueError; `MAY_LOAD`: the damage may
be harmless, as a flipped bit in a timestamp, and loading must then succeed).
"""

from __future__ import annotations

import functools
import io
import json
import pickle
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import mlpnet
from mlpnet.checkpoint import load_checkpoint
from mlpnet.datasets import load_table, read_idx
from mlpnet.datasets.files import load_features

MAY_LOAD = "may load"
_HEADER = "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}"


class Case(NamedTuple):
    name: str
    content: bytes
    suffix: str
    load: Callable[[Path], Any]
    match: str | None


@functools.cache
def small_model() -> bytes:
    """The small model file of the suite (1,806 bytes)."""
    return model_bytes()


def model_bytes(theta=None, spec=None, sizes=(2, 3, 1), dtype="float32") -> bytes:
    """An mlpnet model file as bytes (optionally with θ or spec replaced)."""
    net = mlpnet.Network(list(sizes), activation="tanh", seed=0, dtype=dtype)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        theta=net.params if theta is None else theta,
        spec=np.array(json.dumps(net.spec() if spec is None else spec)),
        format_version=np.array(1),
        library=np.array("mlpnet"),
    )
    return buffer.getvalue()


def npy_bytes(array: Any, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def raw_npy(header: str, body: bytes = b"") -> bytes:
    """An .npy (version 1.0) with a hand-written header dictionary."""
    text = header.encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + body


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def model_members(**replace: bytes | None) -> dict[str, bytes]:
    """The members of the small model file, some replaced (None drops one)."""
    with zipfile.ZipFile(io.BytesIO(small_model())) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    for name, content in replace.items():
        members.pop(f"{name}.npy", None)
        if content is not None:
            members[name if "." in name else f"{name}.npy"] = content
    return members


# ------------------------------------------------------------------------------ model files


def truncations() -> list[Case]:
    data = small_model()
    return [Case(f"cut-{n}", data[:n], ".npz", mlpnet.load, None) for n in range(len(data))]


def bit_flips(count: int = 1000, seed: int = 0) -> list[Case]:
    data = small_model()
    rng = np.random.default_rng(seed)
    cases = []
    for bit in rng.integers(0, 8 * len(data), count):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        cases.append(Case(f"flip-{bit}", bytes(flipped), ".npz", mlpnet.load, MAY_LOAD))
    return cases


# (name, offset in the record, struct format) of the zip records' fields
_LOCAL = [("version", 4, "H"), ("flags", 6, "H"), ("method", 8, "H"), ("time", 10, "H"),
          ("date", 12, "H"), ("crc", 14, "I"), ("csize", 18, "I"), ("usize", 22, "I"),
          ("name_len", 26, "H"), ("extra_len", 28, "H")]  # fmt: skip
_CENTRAL = [("made_by", 4, "H"), ("version", 6, "H"), ("flags", 8, "H"), ("method", 10, "H"),
            ("time", 12, "H"), ("date", 14, "H"), ("crc", 16, "I"), ("csize", 20, "I"),
            ("usize", 24, "I"), ("name_len", 28, "H"), ("extra_len", 30, "H"),
            ("comment_len", 32, "H"), ("disk", 34, "H"), ("internal", 36, "H"),
            ("external", 38, "I"), ("offset", 42, "I")]  # fmt: skip
_END = [("disk", 4, "H"), ("cd_disk", 6, "H"), ("disk_entries", 8, "H"), ("entries", 10, "H"),
        ("cd_size", 12, "I"), ("cd_offset", 16, "I"), ("comment_len", 20, "H")]  # fmt: skip
# fields whose damage must be refused with these words (central directory; the cases)
_NAMED = {
    ("method", 99): "compression method 99",
    ("method", 12): "compression method 12",
    ("method", 14): "compression method 14",
    ("flags", 1): "encrypted",
    ("version", 255): "zip (file )?version 25.5",
    ("made_by", 255): "zip version 25.5",
}


@functools.cache
def header_fields() -> list[Case]:
    """Every field of every local header, central directory entry and the end record, set to
    hostile values (0, 1, the largest, a few chosen), one at a time."""
    data = small_model()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        locals_ = [info.header_offset for info in archive.infolist()]
    end = data.rindex(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, end + 16)[0]
    centrals, at = [], cd_offset
    while data[at : at + 4] == b"PK\x01\x02":
        centrals.append(at)
        n, m, k = struct.unpack_from("<HHH", data, at + 28)
        at += 46 + n + m + k
    records = [("local", o, _LOCAL) for o in locals_] + [("central", o, _CENTRAL) for o in centrals]
    records.append(("end", end, _END))
    cases = []
    for kind, start, fields in records:
        for field, offset, fmt in fields:
            top = 0xFFFF if fmt == "H" else 0xFFFFFFFF
            values = {0, 1, top, top - 1, 99, 12, 14, 255} if field in ("method", "version",
                      "made_by", "flags") else {0, 1, top, top // 2, 2**20}  # fmt: skip
            for value in sorted(v for v in values if v <= top):
                patched = bytearray(data)
                struct.pack_into("<" + fmt, patched, start + offset, value)
                if bytes(patched) == data:
                    continue
                named = _NAMED.get((field, value)) if kind == "central" else None
                cases.append(
                    Case(
                        f"{kind}@{start}.{field}={value}",
                        bytes(patched),
                        ".npz",
                        mlpnet.load,
                        named or MAY_LOAD,
                    )  # fmt: skip
                )
    return cases


def wrong_members() -> list[Case]:
    """Members that are not .npy arrays, or not the arrays an mlpnet file holds."""
    not_npy = {
        "raw bytes": model_members(theta=b"x"),
        "empty member": model_members(theta=b""),
        "nested zip": model_members(theta=model_bytes()),
        "no .npy suffix": model_members(theta=None) | {"theta": npy_bytes(np.zeros(13))},
        "a text member": model_members() | {"notes.txt": b"hello"},
        "a folder entry": model_members() | {"theta.npy/": b""},
        "theta as a string": model_members(theta=npy_bytes(np.array("0.5"))),
        "theta as ints": model_members(theta=npy_bytes(np.arange(13))),
        "theta complex": model_members(theta=npy_bytes(np.zeros(13, complex))),
        "theta 2-D": model_members(theta=npy_bytes(np.zeros((13, 1), np.float32))),
        "theta structured": model_members(
            theta=npy_bytes(np.zeros(13, [("a", "f4"), ("b", "f4")]))
        ),
        "spec as numbers": model_members(spec=npy_bytes(np.zeros(3))),
        "spec deep JSON": model_members(spec=npy_bytes(np.array("[" * 100_000))),
        "spec huge int": model_members(spec=npy_bytes(np.array('{"a": ' + "9" * 5000 + "}"))),
        "library wrong": model_members(library=npy_bytes(np.array("numpy"))),
        "library missing": model_members(library=None),
        "version float": model_members(format_version=npy_bytes(np.array(1.0))),
        "extra text array": model_members(notes=npy_bytes(np.array(["a", "b"]))),
        "many members": model_members() | {f"m{i}.npy": npy_bytes(np.zeros(1)) for i in range(80)},
    }
    cases = [Case(name, zip_of(m), ".npz", mlpnet.load, None) for name, m in not_npy.items()]
    buffer = io.BytesIO(zip_of(model_members()))
    with zipfile.ZipFile(buffer, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name we want
        archive.writestr("theta.npy", npy_bytes(np.zeros(13, np.float32)))
    cases.append(Case("duplicate theta", buffer.getvalue(), ".npz", mlpnet.load, "two members"))
    return cases


def central_entry(data: bytes, name: str) -> int:
    """Offset of the central directory entry of member `name`."""
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name.encode():
        at = data.index(b"PK\x01\x02", at + 4)
    return at


def spec_with(**layer0: Any) -> dict[str, Any]:
    spec = mlpnet.Network([2, 3, 1], activation="tanh").spec()
    spec["layers"][0].update(layer0)
    return spec


def declared_sizes() -> list[Case]:
    """Architectures and headers that declare far more than the file holds; non-integer sizes."""
    theta = mlpnet.Network([2, 3, 1], seed=0).params
    specs = {
        "10^8 hidden units": {**spec_with(n_out=10**8)},
        "10^12 hidden units": {**spec_with(n_out=10**12)},
        "size 17.5": spec_with(n_out=17.5),
        "size '17'": spec_with(n_out="17"),
        "size true": spec_with(n_out=True),
        "size 0": spec_with(n_in=0),
        "size -3": spec_with(n_in=-3),
        "size null": spec_with(n_in=None),
        "size [2]": spec_with(n_in=[2]),
        "size 1e400": spec_with(n_in=float("inf")),
        "layers that do not chain": spec_with(n_out=4),
        "no layers": {**spec_with(), "layers": []},
        "layers not a list": {**spec_with(), "layers": {"n_in": 2}},
        "10,001 layers": {**spec_with(), "layers": [{"n_in": 1, "n_out": 1}] * 10_001},
        "dtype float16": {**spec_with(), "dtype": "float16"},
        "dtype object": {**spec_with(), "dtype": "object"},
        "activation a list": spec_with(activation=["tanh"]),
        "activation unknown": spec_with(activation={"name": "swish2"}),
        "slope NaN": spec_with(activation={"name": "leaky_relu", "slope": "nan"}),
        "not a network": {"format": "something else"},
    }
    cases = [
        Case(name, model_bytes(theta=theta, spec=spec), ".npz", mlpnet.load, None)
        for name, spec in specs.items()
    ]
    huge = raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }")
    cases += [
        Case("theta header 2^40", zip_of(model_members(theta=huge)), ".npz", mlpnet.load, None),
        Case(
            "theta header (2^31, 2^31)",
            zip_of(
                model_members(theta=raw_npy(_HEADER.format("<f8", (2**31, 2**31))))
            ),  # fmt: skip
            ".npz",
            mlpnet.load,
            None,
        ),
    ]
    return cases


def mismatches() -> list[Case]:
    """θ whose dtype or length disagrees with the architecture: refused, never cast."""
    net = mlpnet.Network([2, 3, 1], seed=0)
    float32, float64 = net.params, net.params.astype(np.float64)
    spec32, spec64 = net.spec(), {**net.spec(), "dtype": "float64"}
    pairs = {
        "float64 theta, float32 architecture": (float64, spec32, "13 float64 .* 13 float32"),
        "float32 theta, float64 architecture": (float32, spec64, "13 float32 .* 13 float64"),
        "one parameter short": (float32[:-1], spec32, "12 float32 .* 13 float32"),
        "one parameter over": (
            np.append(float32, np.float32(1)),
            spec32,
            "14 float32 .* 13 float32",
        ),
        "empty theta": (float32[:0], spec32, "0 float32"),
    }
    return [
        Case(name, model_bytes(theta=theta, spec=spec), ".npz", mlpnet.load, match)
        for name, (theta, spec, match) in pairs.items()
    ]


@functools.cache
def bombs() -> list[Case]:
    """Deflated θ of zeros (64 MiB from ~64 KB) matching its architecture; and lying sizes."""
    spec = mlpnet.Network([1, 1], activation="identity").spec()
    spec["layers"] = [{"n_in": 4095, "n_out": 4096, "activation": {"name": "identity"}}]
    n = 4096 * (4095 + 1)  # 16,777,216 float32 parameters: 64 MiB
    header = raw_npy(f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n},), }}")
    buffer = io.BytesIO()
    members = model_members(theta=None, spec=npy_bytes(np.array(json.dumps(spec))))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        with archive.open("theta.npy", "w", force_zip64=True) as member:
            member.write(header)
            zeros = bytes(1 << 20)
            for _ in range(4 * n // len(zeros)):
                member.write(zeros)
    bomb = buffer.getvalue()
    # the same bomb, its central directory claiming 1 MB: the inflated data exceed the claim
    liar = bytearray(bomb)
    struct.pack_into("<I", liar, central_entry(bomb, "theta.npy") + 24, 1 << 20)
    return [
        Case("deflate bomb 64 MiB", bomb, ".npz", mlpnet.load, "decompression bomb"),
        Case("bomb with a lying size", bytes(liar), ".npz", mlpnet.load, None),
    ]


class Sentinel:
    """Unpickling this creates the file `path`: proof that something was unpickled."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def pickles(sentinel: Path) -> list[Case]:
    """Pickled payloads in every place a loader might unpickle them."""
    payload = pickle.dumps(Sentinel(sentinel))
    objects = npy_bytes(np.array([Sentinel(sentinel)], dtype=object), allow_pickle=True)
    table = np.array([[1.0, Sentinel(sentinel)]], dtype=object)
    return [
        Case("model: a pickle", payload, ".npz", mlpnet.load, "pickle"),
        Case(
            "model: object theta",
            zip_of(model_members(theta=objects)),
            ".npz",
            mlpnet.load,
            "pickled data is never loaded",
        ),  # fmt: skip
        Case(
            "model: object spec",
            zip_of(model_members(spec=objects)),
            ".npz",
            mlpnet.load,
            "pickled data is never loaded",
        ),  # fmt: skip
        Case("data: object .npy", npy_bytes(table, True), ".npy", load_table, "pickled"),
        Case("data: a pickle as .npy", payload, ".npy", load_table, None),
        Case(
            "data: object X in .npz",
            zip_of({"X.npy": objects, "y.npy": npy_bytes(np.zeros(1))}),
            ".npz",
            load_table,
            "pickled",
        ),  # fmt: skip
        Case("features: object .npy", objects, ".npy", load_features, "pickled"),
        Case(
            "checkpoint: object state",
            zip_of(model_members(**{"optimizer.m.npy": objects})),
            ".npz",
            load_checkpoint,
            "pickled",
        ),  # fmt: skip
    ]


# ------------------------------------------------------------------------------ data files


def csv_cases() -> list[Case]:
    def case(name, text, match, **kwargs):
        content = text if isinstance(text, bytes) else text.encode()
        return Case(name, content, ".csv", lambda p: load_table(p, **kwargs), match)

    rng = np.random.default_rng(0)
    return [
        case("latin-1 header", b"caf\xe9,y\n1,0\n", r"line 1: not UTF-8 text \(byte 0xe9\)"),
        case("latin-1 cell", b"a,y\n1,0\n2,\xe9\n", "line 3: not UTF-8"),
        case("NaN cell", "a,b,y\n1,2,0\n3,nan,1\n", r"line 3, column 'b': nan is not a finite"),
        case("two NaN cells", "a,y\nnan,0\nNaN,1\n", r"line 2, column 'a'.*2 such cells"),
        case("infinite cell", "a,y\n-inf,0\n", r"line 2, column 'a': -inf is not a finite"),
        case("1e999", "a,y\n1e999,0\n", r"line 2, column 'a': inf is not a finite"),
        case(
            "1e308 as float32",
            "a,y\n1e308,0\n",
            r"line 2, column 'a': 1e\+308 overflows float32",
            dtype="float32",
        ),  # fmt: skip
        case("NaN target", "a,y\n1,nan\n", r"line 2, column 'y'"),
        case("one column", "y\n1\n2\n", "no feature columns"),
        case("ragged", "a,b,y\n1,2,3\n1,2\n", "line 3 has 2 cells"),
        case("words", "a,y\n1,two\n", "line 2, column 'y': 'two' is not a number"),
        case("NUL bytes", b"a,y\n1\x00,0\n", None),
        case("random bytes", rng.bytes(2000), None),
        case("only a header", "a,y\n", "no data rows"),
        case("empty", "", "empty file"),
        case("a huge field", "a,y\n" + "1" * 200_000 + ",0\n", None),
    ]


def npy_cases() -> list[Case]:
    good = npy_bytes(np.ones((4, 3)))
    header = "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}"

    def case(name, content, match, load=load_table):
        return Case(name, content, ".npy", load, match)

    return [
        *[case(f"npy cut-{n}", good[:n], None) for n in range(0, len(good), 7)],
        case("shape (2^40, 2)", raw_npy(header.format("<f8", "(1099511627776, 2)")), "declares"),
        case("negative shape", raw_npy(header.format("<f8", "(-1, 2)")), None),
        case("shape not ints", raw_npy(header.format("<f8", "(2.5, 2)")), None),
        case("descr object", raw_npy(header.format("|O", "(1, 2)"), b"\x80\x04N."), "pickled"),
        case(
            "descr nested objects",
            raw_npy("{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (1,), }"),
            "pickled",
        ),
        case("header not a dict", raw_npy("__import__('os').system('false')"), None),
        case("header 20 kB", raw_npy("{" + " " * 20_000 + "}"), None),
        case("version 9.9", b"\x93NUMPY\x09\x09" + good[8:], None),
        case("trailing bytes", good + b"\x00" * 8, "declares"),
        case("NaN cell", npy_bytes(np.array([[1.0, np.nan, 0.0]])), r"row 0, column 1: nan"),
        case(
            "features: 2^40",
            raw_npy(header.format("<f8", "(1099511627776,)")),
            "declares",
            load_features,
        ),  # fmt: skip
        case(
            "features: NaN",
            npy_bytes(np.array([1.0, np.inf])),
            r"row 1, column 0: inf",
            load_features,
        ),  # fmt: skip
    ]


def npz_data_cases() -> list[Case]:
    X, y = npy_bytes(np.ones((3, 2))), npy_bytes(np.zeros(3))
    huge = raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 2), }")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("y.npy", y)
        with archive.open("X.npy", "w", force_zip64=True) as member:
            member.write(
                raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (524288, 4), }")
            )
            for _ in range(16):
                member.write(bytes(1 << 20))
    return [
        Case("npz: X header 2^40", zip_of({"X.npy": huge, "y.npy": y}), ".npz", load_table, None),
        Case("npz: X raw bytes", zip_of({"X.npy": b"x", "y.npy": y}), ".npz", load_table, None),
        Case(
            "npz: bzip2 member",
            zip_of({"X.npy": X, "y.npy": y}, zipfile.ZIP_BZIP2),
            ".npz",
            load_table,
            "compression method 12",
        ),  # fmt: skip
        Case("npz: 16 MiB bomb", buffer.getvalue(), ".npz", load_table, "decompression bomb"),
        Case(
            "npz: NaN in y",
            zip_of({"X.npy": X, "y.npy": npy_bytes(np.array([0, np.nan, 1]))}),
            ".npz",
            load_table,
            r"array 'y', row 1, column 0: nan",
        ),  # fmt: skip
        Case("npz features: bomb", buffer.getvalue(), ".npz", load_features, "bomb"),
    ]


def idx_cases() -> list[Case]:
    import gzip

    def case(name, content, match, suffix=""):
        return Case(name, content, suffix, read_idx, match)

    images = struct.pack(">IIII", 0x803, 2, 28, 28) + bytes(2 * 784)
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = [squeeze.compress(struct.pack(">IIII", 0x803, 21400, 28, 28))]
    body += [squeeze.compress(bytes(784 * 100)) for _ in range(214)]
    bomb = b"".join(body) + squeeze.flush()
    packed = gzip.compress(images)
    return [
        case("declares 2^32-1 images", struct.pack(">IIII", 0x803, 2**32 - 1, 28, 28), "truncated"),
        case("255 dimensions", struct.pack(">I", 0x8FF) + b"\xff" * 40, "truncated"),
        case("255 huge dimensions", struct.pack(">I", 0x8FF) + b"\xff" * 1020 + b"\x00", "trunc"),
        case("bad magic", b"\x12\x34\x08\x03" + images[4:], "magic"),
        case("gzip bomb 16 MiB", bomb, "decompression bomb", ".gz"),
        case("gzip truncated", packed[:-30], "gzip"),
        case("gzip bad CRC", packed[:-8] + b"\x00" * 4 + packed[-4:], "gzip"),
        case("gzip trailing junk", packed + b"junk", "gzip"),
        case("gzip of nothing", gzip.compress(b""), "truncated"),
        *[case(f"gzip cut-{n}", packed[:n], None) for n in range(2, len(packed), 5)],
    ]
