"""mlpnet's file format: one ``.npz`` archive holding θ, a JSON description and a version.

An mlpnet file is a NumPy ``.npz`` (a zip of ``.npy`` arrays) with

- ``theta``: the flat parameter vector θ (1-D, float32 or float64), laid out as in eq. (6.17);
- ``spec``: a JSON object as a 0-d string array (for a network: sizes, activations, dtype, …);
- ``format_version``: the integer `FORMAT_VERSION`; ``library``: the marker string ``"mlpnet"``;
- optionally more numeric arrays under other names (a checkpoint's optimizer state, say).

No array is ever pickled, and reading never unpickles (``allow_pickle=False``). Writing is atomic:
the archive goes to a temporary file beside the target, is flushed to disk and then renamed over
it, so a reader sees the old file or the new one, never half of one. `Network.save` and
`mlpnet.load` are built on `save_npz` and `load_npz`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["FORMAT_VERSION", "LIBRARY_MARKER", "Saved", "load_npz", "read_npz", "save_npz"]

FORMAT_VERSION = 1
"""Version of the layout written by `save_npz`; `load_npz` refuses any other."""
LIBRARY_MARKER = "mlpnet"
"""Value of the ``library`` array that tells an mlpnet file from any other ``.npz``."""

_RESERVED = ("theta", "spec", "format_version", "library")


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
    mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
    fh = tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False)
    try:
        with fh:
            np.savez(fh, **arrays)  # to an open file, so NumPy appends no ".npz" to the name
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(fh.name, mode)
        os.replace(fh.name, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(fh.name)
        raise
    _fsync_directory(path.parent)


def load_npz(path: str | os.PathLike[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Read θ and the spec from an mlpnet file written by `save_npz`.

    Parameters
    ----------
    path : str or path-like
        The file.

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
        Naming the file and the problem: not a zip archive, truncated or corrupt, a ``.npz`` not
        written by mlpnet, an unknown format version, a missing array, a spec that is not a JSON
        object, or a θ that is not a 1-D float array. Nothing is ever unpickled.
    """
    saved = read_npz(path)
    return saved.theta, saved.spec


def read_npz(path: str | os.PathLike[str]) -> Saved:
    """Read an mlpnet file completely: θ, the spec and any extra arrays (see `load_npz`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no mlpnet file at {path}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("a single .npy array, not an .npz archive")
        with loaded:
            arrays = {name: loaded[name] for name in loaded.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        reason = _why_unreadable(exc)
        raise ValueError(f"{path}: not a readable mlpnet file ({reason})") from exc
    if _scalar(arrays.get("library")) != LIBRARY_MARKER:
        raise ValueError(
            f"{path}: not an mlpnet file (a .npz without the 'library' marker; it holds "
            f"{', '.join(map(repr, sorted(arrays))) or 'no arrays'})"
        )
    missing = [name for name in _RESERVED if name not in arrays]
    if missing:
        raise ValueError(f"{path}: damaged mlpnet file, missing {', '.join(missing)}")
    version = _scalar(arrays.pop("format_version"))
    if type(version) is not int or version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: unknown mlpnet format version {version!r} "
            f"(this mlpnet reads version {FORMAT_VERSION})"
        )
    arrays.pop("library")
    spec_text = _scalar(arrays.pop("spec"))
    try:
        spec = json.loads(spec_text) if isinstance(spec_text, str) else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: spec is not valid JSON ({exc})") from exc
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: spec must be a JSON object, got {spec_text!r:.80}")
    theta = _check_theta(arrays.pop("theta"), f"{path}: theta")
    return Saved(theta, spec, arrays)


def _why_unreadable(exc: BaseException) -> str:
    """Say in words why `np.load` failed."""
    if isinstance(exc, zipfile.BadZipFile):
        return f"truncated or corrupt zip archive: {exc}"
    if isinstance(exc, EOFError):
        return "empty or truncated file"
    if "pickle" in str(exc):  # np.load takes bytes that are neither zip nor .npy for a pickle
        return "not a NumPy .npz archive, and pickled data is never loaded"
    return str(exc)


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


def _default_mode() -> int:
    """Return the mode a new file gets here (0o666 less the umask), as `open` would give it."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows opening a directory (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
