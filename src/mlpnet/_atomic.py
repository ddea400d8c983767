"""Atomic file writes, and the clean-up of what interrupted writes left behind.

A file is written to a temporary beside its target, flushed to disk and renamed over the target,
so a reader sees the old file or the new one, never half of one, whenever the writer is killed.
A writer killed outright (SIGKILL, power loss) cannot remove its temporary; the next successful
write to the same path does. Temporaries are named ``.<name>.<host>.<pid>.<random>.part``, and
only those of this host whose process no longer exists are removed: a live writer (another
process saving to the same path at the same moment) keeps its file. The pid is checked rather than
taking a lock because it needs no lock file of its own and cannot race: a writer's pid is alive for
as long as its temporary can be in use. A pid reused by another process only keeps a dead
temporary until that process ends (it is removed by a later save); the host name keeps machines
that share a folder (NFS) off each other's files. On Windows, where probing a pid is not harmless,
nothing is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_file", "leftovers", "temporary_prefix"]

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def temporary_prefix(path: Path, pid: int | None = None) -> str:
    """``.<name>.<host>.<pid>.`` — the start of this process's temporaries for `path`."""
    return f".{path.name}.{_HOST}.{os.getpid() if pid is None else pid}."


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces `path` atomically once the ``with`` block completes.

    An existing target keeps its permissions; a new one gets the umask's. On any exception
    (KeyboardInterrupt included) the temporary is removed and `path` is untouched. After a
    successful replace, temporaries left beside `path` by dead writers are removed.
    """
    mode = path.stat().st_mode & 0o7777 if path.exists() else _default_mode()
    fd, name = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, mode)
        os.replace(name, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    _fsync_directory(path.parent)
    for leftover in leftovers(path):
        with contextlib.suppress(OSError):
            os.unlink(leftover)


def leftovers(path: Path) -> list[Path]:
    """Temporaries beside `path` left by writers on this host that are no longer running."""
    if os.name != "posix":
        return []
    start = f".{path.name}.{_HOST}."
    found = []
    with contextlib.suppress(OSError), os.scandir(path.parent) as entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(start) and name.endswith(".part")):
                continue
            pid, dot, rest = name[len(start) : -len(".part")].partition(".")
            if dot and pid.isdigit() and "." not in rest and not _running(int(pid)):
                found.append(Path(entry.path))
    return found


def _running(pid: int) -> bool:
    """Whether process `pid` exists (a zombie counts until its parent reaps it)."""
    if pid == os.getpid():
        return True  # another thread of ours may be writing; our own failures clean up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


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
