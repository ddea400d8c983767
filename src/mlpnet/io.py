"""mlpnet's file format: one ``.npz`` archive holding θ, a JSON description and a version.

An mlpnet file is a NumPy ``.npz`` (a zip of ``.npy`` arrays) with

- ``theta``: the flat parameter vector θ (1-D, float32 or float64), laid out as in eq. (6.17);
- ``spec``: a JSON object as a 0-d string array (for a network: sizes, activations, dtype, …);
- ``format_version``: the integer `FORMAT_VERSION`; ``library``: the marker string ``"mlpnet"``;
- optionally more numeric arrays under other names (a checkpoint's optimizer state, say).

No array is ever pickled, and reading never unpickles: files are read by `mlpnet._archive`, which
checks every zip entry and ``.npy`` header before it allocates or inflates anything, so a hostile
file costs memory and time in proportion to its size and fails with a `ValueError` naming it.
Writing is atomic (`mlpnet._atomic`): the archive goes to a temporary file beside the target, is
flushed to disk and then renamed over it, so a reader sees the old file or the new one, never half
of one. `Network.save` and `mlpnet.load` are built on `save_npz` and `load_npz`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ._archive import Archive, NpyHeader
from ._atomic import atomic_file

__all__ = ["FORMAT_VERSION", "LIBRARY_MARKER", "Saved", "load_npz", "read_npz", "save_npz"]

FORMAT_VERSION = 1
"""Version of the layout written by `save_npz`; `load_npz` refuses any other."""
LIBRARY_MARKER = "mlpnet"
"""Value of the ``library`` array that tells an mlpnet file from any other ``.npz``."""

_RESERVED = ("theta", "spec", "format_version", "library")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
MAX_RATIO = 4
"""Largest uncompressed/compressed ratio of a deflated member: mlpnet itself stores (1:1) and θ of
real numbers deflates by about 1.1:1; above it a file is refused as a decompression bomb. Loading
a network then allocates at most about 6 × `MAX_RATIO` times the file's size (θ, the layers'
float64 buffers, the network's θ)."""
MAX_MEMBERS = 64
"""Most arrays an mlpnet file may hold (θ, spec, version, marker and an optimizer's state)."""
Expect = Callable[[dict[str, Any]], tuple[int, np.dtype]]


class Saved(NamedTuple):
    """Everything `read_npz` found in an mlpnet file."""

    theta: np.ndarray
    """θ as stored (float32 or float64, 1-D)."""
    spec: dict[str, Any]
    """The JSON description."""
    extra: dict[str, np.ndarray]
    """Any further arrays, by name."""


def save_npz(
    path: str | os.PathLike[str], theta: np.ndarray, spec: dict[str, Any], **extra: np.ndarray
) -> None:
    """Write θ, `spec` and any `extra` arrays atomically to one ``.npz`` file at exactly `path`.

    Parameters
    ----------
    path : str or path-like
        The file to write (no suffix is added); its directory must exist. An existing file is
        replaced only once the new one is completely on disk, and keeps its permissions.
    theta : array_like of shape (n_params,)
        The parameter vector, float32 or float64.
    spec : dict
        JSON-serialisable description (no NaN or infinity).
    **extra : array_like
        Further numeric arrays to store by name (not "theta", "spec", "format_version", "library").

    Raises
    ------
    ValueError
        If θ is not a 1-D float array, `spec` is not a JSON-serialisable dict, or an extra array is
        not numeric or uses a reserved name.
    FileNotFoundError
        If the directory of `path` does not exist.

    Notes
    -----
    A save killed at any moment leaves the old file or the new one at `path`; its temporary
    (``.<name>.<host>.<pid>.<random>.part``) is removed by the next successful save to `path`
    (see `mlpnet._atomic`).
    """
    path = Path(path)
    arrays = {
        "theta": _check_theta(np.asarray(theta), "theta"),
        "spec": np.array(_to_json(spec)),
        "format_version": np.array(FORMAT_VERSION),
        "library": np.array(LIBRARY_MARKER),
    }
    for name, value in extra.items():
        value = np.asarray(value)
        if name in _RESERVED:
            raise ValueError(f"extra array name {name!r} is reserved; reserved: {_RESERVED}")
        if value.dtype.kind not in "biufc":
            raise ValueError(f"extra array {name!r} must be numeric, got dtype {value.dtype}")
        arrays[name] = value
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save {path}: directory {path.parent} does not exist")
    with atomic_file(path) as fh:
        np.savez(fh, **arrays)  # to an open file, so NumPy appends no ".npz" to the name


