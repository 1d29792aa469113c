"""The compiled engine's cache on disk, kept in step with the engine's source.

numba keeps each compiled function beside its file (``__pycache__``; under
NUMBA_CACHE_DIR if set; in a per-user folder where the package's folder cannot be
written) and reuses it while that file is unchanged. But a compiled rule contains the
functions it calls from other files (the protocol inlines the kernels, the strategies
and the valuation rules), so an edit to one of those, or an upgrade that changes one,
would leave the callers' cached code stale and the engine would silently play the old
rules. A stamp of every compiled source, kept beside the caches, catches it: where the
stamp differs, those caches are dropped before any is loaded, and the next use compiles
afresh. :func:`keep_fresh` runs once, when sim.kernels (which every compiled module
imports first) is imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

STAMP = "dipsim-engine.stamp"
HERE = Path(__file__).resolve().parent
COMPILED = re.compile(r"^from numba import .*\b(njit|vectorize)\b", re.M)


def sources() -> list[Path]:
    """The engine's compiled sources: every module of the model that numba compiles."""
    return sorted(p for p in HERE.rglob("*.py") if COMPILED.search(p.read_text(encoding="utf-8")))


def stamp(files: list[Path]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for p in files:
        digest.update(p.relative_to(HERE).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_folders(files: list[Path]) -> set[Path]:
    """Where numba keeps (or will keep) the caches of these files: the first of its
    locators that accepts each file, as numba chooses them."""
    from numba.core import caching

    locators = [
        getattr(caching, name)
        for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")
        if hasattr(caching, name)
    ]
    folders = set()
    for f in files:
        for locator in locators:
            found = locator.from_function(keep_fresh, str(f))
            if found is not None:
                folders.add(Path(found.get_cache_path()))
                break
        else:
            folders.add(f.parent / "__pycache__")
    return folders


def keep_fresh() -> list[Path]:
    """Drop the engine's cached compiled code wherever it was made from other sources than
    today's; returns the folders cleared (none, usually)."""
    files = sources()
    current = stamp(files)
    cleared = []
    for folder in cache_folders(files):
        mark = folder / STAMP
        try:
            if mark.read_text() == current:
                continue
        except OSError:
            pass
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for cached in [*folder.glob("*.nbi"), *folder.glob("*.nbc")]:
                cached.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{STAMP}.")
            with os.fdopen(fd, "w") as fh:
                fh.write(current)
            os.replace(tmp, mark)
            cleared.append(folder)
        except OSError:
            continue  # a folder numba cannot write either: it will not cache there
    return cleared
