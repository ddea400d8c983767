"""Reading ``.npz`` and ``.npy`` files that may be hostile: every header checked before allocating.

`numpy.load` trusts what a file declares: a zip entry's compression method, an ``.npy`` header's
shape. A 2 KB file can then ask for terabytes, hand over a decompression bomb, or raise exceptions
(``NotImplementedError``, ``RuntimeError``, ``AttributeError``) that say nothing about the file.
Here the zip central directory, each member's local header and each member's ``.npy`` header are
read and checked first; an array is allocated only once its size is known to be what the zip entry
declares, and that declared size is bounded by the compressed size (`max_ratio`); the data are then
read (and inflated) in bounded chunks. Memory and time are in proportion to the file. Every failure
is a `ValueError` naming the file and the problem; nothing is ever unpickled.
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

__all__ = ["Archive", "NpyHeader", "read_npy"]

CHUNK = 1 << 20
"""Bytes read (and inflated) at a time."""
SLACK = 1 << 16
"""Declared sizes may exceed ``max_ratio`` × compressed size by this much (tiny members)."""
MAX_ZIP_VERSION = 63
"""Highest "version needed to extract" (and "made by") that zipfile itself reads (6.3)."""
_ALLOWED_FLAGS = 0x0002 | 0x0004 | 0x0008 | 0x0800  # deflate level, data descriptor, UTF-8 name
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_MAX_HEADER = 10_000  # numpy's own default limit on an .npy header's length
# What the standard library raises on bytes that are not what they claim to be. Caught only around
# calls that parse the file, so a bug elsewhere still shows as one.
_PARSE_ERRORS = (
    ValueError,
    TypeError,
    SyntaxError,
    OSError,
    EOFError,
    KeyError,
    IndexError,
    OverflowError,
    RecursionError,
    NotImplementedError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)


class NpyHeader(NamedTuple):
    """What an ``.npy`` header declares."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    length: int
    """Bytes of the header (magic, version and dictionary)."""

    @property
    def nbytes(self) -> int:
        """Bytes of data the header promises (Python integers: no overflow)."""
        count = 1
        for n in self.shape:
            count *= n
        return count * self.dtype.itemsize


def read_npy_header(fp: IO[bytes], what: str) -> NpyHeader:
    """Read and check an ``.npy`` header from a stream (numpy's own reader, no pickle).

    Raises
    ------
    ValueError
        "`what`: …" for a missing magic string, an unknown version, a malformed dictionary, a
        negative size or a dtype holding Python objects (pickles).
    """
    start = fp.tell()
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp, _MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp, _MAX_HEADER)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{what}: not a valid .npy array ({_one_line(exc)})") from None
    if dtype.hasobject:
        raise ValueError(
            f"{what}: holds Python objects (dtype {dtype}); pickled data is never loaded"
        )
    if any(n < 0 for n in shape):
        raise ValueError(f"{what}: negative size in shape {shape}")
    length = fp.tell() - start
    return NpyHeader(tuple(int(n) for n in shape), bool(fortran), dtype, length)