def load_npz(
    path: str | os.PathLike[str], expect: Expect | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Read θ and the spec from an mlpnet file written by `save_npz`.

    Parameters
    ----------
    path : str or path-like
        The file.
    expect : callable, optional
        ``spec -> (n_params, dtype)``: the θ the spec implies (e.g. `mlpnet._spec.network_layout`),
        raising ValueError when the spec is unacceptable. θ must then have exactly that length
        and dtype, checked from its header before it is read.

    Returns
    -------
    theta : ndarray of shape (n_params,)
        float32 or float64, as saved.
    spec : dict
        The JSON description.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file and the problem: not a zip archive, truncated or corrupt, a damaged or
        hostile zip entry or ``.npy`` header (see `mlpnet._archive`), a ``.npz`` not written by
        mlpnet, an unknown format version, a missing array, a spec that is not a JSON object, a θ
        that is not a 1-D float array or not the one `expect` wants. Nothing is ever unpickled,
        and memory and time stay in proportion to the file's size.
    """
    saved = read_npz(path, expect)
    return saved.theta, saved.spec


def read_npz(path: str | os.PathLike[str], expect: Expect | None = None) -> Saved:
    """Read an mlpnet file completely: θ, the spec and any extra arrays (see `load_npz`)."""
    path = Path(path)
    with Archive(path, max_ratio=MAX_RATIO, max_members=MAX_MEMBERS) as archive:
        names = sorted(archive.members)
        if "library" not in names or _scalar(archive.read("library", "U")) != LIBRARY_MARKER:
            raise ValueError(
                f"{path}: not an mlpnet file (a .npz without the 'library' marker; it holds "
                f"{', '.join(map(repr, names)) or 'no arrays'})"
            )
        missing = [name for name in _RESERVED if name not in names]
        if missing:
            raise ValueError(f"{path}: damaged mlpnet file, missing {', '.join(missing)}")
        version = _scalar(archive.read("format_version", "biufcUS"))
        if type(version) is not int or version != FORMAT_VERSION:
            raise ValueError(
                f"{path}: unknown mlpnet format version {version!r} "
                f"(this mlpnet reads version {FORMAT_VERSION})"
            )
        spec = _read_spec(path, archive)
        header = archive.headers["theta"]
        _check_theta_header(header, f"{path}: theta")
        if expect is not None:
            _check_expected(path, header, spec, expect)
        theta = archive.read("theta", "f")
        extra = {name: archive.read(name, "biufc") for name in names if name not in _RESERVED}
    return Saved(theta.astype(theta.dtype.newbyteorder("="), copy=False), spec, extra)


def _read_spec(path: Path, archive: Archive) -> dict[str, Any]:
    """The JSON object of the ``spec`` member."""
    spec_text = _scalar(archive.read("spec", "biufcUS"))
    try:
        spec = json.loads(spec_text) if isinstance(spec_text, str) else None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, over-long ints, deep nesting
        raise ValueError(f"{path}: spec is not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: spec must be a JSON object, got {spec_text!r:.80}")
    return spec


def _check_theta_header(header: NpyHeader, what: str) -> None:
    """Refuse a θ header that does not declare a 1-D float32/float64 array."""
    if len(header.shape) != 1 or header.dtype.newbyteorder("=") not in _FLOATS:
        raise ValueError(
            f"{what} must be a 1-D float32 or float64 array, "
            f"got dtype {header.dtype} and shape {header.shape}"
        )


def _check_expected(path: Path, header: NpyHeader, spec: dict[str, Any], expect: Expect) -> None:
    """θ's declared length and dtype against what the spec implies (no silent cast)."""
    try:
        n_params, dtype = expect(spec)
    except ValueError as exc:
        raise ValueError(f"{path}: not a valid mlpnet network file ({exc})") from None
    found = (header.shape[0], header.dtype.newbyteorder("="))
    if found != (n_params, dtype):
        raise ValueError(
            f"{path}: theta holds {found[0]:,} {found[1]} values but the architecture in the "
            f"file needs {n_params:,} {dtype} values"
        )


def _check_theta(theta: np.ndarray, what: str) -> np.ndarray:
    """Refuse a θ that is not a 1-D float32/float64 array."""
    if theta.ndim != 1 or theta.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"{what} must be a 1-D float32 or float64 array, "
            f"got dtype {theta.dtype} and shape {theta.shape}"
        )
    return theta


def _to_json(spec: dict[str, Any]) -> str:
    """Encode `spec` as strict JSON, or raise ValueError saying why it cannot be."""
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a dict, got {type(spec).__name__}")
    try:
        return json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"spec is not JSON-serialisable: {exc}") from exc


def _scalar(array: np.ndarray | None) -> object:
    """Return the Python value of a 0-d array (str, int, …), or None for anything else."""
    if array is None or array.ndim != 0:
        return None
    return array.item()
