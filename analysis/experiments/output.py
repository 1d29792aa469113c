"""Writing results safely: into a temporary folder beside the target, moved into place
only when complete; an existing folder is replaced only when asked."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tomli_w


class OutputError(Exception):
    """A results folder that cannot be written as asked."""


def check_target(target: Path, force: bool) -> None:
    """Fail before any work if the target exists (and --force was not given) or is a file."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target}: exists and is not a folder; choose another --out")
    if target.exists() and not force:
        raise OutputError(f"{target}: already exists; pass --force to replace it, or choose another --out")
    check_writable(target)


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
        why = {errno.ENOENT: "this filesystem takes no new folders", errno.EROFS: "read-only filesystem",
               errno.EACCES: "permission denied", errno.EPERM: "not permitted"}.get(exc.errno, exc.strerror)
        raise OutputError(f"{target}: cannot be created: no new folder can be made in {where} ({why}); "
                          "choose another --out") from None


@contextmanager
def fresh_folder(target: Path, force: bool) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it becomes ``target``. On any error
    nothing is left behind and an existing ``target`` is untouched."""
    target = Path(target)
    check_target(target, force)
    created = []
    for parent in reversed(target.parents):
        if not parent.exists():
            parent.mkdir()
            created.append(parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield tmp
        check_target(target, force)
        if target.exists():
            old = target.with_name(f".{target.name}.replaced-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(created):
            try:
                parent.rmdir()
            except OSError:
                pass
        raise


def write_toml(data: dict, path: Path) -> None:
    with path.open("wb") as fh:
        tomli_w.dump(data, fh)