def read_body(fp: IO[bytes], header: NpyHeader, what: str) -> np.ndarray:
    """Read the data `header` declares, `CHUNK` bytes at a time, into a new array."""
    flat = np.empty(header.nbytes // max(header.dtype.itemsize, 1), dtype=header.dtype)
    buffer = memoryview(flat.view(np.uint8).reshape(-1)) if flat.size else memoryview(b"")
    done = 0
    try:
        while done < len(buffer):
            chunk = fp.read(min(CHUNK, len(buffer) - done))
            if not chunk:
                raise ValueError(
                    f"truncated: {header.nbytes:,} bytes of data declared, {done:,} found"
                )
            buffer[done : done + len(chunk)] = chunk
            done += len(chunk)
        if fp.read(1):
            raise ValueError(f"more data than the header's shape {header.shape} declares")
    except _PARSE_ERRORS as exc:
        raise ValueError(f"{what}: {_one_line(exc)}") from None
    if header.fortran_order:
        return flat.reshape(header.shape[::-1]).T
    return flat.reshape(header.shape)


def read_npy(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an ``.npy`` file whose size must be exactly what its header declares.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file: a bad header, object dtype, or a size other than the declared one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no file at {path}")
    size = path.stat().st_size
    with path.open("rb") as fh:
        if fh.read(2) == b"PK":
            raise ValueError(f"{path}: an .npz archive, not an .npy array; rename it to .npz")
        fh.seek(0)
        header = read_npy_header(fh, str(path))
        if header.length + header.nbytes != size:
            raise ValueError(
                f"{path}: the .npy header declares shape {header.shape} of {header.dtype} "
                f"({header.nbytes:,} bytes of data) but the file holds {size - header.length:,}"
            )
        return read_body(fh, header, str(path))


class Archive:
    """An ``.npz`` (zip of ``.npy`` members) opened after checking its central directory.

    Parameters
    ----------
    path : str or path-like
        The file.
    max_ratio : float
        Largest allowed uncompressed/compressed size of a deflated member (and of the whole
        archive); beyond it the file is refused as a decompression bomb.
    max_members : int
        Most members allowed.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file: not a zip archive, truncated, a compression method other than stored or
        deflated, encryption, an unknown zip version, sizes that do not fit in the file, duplicate
        or non-``.npy`` member names, too many members, a ratio above `max_ratio`; any member
        whose ``.npy`` header is malformed, declares Python objects or a size other than its zip
        entry's.

    Attributes
    ----------
    members : dict of str to zipfile.ZipInfo
        The checked zip entries by array name (without ``.npy``).
    headers : dict of str to NpyHeader
        Every member's checked ``.npy`` header.
    """

    def __init__(self, path: str | os.PathLike[str], *, max_ratio: float, max_members: int):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no file at {self.path}")
        self.size = self.path.stat().st_size
        if self.size == 0:
            raise ValueError(f"{self.path}: empty or truncated file")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except _PARSE_ERRORS as exc:
            raise ValueError(f"{self.path}: {_why_not_zip(self.path, exc)}") from None
        try:
            self.members = self._check_directory(max_ratio, max_members)
            self.headers = {name: self.header(name) for name in self.members}
        except BaseException:
            self._zip.close()
            raise

    def _check_directory(self, max_ratio: float, max_members: int) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > max_members:
            self._fail(f"{len(infos)} members, more than the {max_members} allowed")
        members: dict[str, zipfile.ZipInfo] = {}
        declared = 0
        for info in infos:
            name = info.filename
            where = f"member {name!r}"
            if not name.endswith(".npy") or len(name) == 4:
                self._fail(f"{where} is not an .npy array")
            if name[:-4] in members:
                self._fail(f"two members named {name!r}")
            if info.compress_type not in _METHODS:
                self._fail(
                    f"{where} uses compression method {info.compress_type}; "
                    "only stored (0) and deflated (8) are read"
                )
            if info.flag_bits & 0x1:
                self._fail(f"{where} is encrypted")
            if info.flag_bits & ~_ALLOWED_FLAGS:
                self._fail(f"{where} has unsupported zip flags 0x{info.flag_bits:04x}")
            for field in ("extract_version", "create_version"):
                version = getattr(info, field)
                if version > MAX_ZIP_VERSION:
                    self._fail(
                        f"{where} declares zip version {version // 10}.{version % 10} "
                        f"({field.replace('_', ' ')}); at most 6.3 is read"
                    )
            if info.header_offset + 30 + len(name) + info.compress_size > self.size:
                self._fail(f"{where} declares {info.compress_size:,} bytes beyond the end of file")
            if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
                self._fail(
                    f"{where} is stored but declares {info.file_size:,} bytes from "
                    f"{info.compress_size:,}"
                )
            if info.file_size > max_ratio * info.compress_size + SLACK:
                self._fail(
                    f"{where} declares {info.file_size:,} bytes from {info.compress_size:,} "
                    f"compressed, a ratio above {max_ratio:g}:1 (a decompression bomb?)"
                )
            declared += info.file_size
            members[name[:-4]] = info
        if declared > max_ratio * self.size + SLACK:
            self._fail(
                f"members declare {declared:,} bytes in all from a {self.size:,}-byte file, "
                f"a ratio above {max_ratio:g}:1 (a decompression bomb?)"
            )
        return members

    def _fail(self, problem: str) -> None:
        raise ValueError(f"{self.path}: {problem}")

    def header(self, name: str) -> NpyHeader:
        """The ``.npy`` header of member `name`, checked against the zip entry's declared size.

        All members' headers are read when the archive is opened (`headers`).
        """
        with self._open(name) as fp:
            return self._header(name, fp)

    def _header(self, name: str, fp: IO[bytes]) -> NpyHeader:
        info = self.members[name]
        header = read_npy_header(fp, f"{self.path}: member {info.filename!r}")
        if header.length + header.nbytes != info.file_size:
            self._fail(
                f"member {info.filename!r}: its .npy header declares shape {header.shape} of "
                f"{header.dtype} ({header.nbytes:,} bytes) but the zip entry holds "
                f"{info.file_size - header.length:,}"
            )
        return header

    def read(self, name: str, kinds: str) -> np.ndarray:
        """Read member `name` (without ``.npy``), refusing a dtype kind outside `kinds`."""
        header = self.headers[name]
        if header.dtype.kind not in kinds:
            self._fail(f"member {name!r} has dtype {header.dtype}, not one read here")
        with self._open(name) as fp:
            try:
                skipped = len(fp.read(header.length))  # checked when the archive was opened
            except _PARSE_ERRORS as exc:
                self._fail(f"member {name!r}: {_one_line(exc)}")
            if skipped != header.length:
                self._fail(f"member {name!r} is truncated")
            return read_body(fp, header, f"{self.path}: member {name!r}")

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self._zip.open(self.members[name])
        except _PARSE_ERRORS as exc:
            raise ValueError(f"{self.path}: member {name!r}: {_one_line(exc)}") from None

    def close(self) -> None:
        """Close the file."""
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _why_not_zip(path: Path, exc: BaseException) -> str:
    """Say in words why a file is not a readable zip archive."""
    with path.open("rb") as fh:
        head = fh.read(6)
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array, not an .npz archive"
    if isinstance(exc, NotImplementedError):  # zipfile refuses a feature (a version, say)
        return f"unsupported zip archive ({_one_line(exc)})"
    if head.startswith(b"PK"):
        return f"truncated or corrupt zip archive ({_one_line(exc)})"
    if head[:1] == b"\x80":
        return "not a NumPy .npz archive (it looks like a pickle, and pickled data is never loaded)"
    return "not a NumPy .npz archive (no zip directory found)"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
