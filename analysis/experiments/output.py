"""Writing results safely: into a temporary folder beside the target, moved into place
only when complete; an existing folder is replaced only when asked; one process writes
a folder at a time; a full disk is said plainly.

A process that writes ``DIR/NAME`` holds an exclusive lock (flock) on ``DIR/.NAME.lock``,
which holds its pid and command. The kernel releases the lock when the process ends,
however it ends (``kill -9`` included), so a killed process never leaves a folder
locked; a live one keeps any other out. Whoever takes the lock may therefore remove
the temporary folders ``DIR/.NAME.partial-*`` it finds: their writers are dead.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import tomli_w

# ENOSPC: the device is full; EDQUOT: the user's quota is.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class OutputError(Exception):
    """A results folder that cannot be written as asked."""


def check_target(target: Path, force: bool) -> None:
    """Fail before any work if the target exists (and --force was not given), is a file,
    or could not be made."""
    _check_existing(target, force)
    check_writable(target)


def _check_existing(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder; choose another --out")
    if target.exists() and not force:
        raise OutputError(f"{target}: already exists; pass --force to replace it, or choose another --out")


def check_writable(target: Path) -> None:
    """Fail before any work if ``target`` could not be made: the nearest folder on its way
    that exists must take a new folder (tried with an empty one, removed at once)."""
    target = Path(target)
    where = next(p for p in target.absolute().parents if p.exists())
    if not where.is_dir():
        raise OutputError(f"{target}: cannot be created: {where} is a file, not a folder; choose another --out")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".dipsim-probe-", dir=where))
    except OSError as exc:
        why = {
            errno.ENOENT: "this filesystem takes no new folders",
            errno.EROFS: "read-only filesystem",
            errno.EACCES: "permission denied",
            errno.EPERM: "not permitted",
        }.get(exc.errno, exc.strerror)
        raise OutputError(
            f"{target}: cannot be created: no new folder can be made in {where} ({why}); choose another --out"
        ) from None


def disk_full(exc: BaseException) -> bool:
    """Whether an error says that the disk (or the user's quota) is full. pyarrow's
    write errors are OSErrors that carry the errno too."""
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


def free_space(folder: Path) -> str:
    """The free space of the file system holding ``folder`` (or its nearest parent), as
    text: what is free now, after any clean-up, of its size."""
    path = Path(folder).absolute()
    while not path.exists():
        path = path.parent
    usage = shutil.disk_usage(path)
    return f"{_size(usage.free)} free now, of {_size(usage.total)}"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20)):
        if n >= 10 * scale:
            return f"{n / scale:,.0f} {unit}"
    return f"{n / 1024:,.0f} KiB"


@contextmanager
def writing(folder: Path, advice: str) -> Iterator[None]:
    """Turn a full disk while ``folder`` is written into one OutputError that names the
    folder and says what to do (``advice``). A folder that cannot be written at all is
    refused before any work (check_writable)."""
    try:
        yield
    except OSError as exc:
        if not disk_full(exc):
            raise
        raise OutputError(f"{folder}: no space left on the device ({free_space(folder)}); {advice}") from None


def _lock_file(target: Path) -> Path:
    target = Path(os.path.abspath(target))
    return target.with_name(f".{target.name}.lock")


@contextmanager
def exclusive(target: Path) -> Iterator[None]:
    """Hold ``target`` for this process while the block runs; if another live process
    holds it, raise OutputError naming the folder and that process. The parent folder
    must exist."""
    path = _lock_file(target)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "its pid not yet recorded"
            os.close(fd)
            raise OutputError(
                f"{target}: another dipsim process is writing it ({holder}); wait for it to finish "
                "or stop it, or choose another --out"
            ) from None
        # the last holder removes the file as it lets go: lock the file the name now
        # points to, not one that is gone
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {' '.join([Path(sys.argv[0]).name, *sys.argv[1:]])}\n".encode(), 0)
        yield
    finally:
        os.unlink(path)
        os.close(fd)


def _clean_leftovers(target: Path) -> None:
    """Remove what writers of ``target`` that died left beside it (the caller holds the
    lock, so no live process is writing them): temporary folders, and a folder moved
    aside to be replaced, which is put back if its replacement never arrived."""
    for partial in target.parent.glob(f".{target.name}.partial-*"):
        shutil.rmtree(partial, ignore_errors=True)
    for old in target.parent.glob(f".{target.name}.replaced-*"):
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(target)


@contextmanager
def fresh_folder(target: Path, force: bool) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it becomes ``target``. On any error
    nothing is left behind and an existing ``target`` is untouched; a full disk becomes
    an OutputError. Another process writing ``target`` at the same time is refused."""
    target = Path(target)
    check_target(target, force)
    created = []
    try:
        with writing(target, "nothing was written: free some space and run the command again"):
            for parent in reversed(target.parents):
                if not parent.exists():
                    parent.mkdir()
                    created.append(parent)
            with exclusive(target):
                _clean_leftovers(target)
                tmp = target.with_name(f".{target.name}.partial-{os.getpid()}")
                tmp.mkdir()  # as the user's umask allows, like the folder it becomes
                try:
                    yield tmp
                    _check_existing(target, force)  # made meanwhile by someone else? (no probe: the disk may be full)
                    _move_into_place(tmp, target)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
    except BaseException:
        for parent in reversed(created):
            with suppress(OSError):
                parent.rmdir()
        raise


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``, replacing it if it exists (moved aside first, so
    that a crash in between leaves it to be put back: _clean_leftovers)."""
    if target.exists():
        old = target.with_name(f".{target.name}.replaced-{os.getpid()}")
        target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old)
    else:
        tmp.rename(target)


def write_toml(data: dict, path: Path) -> None:
    with path.open("wb") as fh:
        tomli_w.dump(data, fh)
