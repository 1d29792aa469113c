"""Running a sweep: chunks of runs on workers, streamed to Parquet parts, resumable.

The runs of a sweep are numbered point by point (run = point x replications +
replicate) and cut into chunks of ``spec.chunk`` runs. A chunk is one task: a worker
computes its points' parameter values (analysis.design), its runs' seeds (a pure
function of root seed, point and replicate), plays them with the batch engine in
batches that fit the CPU caches and makes an Arrow table, written as
``runs/part-NNNNNN.parquet`` (to a temporary name, then renamed), so a part on disk is
always whole: by the worker itself on this machine, by the parent for Dask workers,
which may not share its disk. Resuming skips the chunks whose part exists; since nothing
about a run depends on which worker or chunk plays it, a resumed sweep's data equal
an uninterrupted one's. A run that raises is recorded with its error and the sweep
goes on.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dipsim.analysis.experiments.design import Design
from dipsim.analysis.experiments.environment import environment
from dipsim.analysis.experiments.output import exclusive, writing
from dipsim.analysis.experiments.sweep_spec import Sweep
from dipsim.sim.scenario import flatten
from dipsim.sim.space import NO_TREATY

if TYPE_CHECKING:
    from dipsim.sim.preferences import Tables

# The simulation (sim.batch, sim.protocol, sim.preferences, sim.draws) is imported where
# runs are played, so that a process that only hands out chunks to worker processes does
# not load numba.

BATCH = 4096  # runs whose tables are built together inside a task (bounds the memory of a task)
SMALLEST_CHUNK = 1024  # runs per task at the least
# Threads or worker processes for local workers (--pool auto): whichever these costs
# predict to finish first. A run costs RUN_SECONDS of one core; PYTHON_SHARE of it holds
# Python's lock (making the run's parameters, tables and Arrow row), the rest is the
# compiled negotiation and the Parquet writer, which release it. So W threads play at
# most 1 / PYTHON_SHARE times as fast as one, but start at once; W worker processes play
# W times as fast, after PROCESS_START_SECONDS (a new Python loading pyarrow, numba and
# the compiled engine). Measured on the two-core development machine with the Sobol'
# sweep of 92 preferences (python benchmarks/bench_sweep.py --pools), when it was quiet:
# 8.1 us a run, 20% of it holding the lock, 0.8 s to start a worker process (0.9 to 2.0 s
# when other work kept the cores busy, so the start-up is taken as 1 s).
RUN_SECONDS = 8e-6
PYTHON_SHARE = 0.2
PROCESS_START_SECONDS = 1.0
POOLS = ("auto", "threads", "processes")
MANIFEST = "manifest.json"
PARTS = "runs"


class SweepError(Exception):
    """A sweep folder that cannot be used as asked."""


# --------------------------------------------------------------------------- one chunk


def chunk_size(sweep: Sweep, workers: int) -> int:
    """Runs per task: at most the spec's ``chunk``, and small enough that every worker
    gets several tasks (SMALLEST_CHUNK at the least). Results do not depend on it."""
    share = -(-sweep.runs // (4 * workers))
    return max(1, min(sweep.spec.chunk, max(SMALLEST_CHUNK, share)))


def chunks(runs: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, runs)) for a in range(0, runs, size)]


def chunk_points(sweep: Sweep, start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype=np.int64) // sweep.spec.replications


def run_chunk(sweep: Sweep, start: int, stop: int, base_rows: np.ndarray | None = None) -> pa.Table:
    """Play runs [start, stop) of a sweep; one row per run, failures included.
    ``base_rows``: the design's Sobol' rows for these runs, if made elsewhere."""
    from dipsim.sim import draws
    from dipsim.sim.preferences import Tables
    from dipsim.sim.scenario import uncertain
    from dipsim.sim.worlds import draw

    runs = np.arange(start, stop, dtype=np.int64)
    reps = sweep.spec.replications
    points, replicate = np.divmod(runs, reps)
    seeds = draws.run_seeds(sweep.spec.seed, 0 if sweep.spec.common_random_numbers else points, replicate)
    values = Design(sweep).values(points, base_rows)
    columns = scenario_columns(sweep, values, runs.size)
    columns.update(draw(uncertain(sweep.base), seeds, columns))  # each run's world: the beliefs not swept
    parts, labels = [], None
    for a in range(0, runs.size, BATCH):
        rows = slice(a, min(a + BATCH, runs.size))
        n = rows.stop - rows.start
        tables = Tables.from_columns(sweep.base, {k: v[rows] for k, v in columns.items()}, n)
        parts.append(_play(tables, seeds[rows], np.arange(n)))
        labels = labels or tables
    outcome = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return _table(sweep, labels, runs, points, replicate, seeds, values, outcome)


def scenario_columns(sweep: Sweep, values: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The per-run settings of the base scenario that the parameter values imply: scaled
    keys multiplied out, and the weights of any utility a parameter touches renormalised."""
    columns: dict[str, np.ndarray] = {}
    for p in sweep.parameters:
        v = values[p.key]
        if p.scale_of:
            for key, base in zip(p.scale_of, p.base):
                columns[key] = v.astype(float) * base
        else:
            columns[p.key] = v
    renormalise_weights(columns, flatten(sweep.base.resolved()), sweep.weights_normalised, n)
    return columns


