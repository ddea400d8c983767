"""Fetch MNIST's standard files from public mirrors, checked against their published checksums.

MNIST (LeCun, Cortes and Burges) is 70,000 handwritten digits, 28×28 grey images: 60,000 for
training, 10,000 for testing, in four gzip-compressed IDX files. `download_mnist` fetches the files
of a split that a folder lacks, trying each mirror of `mnist_mirrors` in turn
(``$MLPNET_MNIST_URL``, one base URL, replaces the list), and keeps a file only when its size and
SHA-256 sum are those published in `PUBLISHED`. Each file is streamed into a temporary file
beside its destination and moved into place with `os.replace`, so a folder never holds half a
file. The default folder is `mnist_cache`: ``$XDG_CACHE_HOME/mlpnet/mnist``, or
``~/.cache/mlpnet/mnist``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["FILES", "MIRRORS", "PUBLISHED", "download_mnist", "mnist_cache", "mnist_mirrors"]

URL_VARIABLE = "MLPNET_MNIST_URL"
"""Environment variable holding one base URL that replaces `MIRRORS` (e.g. a local copy)."""

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
    "http://yann.lecun.com/exdb/mnist/",  # the original site
)
"""Base URLs tried in order; each serves the four files under their standard names."""

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
"""The images and labels files of each split, as the mirrors name them."""

PUBLISHED = {
    "train-images-idx3-ubyte.gz": (
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}
"""Size in bytes and SHA-256 of each file as the mirrors serve it (the files torchvision checks
by MD5 f68b3c2d…, d53e105e…, 9fb629c4…, ec29112d…, and TensorFlow Datasets by these SHA-256)."""

_CHUNK = 1 << 16
_TIMEOUT = 30.0
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


def mnist_cache() -> Path:
    """The folder downloads go to by default (it need not exist).

    ``$XDG_CACHE_HOME/mlpnet/mnist``, or ``~/.cache/mlpnet/mnist`` when that variable is unset.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlpnet" / "mnist"


def mnist_mirrors() -> list[str]:
    """The base URLs to try: ``$MLPNET_MNIST_URL`` alone when set, else `MIRRORS`."""
    override = os.environ.get(URL_VARIABLE, "").strip()
    urls = [override] if override else list(MIRRORS)
    return [url if url.endswith("/") else url + "/" for url in urls]


def download_mnist(
    directory: str | os.PathLike[str] | None = None,
    split: str = "all",
    *,
    progress: bool | None = None,
    log: Callable[[str], Any] | None = None,
) -> Path:
    """Download the files of `split` that `directory` lacks (with or without ``.gz``).

    Parameters
    ----------
    directory : str or path-like, optional
        Where the files go, created if needed; by default `mnist_cache`.
    split : {"all", "train", "test"}, default "all"
        Which files: the 60,000 training images and labels, the 10,000 test ones, or all four.
    progress : bool or None, default None
        Show a tqdm progress bar per file; None shows it when tqdm is installed and stderr is a
        terminal.
    log : callable, optional
        Receives one line per file fetched and per mirror that failed; by default they are written
        to stderr.

    Returns
    -------
    pathlib.Path
        The folder, now holding the split's files.

    Raises
    ------
    ValueError
        Naming the file and every mirror tried with its failure (network error, HTTP status, size
        or checksum mismatch), when no mirror delivered the published file; nothing of that file
        is left behind (files completed before it are kept).
    """
    if split not in ("all", *FILES):
        raise ValueError(f"unknown MNIST split {split!r}; choose 'train', 'test' or 'all'")
    folder = mnist_cache() if directory is None else Path(directory)
    say = log if log is not None else _stderr
    names = [name for part, pair in FILES.items() if split in ("all", part) for name in pair]
    missing = [name for name in names if not _present(folder, name)]
    if not missing:
        return folder
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for name in missing:
            _fetch(name, folder, mnist_mirrors(), progress, say)
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()  # a folder made for nothing goes too
        raise
    return folder


def _present(folder: Path, name: str) -> bool:
    """Whether `folder` holds `name` (``….gz``) or its uncompressed form."""
    return (folder / name).is_file() or (folder / name.removesuffix(".gz")).is_file()


def _fetch(
    name: str, folder: Path, mirrors: list[str], progress: bool | None, say: Callable[[str], Any]
) -> None:
    """Try each mirror for `name` until one delivers the published bytes; else ValueError."""
    size, sha256 = PUBLISHED[name]
    failures = []
    for base in mirrors:
        url = base + name
        fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                failure = _stream(url, out, name, size, sha256, progress)
            if failure is None:
                os.replace(part, folder / name)
                say(f"downloaded {name} ({size:,} bytes, SHA-256 checked) from {url}")
                return
        finally:
            if os.path.exists(part):
                os.unlink(part)
        failures.append(f"{url}: {failure}")
        say(f"mirror failed: {url}: {failure}")
    tried = "; ".join(failures) or "no mirrors to try"
    raise ValueError(
        f"could not download MNIST file {name} into {folder}: {tried}. Set ${URL_VARIABLE} to "
        f"another mirror's base URL, or copy {name} into {folder} yourself"
    )


def _stream(
    url: str, out: BinaryIO, name: str, size: int, sha256: str, progress: bool | None
) -> str | None:
    """Copy `url` into `out`, hashing as it goes; the reason it failed, or None if all is well.

    None means `out` holds the published file. Errors writing `out` (a full disk) are raised, not
    reported as a mirror's failure.
    """
    digest, received = hashlib.sha256(), 0
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "mlpnet"})
        response = urllib.request.urlopen(request, timeout=_TIMEOUT)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}"
    except _NETWORK_ERRORS as exc:
        return _reason(exc)
    bar = _progress_bar(progress, name, size)
    try:
        with response:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except _NETWORK_ERRORS as exc:
                    return f"download broke off after {received:,} bytes ({_reason(exc)})"
                if not chunk:
                    break
                received += len(chunk)
                if received > size:
                    return f"larger than the published {size:,} bytes"
                digest.update(chunk)
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    if received != size:
        return f"{received:,} bytes, not the published {size:,}"
    if digest.hexdigest() != sha256:
        return f"checksum mismatch: SHA-256 {digest.hexdigest()}, published {sha256}"
    return None


def _reason(exc: BaseException) -> str:
    """A network error in a few words: the URLError's reason, else the exception's message."""
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


def _progress_bar(progress: bool | None, name: str, size: int) -> Any:
    """A tqdm bar in bytes, or None (not wanted, or tqdm not installed)."""
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False)


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)
