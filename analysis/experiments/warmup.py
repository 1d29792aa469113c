"""The compiled engine on a new machine: whether numba's cache already holds it, and
compiling everything the commands use ahead of time (``dipsim warmup``).

The rules are compiled by numba on first use and cached on disk (``cache=True``): beside
the code in ``__pycache__``, in a per-user cache folder when that one cannot be written,
or under ``NUMBA_CACHE_DIR`` when it is set. Compiling takes 10 to 20 s; loading the
cached code takes well under a second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The function whose compilation is most of the wait for each engine: the batch engine's
# loop over many negotiations, and the move that calls every strategy in the Mesa model.
ENTRY = {"batch": "play", "mesa": "decide"}
COMPILE_SECONDS = "10 to 20 s"  # measured cold on a two-core machine: 7 to 20 s, by its load


def _dispatchers() -> Iterator:
    """The cached numba functions of the loaded dipsim.sim modules."""
    from numba.core.registry import CPUDispatcher

    for name, module in list(sys.modules.items()):
        if name.startswith("dipsim.sim") and module is not None:
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher) and obj.__module__ == name and obj._cache is not None:
                    yield obj


def compiled(engine: str) -> bool | None:
    """Whether numba's cache holds the engine's main function compiled for this machine
    (its index file lists an entry for this CPU, for the current source and numba); None
    if numba's cache cannot be inspected."""
    from dipsim.sim import protocol

    dispatcher = getattr(protocol, ENTRY[engine])
    try:
        # numba's own reading of the index (numba/core/caching.py): an empty dict when the
        # file is missing, or written for another version of the source or of numba
        index = dispatcher._cache._cache_file._load_index()
        machine = dispatcher.targetctx.codegen().magic_tuple()
    except Exception:
        return None
    return any(key[1] == machine for key in index)


def cache_folder() -> str | None:
    """Where numba caches the engine (the batch engine's main function's folder)."""
    from dipsim.sim import protocol

    try:
        return protocol.play._cache._cache_path
    except AttributeError:
        return None


@dataclass
class Step:
    what: str  # what was compiled, and for which commands
    compiled: int  # functions compiled (not in the cache before)
    loaded: int  # functions loaded from the cache
    seconds: float


def _counts() -> dict[int, tuple[int, int]]:
    """Each cached function's compilations and loads from the cache so far (numba's stats)."""
    return {id(d): (sum(d.stats.cache_misses.values()), sum(d.stats.cache_hits.values())) for d in _dispatchers()}


def _batch() -> None:
    """The batch engine as run and compare call it (with the round record), as backcast
    and explain call it (outcomes only) and on a sweep's per-run settings."""
    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.jobs import simulate_scenario, with_run_settings
    from dipsim.analysis.experiments.sweep import run_chunk
    from dipsim.sim import scenario
    from dipsim.sim.preferences import Tables
    from dipsim.sim.run import simulate

    spec = with_run_settings(scenario.load("baseline"), 64, 1)
    with tempfile.TemporaryDirectory() as folder:  # it writes its tables as it plays
        simulate_scenario(spec, Path(folder), engine="batch")
    simulate(Tables.from_scenarios([spec]), np.arange(64, dtype=np.uint64), rounds=False)
    run_chunk(sweep_spec.load("pressure_vs_opposition"), 0, 64)


def _mesa() -> None:
    """The Mesa model's agents calling the rules one at a time."""
    from dipsim.analysis.experiments.jobs import simulate_scenario, with_run_settings
    from dipsim.sim import scenario

    # a scenario in which the governments often agree, so that ratification is played too
    with tempfile.TemporaryDirectory() as folder:
        simulate_scenario(with_run_settings(scenario.load("us_disengages"), 40, 1), Path(folder), engine="mesa")


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("batch engine (run, compare, backcast, sweep, explain)", _batch),
    ("Mesa model (run --engine mesa, explain, app)", _mesa),
)


def measure(what: str, work: Callable[[], None]) -> Step:
    """Do one step of the warm-up; how many functions it compiled and loaded from the
    cache, and how long it took."""
    before = _counts()
    t = time.perf_counter()
    work()
    seconds = time.perf_counter() - t
    after = _counts()
    was = lambda key: before.get(key, (0, 0))  # noqa: E731
    compiled = sum(1 for key, (misses, _) in after.items() if misses > was(key)[0])
    loaded = sum(1 for key, (_, hits) in after.items() if hits > was(key)[1])
    return Step(what, compiled, loaded, seconds)