def renormalise_weights(columns: dict[str, np.ndarray], leaves: dict, utilities: list[str], n: int) -> None:
    """Rescale, run by run, the issue weights of each named utility table to sum to 1."""
    for table in utilities:
        keys = [k for k in leaves if k.startswith(table + ".issues.") and k.endswith(".weight")]
        weights = {k: np.asarray(columns.get(k, np.full(n, leaves[k])), dtype=float) for k in keys}
        total = sum(weights.values())
        for k in keys:
            columns[k] = weights[k] / total


def simulate(tables: Tables, seeds: np.ndarray, **options):
    """sim.batch.simulate, imported on first use."""
    from dipsim.sim.batch import simulate as play

    return play(tables, seeds, **options)


def _play(tables: Tables, seeds: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Outcomes of some runs; if the batch raises, each run is played alone so that only
    the failing runs are lost, each with its error."""
    sub = tables if rows.size == tables.runs else tables.select(rows)
    try:
        o, _ = simulate(sub, seeds[rows], rounds=False)
        return _outcome_columns(sub, o, [None] * rows.size)
    except Exception:
        if rows.size == 1:
            return _failed(tables, rows, traceback.format_exc(limit=3).strip().splitlines()[-1])
        singles = [_play(tables, seeds, rows[i : i + 1]) for i in range(rows.size)]
        return {k: np.concatenate([s[k] for s in singles]) for k in singles[0]}


def _outcome_columns(sub: Tables, o, errors: list) -> dict[str, np.ndarray]:
    cols = {
        "reason": o.reason.astype(np.int8),
        "end_round": o.end_round.astype(np.int16),
        "package": o.package.astype(np.int16),
        "agreed_package": o.agreed.astype(np.int16),
        "ratification_attempts": o.attempts.astype(np.int16),
        "treaty_chance": o.chance,
        "pressure_total": o.pressure_total,
        "error": np.array(errors, dtype=object),
    }
    for actor, u in o.utilities(sub).items():
        cols[f"utility_{actor}"] = u
    if o.policy is not None:  # a strategic outside power's option in each run
        cols["policy"] = o.policy.astype(np.int16)
    if o.backing is not None:  # a patron's offer in each run
        cols["backing"] = o.backing.astype(np.int16)
    return cols


def _failed(tables: Tables, rows: np.ndarray, error: str) -> dict[str, np.ndarray]:
    n = rows.size
    cols = {
        "reason": np.full(n, -1, np.int8),
        "end_round": np.full(n, -1, np.int16),
        "package": np.full(n, -1, np.int16),
        "agreed_package": np.full(n, -1, np.int16),
        "ratification_attempts": np.zeros(n, np.int16),
        "treaty_chance": np.full(n, np.nan),
        "pressure_total": np.full(n, np.nan),
        "error": np.array([error] * n, dtype=object),
    }
    for actor in tables.actors:
        cols[f"utility_{actor}"] = np.full(n, np.nan)
    if tables.policy is not None:
        cols["policy"] = np.full(n, -1, np.int16)
    if tables.backing is not None:
        cols["backing"] = np.full(n, -1, np.int16)
    return cols


def _table(sweep: Sweep, tables: Tables, runs, points, replicate, seeds, values, outcome) -> pa.Table:
    from dipsim.sim import protocol

    space, ids = tables.space, tables.party_ids
    labels = tuple(tables.labels[p] for p in ids)
    reasons = _text([protocol.reason_label(c, labels) for c in protocol.reason_codes(len(ids))])
    code = outcome["reason"]
    cols: dict[str, pa.Array] = {
        "run": _arrow(runs),
        "point": _arrow(points),
        "replicate": _arrow(replicate.astype(np.int32)),
        "seed": _arrow(seeds),
    }
    for p in sweep.parameters:
        v = values[p.key]
        if p.whole or (p.numeric and v.dtype.kind == "i"):
            cols[p.key] = _arrow(np.asarray(v, dtype=float).round().astype(np.int64))
        elif p.numeric:
            cols[p.key] = _arrow(v.astype(float))
        else:
            cols[p.key] = pa.array(v.tolist())  # levels that are not numbers: text, booleans
    failed = code < 0
    cols["treaty"] = _arrow(np.where(failed, False, code == protocol.TREATY), failed)
    cols["reason"] = pa.DictionaryArray.from_arrays(_arrow(np.maximum(code, 0).astype(np.int8), failed), reasons)
    package = outcome["package"]
    for i, issue in enumerate(space.issues):
        names = _text([*space.options[i], NO_TREATY])
        index = np.where(package >= 0, space.choice[np.maximum(package, 0), i], len(space.options[i]))
        cols[f"terms_{issue}"] = pa.DictionaryArray.from_arrays(_arrow(index.astype(np.int8), failed), names)
    for name in ("end_round", "package", "agreed_package", "ratification_attempts", "treaty_chance"):
        cols[name] = _arrow(outcome[name], failed)
    for k in outcome:
        if k.startswith("utility_"):
            cols[k] = _arrow(outcome[k], failed)
    if tables.outside_id:
        cols[f"{tables.outside_id}_pressure_total"] = _arrow(outcome["pressure_total"], failed)
    if tables.outside_id and "policy" in outcome:
        cols[f"{tables.outside_id}_policy"] = _arrow(outcome["policy"], failed)
    if tables.patron_id and "backing" in outcome:
        cols[f"{tables.patron_id}_policy"] = _arrow(outcome["backing"], failed)
    cols["error"] = _text(outcome["error"].tolist())
    return pa.Table.from_arrays(list(cols.values()), names=list(cols))


# Arrow arrays made from numpy buffers: pa.array() imports pandas on first use, which
# costs a worker a third of a second and tens of MiB for nothing it needs.


def _arrow(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """A numeric or boolean numpy column as an Arrow array, null where ``null``."""
    n = values.shape[0]
    validity, nulls = None, 0
    if null is not None and null.any():
        validity, nulls = pa.py_buffer(np.packbits(~null, bitorder="little")), int(null.sum())
    if values.dtype == bool:
        kind, data = pa.bool_(), np.packbits(values, bitorder="little")
    else:
        data = np.ascontiguousarray(values)
        kind = pa.from_numpy_dtype(data.dtype)
    return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(data)], null_count=nulls)


def _text(values: list) -> pa.Array:
    """Strings as an Arrow array, null where None."""
    encoded = [b"" if v is None else str(v).encode() for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int32)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    missing = np.array([v is None for v in values], bool)
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(
        pa.string(),
        len(encoded),
        [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))],
        null_count=int(missing.sum()),
    )


# --------------------------------------------------------------------------- the folder


@dataclass
class Summary:
    runs: int
    failures: int
    treaties: int
    chunks_run: int
    chunks_skipped: int
    seconds: float
    played: int  # runs played by this call (the rest were already done)
    played_on: str  # where they were played, as the CLI reports it


def prepare(sweep: Sweep, out: Path, resume: bool, force: bool, workers: int) -> tuple[list[tuple[int, int]], set[int]]:
    """Create or reopen a sweep folder; return the chunks and those already done."""
    manifest = out / MANIFEST
    if out.exists() and not out.is_dir():
        raise SweepError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and resume:
        if not manifest.is_file():
            raise SweepError(f"{out}: has no {MANIFEST}; it is not a sweep folder, so there is nothing to resume")
        recorded = json.loads(manifest.read_text())
        if recorded.get("fingerprint") != sweep.fingerprint():
            raise SweepError(
                f"{out}: holds a different sweep (its spec or base scenario changed); "
                "allowed: --resume with the same sweep file, or a new --out"
            )
        recorded.setdefault("resumed", []).append(environment())
        _write_json(manifest, recorded)
        parts = out / PARTS
        for stray in parts.glob("*.tmp"):
            stray.unlink()
        plan = chunks(sweep.runs, recorded["chunks"]["size"])
        return plan, {int(p.stem.split("-")[1]) for p in parts.glob("part-*.parquet")}
    if out.exists() and not force:
        raise SweepError(
            f"{out}: already exists; pass --resume to finish it, --force to replace it, or choose another --out"
        )
    if out.exists():
        shutil.rmtree(out)
    size = chunk_size(sweep, workers)
    try:
        (out / PARTS).mkdir(parents=True)
        _write_json(manifest, manifest_of(sweep, size))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # a folder without its manifest could not be resumed
        raise
    return chunks(sweep.runs, size), set()


def manifest_of(sweep: Sweep, size: int) -> dict:
    design = Design(sweep)
    return {
        "kind": "dipsim sweep",
        "version": version("dipsim"),
        "environment": environment(),  # where it started; each --resume adds its own to "resumed"
        "fingerprint": sweep.fingerprint(),
        "spec": sweep.resolved(),
        "spec_file": sweep.file,
        "scenario": sweep.base.resolved(),
        "design": {
            "kind": sweep.spec.design.kind,
            "points": sweep.points,
            "replications": sweep.spec.replications,
            "runs": sweep.runs,
            "parameters": [
                {
                    "key": p.key,
                    "label": p.label,
                    "levels": list(p.levels) if p.levels else None,
                    "bounds": None if p.levels else [p.low, p.high],
                    "scales": list(p.scale_of),
                }
                for p in sweep.parameters
            ],
            "weights_renormalised": sweep.weights_normalised,
            "salib_problem": design.problem if sweep.spec.design.kind != "grid" else None,
        },
        "seeds": {
            "root": sweep.spec.seed,
            "rule": "run = point x replications + replicate; seed = sim.draws.run_seeds(root, point, replicate)"
            + (" with point 0 for all (common random numbers)" if sweep.spec.common_random_numbers else ""),
        },
        "chunks": {"size": size, "count": len(chunks(sweep.runs, size))},
        "engine": "batch",
    }


def _write_json(path: Path, data: dict) -> None:
    _replace(path.with_suffix(".tmp"), path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


def _replace(tmp: Path, final: Path, write: Callable[[Path], object]) -> None:
    """Write ``tmp`` and rename it to ``final``, so that ``final`` is whole or absent; on
    an error (a full disk) nothing is left of ``tmp``."""
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, final)


def write_part(out: Path, index: int, table: pa.Table) -> None:
    """Write a part atomically (a temporary file renamed), snappy-compressed (what every
    Parquet reader reads). Only label columns are dictionary-encoded: trying it on every
    numeric column costs a third more time for parts a third smaller."""
    final = out / PARTS / f"part-{index:06d}.parquet"
    labels = [f.name for f in table.schema if pa.types.is_dictionary(f.type) or pa.types.is_string(f.type)]
    _replace(
        final.with_suffix(".tmp"),
        final,
        lambda tmp: pq.write_table(table, tmp, compression="snappy", use_dictionary=labels),
    )


# --------------------------------------------------------------------------- executors


def run_sweep(
    sweep: Sweep,
    out: Path,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    pool: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Play a sweep into ``out``, or the rest of it with ``resume``. ``pool``: threads or
    processes for local workers, or auto (choose_pool). One process at a time may write
    ``out``; a full disk is an OutputError, after which ``resume`` finishes the sweep."""
    if pool not in POOLS:
        raise SweepError(f"--pool: found {pool!r}; allowed: {', '.join(POOLS)}")
    start_time = time.perf_counter()
    cluster = _connect(scheduler, workers) if executor == "dask" else None  # before writing anything
    out = Path(out)
    advice = "the parts written are whole: free some space and run the same command with --resume"
    try:
        with writing(out, advice):
            out.absolute().parent.mkdir(parents=True, exist_ok=True)
            with exclusive(out):
                plan, done = prepare(sweep, out, resume, force, workers)
                todo = [i for i in range(len(plan)) if i not in done]
                if progress and done:
                    progress(sum(b - a for i, (a, b) in enumerate(plan) if i in done))
                remaining = sum(plan[i][1] - plan[i][0] for i in todo)
                where = (
                    "dask"
                    if cluster is not None
                    else "this process"
                    if workers == 1
                    else (choose_pool(workers, remaining) if pool == "auto" else pool)
                )
                for runs in _execute(sweep, out, plan, todo, workers, cluster, where):
                    if progress:
                        progress(runs)
                manifest = json.loads((out / MANIFEST).read_text())
                manifest["complete"] = True
                _write_json(out / MANIFEST, manifest)
                runs, failures, treaties = _count(out)
    finally:
        if cluster is not None:
            cluster.close()
    return Summary(
        runs=runs,
        failures=failures,
        treaties=treaties,
        chunks_run=len(todo),
        chunks_skipped=len(done),
        seconds=time.perf_counter() - start_time,
        played=remaining,
        played_on=played_on(where, workers),
    )


def _count(out: Path) -> tuple[int, int, int]:
    """Runs, failed runs and treaties in a sweep folder's parts."""
    runs = failures = treaties = 0
    for part in sorted((out / PARTS).glob("part-*.parquet")):
        # part by part: reading the folder as one dataset would import pandas (a third of a second)
        t = pq.ParquetFile(part).read(columns=["treaty", "error"])
        runs += t.num_rows
        failures += t.num_rows - t["error"].null_count
        treaties += int(pc.sum(t["treaty"]).as_py() or 0)
    return runs, failures, treaties


class _Cluster:
    """A Dask client, and the local cluster it started if it started one."""

    def __init__(self, client, local):
        self.client, self.local = client, local

    def close(self) -> None:
        self.client.close()
        if self.local is not None:
            self.local.close()


def _connect(scheduler: str | None, workers: int) -> _Cluster:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # the dask extra is not installed
        raise SweepError("--executor dask needs dask.distributed: pip install -e '.[dask]'") from exc
    if scheduler:
        try:
            return _Cluster(Client(scheduler, timeout="10s"), None)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SweepError(
                f"--scheduler {scheduler}: cannot connect ({exc}); allowed: the address of a "
                "running Dask scheduler, such as tcp://host:8786"
            ) from None
    local = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    return _Cluster(Client(local), local)


def play_part(sweep: Sweep, out: Path, index: int, start: int, stop: int, base_rows: np.ndarray | None = None) -> int:
    """Play one chunk and write its part; returns the number of runs. Local workers call
    it, so that a part goes to disk from the process that made it."""
    table = run_chunk(sweep, start, stop, base_rows)
    write_part(out, index, table)
    return table.num_rows


def played_on(where: str, workers: int) -> str:
    """Where a sweep's chunks play, in words: a Dask cluster, this process, its threads
    or worker processes."""
    return {
        "dask": "a Dask cluster",
        "this process": "this process",
        "threads": f"{workers} threads of this process",
        "processes": f"{workers} worker processes",
    }[where]


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def predicted_seconds(pool: str, workers: int, runs: int) -> float:
    """How long ``workers`` threads or worker processes, each on a core of its own, take
    to play ``runs`` runs, by the costs measured above (RUN_SECONDS, PYTHON_SHARE,
    PROCESS_START_SECONDS)."""
    if pool == "threads":
        return runs * RUN_SECONDS * max(1 / workers, PYTHON_SHARE)
    return PROCESS_START_SECONDS + runs * RUN_SECONDS / workers


def choose_pool(workers: int, runs: int, cores: int | None = None) -> str:
    """threads or processes for ``workers`` local workers (as many at once as there are
    cores) playing ``runs`` runs: the one predicted to finish first, threads on a tie.
    Up to 1 / PYTHON_SHARE (5) workers that is threads, which start at once and are not
    held back by Python's lock; with more, threads up to PROCESS_START_SECONDS /
    (RUN_SECONDS x (PYTHON_SHARE - 1 / workers)) runs (1.7 million for 8 workers,
    910,000 for 16, 680,000 for 64), processes beyond."""
    busy = max(1, min(workers, cores or available_cores()))
    return min(("threads", "processes"), key=lambda pool: predicted_seconds(pool, busy, runs))


def _execute(sweep, out, plan, todo, workers, cluster: _Cluster | None, where: str) -> Iterator[int]:
    """Play the chunks still to do; yield the number of runs of each as its part is written.
    Dask workers may run on other machines, so their tables are written here."""
    if not todo:
        return
    design = Design(sweep)

    def rows(i: int) -> np.ndarray | None:  # made here, so that workers need not import scipy.stats
        return design.base_rows(chunk_points(sweep, *plan[i]))

    if cluster is not None:
        from dask.distributed import wait as dask_wait

        client = cluster.client
        shared = client.scatter(sweep, broadcast=True)
        width = 2 * max(1, len(client.scheduler_info()["workers"]))
        for index, table in _window(
            lambda i: client.submit(run_chunk, shared, *plan[i], rows(i), pure=False),
            todo,
            width,
            lambda fs: dask_wait(fs, return_when="FIRST_COMPLETED").done,
        ):
            write_part(out, index, table)
            yield table.num_rows
    elif where == "this process":
        for i in todo:
            yield play_part(sweep, out, i, *plan[i])
    else:
        if where == "threads":
            warm_up(sweep)  # load the compiled engine once, before the threads start
            pool, warming = ThreadPoolExecutor(workers), []
        else:
            pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
            # start every worker now: they load the engine while the first chunks are prepared
            warming = [pool.submit(warm_up, sweep) for _ in range(workers)]
        try:
            for _, runs in _window(
                lambda i: pool.submit(play_part, sweep, out, i, *plan[i], rows(i)),
                todo,
                2 * workers,
                lambda fs: wait(fs, return_when=FIRST_COMPLETED).done,
            ):
                yield runs
            for future in warming:
                future.result()  # an error there is an error, not noise
        finally:
            pool.shutdown(cancel_futures=True)  # on an interrupt, start no more chunks


def warm_up(sweep: Sweep) -> None:
    """Load the engine's compiled code in a worker: its first negotiation does."""
    from dipsim.sim.preferences import Tables

    simulate(Tables.from_columns(sweep.base, {}, 1), np.zeros(1, np.uint64))


def _window(submit, todo, width, finished):
    """Keep at most ``width`` chunks in flight; yield (index, result) as they finish."""
    pending, queue = {}, list(todo)
    while queue or pending:
        while queue and len(pending) < width:
            i = queue.pop(0)
            pending[submit(i)] = i
        for future in finished(list(pending)):
            yield pending.pop(future), future.result()


def read(out: Path, columns: list[str] | None = None) -> pa.Table:
    """A sweep's runs, in run order."""
    if not (out / MANIFEST).is_file():
        raise SweepError(f"{out}: not a sweep folder (no {MANIFEST})")
    table = pq.read_table(out / PARTS, columns=columns)
    return table


def load_manifest(out: Path) -> dict:
    if not (out / MANIFEST).is_file():
        raise SweepError(f"{out}: not a sweep folder (no {MANIFEST})")
    return json.loads((out / MANIFEST).read_text())


__all__ = ["SweepError", "load_manifest", "read", "renormalise_weights", "run_chunk", "run_sweep"]
