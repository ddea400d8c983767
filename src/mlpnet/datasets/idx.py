"""The IDX file format of the MNIST distribution: read and write, gzip-compressed or not.

An IDX file is a 4-byte magic number ``0x0000TTDD`` (two zero bytes, a type code ``TT`` and the
number of dimensions ``DD``), then ``DD`` big-endian 32-bit sizes, then the items in C order,
big-endian. MNIST's images are ``0x00000803`` (unsigned bytes, 3-D: n × 28 × 28) and its labels
``0x00000801`` (unsigned bytes, 1-D). Every problem with a file is a `ValueError` that names it.
A gzip-compressed file is inflated only as far as its header declares, and only if that is at most
`MAX_RATIO` times the compressed size: a gzip bomb costs memory in proportion to the file.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "write_idx"]

IMAGES_MAGIC = 0x00000803
"""Magic number of an IDX file of unsigned-byte images, n × rows × columns."""
LABELS_MAGIC = 0x00000801
"""Magic number of an IDX file of unsigned-byte labels, n."""

# type code -> big-endian NumPy dtype, as in the format's description (LeCun et al.)
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}
_GZIP_SIGNATURE = b"\x1f\x8b"
MAX_RATIO = 100
"""Largest inflated/compressed size of a gzip-compressed IDX file (MNIST's are about 5:1)."""
_SLACK = 1 << 16
_CHUNK = 1 << 20


def read_idx(
    path: str | os.PathLike[str], *, magic: int | None = None, noun: str = "items"
) -> np.ndarray:
    """Read an IDX file into an array of its shape and (native byte order) type.

    Parameters
    ----------
    path : str or path-like
        The file; decompressed first when it starts with the gzip signature, whatever its name.
    magic : int, optional
        The magic number the file must have, e.g. `IMAGES_MAGIC`; by default any valid one.
    noun : str, default "items"
        What the first dimension counts ("images", "labels"), used in error messages.

    Returns
    -------
    numpy.ndarray
        A new, writable array of shape ``(d_1, …, d_D)`` as the header says.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        Naming the file, if it is not valid gzip, has a bad magic number, or holds fewer or more
        bytes than its header announces.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw.startswith(_GZIP_SIGNATURE):
        raw = _gunzip(path, raw)
    if len(raw) < 4:
        raise ValueError(f"{path}: truncated: {len(raw)} bytes, too short for an IDX header")
    (found,) = struct.unpack(">I", raw[:4])
    code, ndim = (found >> 8) & 0xFF, found & 0xFF
    if magic is not None and found != magic:
        raise ValueError(f"{path}: bad magic number 0x{found:08X}, expected 0x{magic:08X}")
    if found >> 16 != 0 or code not in _DTYPES:
        raise ValueError(f"{path}: bad magic number 0x{found:08X}, not an IDX file")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: truncated: the header announces {ndim} dimensions but the file ends "
            f"after {len(raw)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    held = len(raw) - header
    if held != expected:
        what = "truncated" if held < expected else "too long"
        per_item = expected // shape[0] if shape and shape[0] else 0
        whole = f" ({held // per_item:,} whole {noun})" if per_item and held < expected else ""
        raise ValueError(
            f"{path}: {what}: header says {_describe(shape, noun)} but file holds "
            f"{held:,} bytes of data{whole}, expected {expected:,}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write `array` as an IDX file, gzip-compressed when `path` ends in ``.gz``.

    Parameters
    ----------
    path : str or path-like
        Where to write; an existing file is replaced.
    array : array_like
        Of type uint8, int8, int16, int32, float32 or float64, with at most 255 dimensions each
        below 2³².

    Raises
    ------
    ValueError
        If the array's type or shape has no IDX encoding.
    """
    array = np.asarray(array)
    code = _CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        supported = ", ".join(str(d.newbyteorder("=")) for d in _DTYPES.values())
        raise ValueError(f"IDX cannot store dtype {array.dtype}; supported: {supported}")
    if array.ndim > 255 or any(size >= 2**32 for size in array.shape):
        raise ValueError(f"IDX cannot store an array of shape {array.shape}")
    header = struct.pack(f">I{array.ndim}I", (code << 8) | array.ndim, *array.shape)
    body = header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(body) if path.suffix == ".gz" else body)


def _gunzip(path: Path, raw: bytes) -> bytes:
    """Inflate the IDX header, then only the bytes it declares (and one more, to see excess)."""
    inflater = _Inflater(raw)
    try:
        head = inflater.read(4)
        ndim = head[3] if len(head) == 4 else 0
        head += inflater.read(4 * ndim)
        total = len(head)
        if total == 4 + 4 * ndim:
            item = _DTYPES[head[2]].itemsize if head[2] in _DTYPES else 1
            total += math.prod(struct.unpack(f">{ndim}I", head[4:])) * item
        if total > MAX_RATIO * len(raw) + _SLACK:
            raise ValueError(
                f"{path}: the IDX header declares {total:,} bytes from {len(raw):,} bytes of gzip, "
                f"a ratio above {MAX_RATIO}:1 (a decompression bomb?)"
            )
        return head + inflater.read(total - len(head) + 1)
    except (EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from None


class _Inflater:
    """gzip members (one or more, as `gzip.decompress` reads) inflated `_CHUNK` bytes at a time."""

    def __init__(self, raw: bytes) -> None:
        self.inflate = zlib.decompressobj(wbits=31)
        self.pending = raw

    def read(self, n: int) -> bytes:
        """Up to `n` inflated bytes (fewer only at the end of the data)."""
        out = bytearray()
        while len(out) < n:
            if self.inflate.eof:
                rest = self.inflate.unused_data
                if not rest.strip(b"\x00"):  # gzip allows zero padding after the last member
                    break
                if not rest.startswith(_GZIP_SIGNATURE):
                    raise EOFError("data after the end of the gzip stream")
                self.inflate, self.pending = zlib.decompressobj(wbits=31), rest
            before = len(self.pending)
            piece = self.inflate.decompress(self.pending, min(n - len(out), _CHUNK))
            self.pending = self.inflate.unconsumed_tail
            out += piece
            if not piece and len(self.pending) == before and not self.inflate.eof:
                raise EOFError("compressed data ended before the end-of-stream marker")
        return bytes(out)


def _describe(shape: tuple[int, ...], noun: str) -> str:
    """Say '10000 images of 28×28' for a header's shape."""
    if not shape:
        return "a single item"
    text = f"{shape[0]} {noun}"
    return text + (" of " + "×".join(map(str, shape[1:])) if len(shape) > 1 else "")
