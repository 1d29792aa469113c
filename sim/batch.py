"""The batch engine: many negotiations at once, one numpy row per run.

It plays exactly the rounds the Mesa model plays, calling the same rule functions
of sim.protocol in the same order, with each run's draws addressed by its seed; so
each run ends as it would in the Mesa model, whatever runs it shares a batch with.
Runs that have ended are dropped from the working arrays as the batch thins out.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import protocol
from .outcomes import Outcomes, concat, empty_votes
from .preferences import Tables

# Drop ended runs from the working arrays once fewer than this share is still going.
COMPACT_BELOW = 0.75


def simulate(tables: Tables, seeds: np.ndarray, rounds: bool = False,
             progress: Callable[[int], None] | None = None) -> tuple[Outcomes, dict[str, np.ndarray] | None]:
    """Play one negotiation per row of ``tables`` (a single row serves every seed).

    Returns the outcomes and, if ``rounds``, the per-round record of every run (the
    columns of sim.protocol.round_columns plus ``run`` and ``round``).
    """
    seeds = np.asarray(seeds, dtype=np.uint64)
    n = seeds.shape[0]
    if tables.runs == 1 and n > 1:
        tables = tables.repeat(n)
    if tables.runs != n:
        raise ValueError("give one seed per run")
    horizon = int(tables.deadline.max())

    out = protocol.State.start(tables, seeds)      # where finished runs are written back
    path = np.full((n, horizon), np.nan)
    votes, reports = [], []
    where = np.arange(n)                            # working row -> run
    written = np.zeros(n, bool)                     # working rows already written back
    tb, st, seen = tables, out.select(where), None

    for t in range(1, horizon + 1):
        live = st.active
        newly = ~live & ~written
        if newly.any():
            _write_back(out, st, where[newly], newly)
            written |= newly
            if progress:
                progress(int(newly.sum()))
        if not live.any():
            break
        if live.mean() < COMPACT_BELOW:
            keep = np.flatnonzero(live)
            where, written, tb, st = where[keep], written[keep], tb.select(keep), st.select(keep)
            seen = protocol.select_assessment(seen, keep) if seen is not None else None
            live = np.ones(keep.size, bool)

        r = protocol.play_round(t, tb, st, seen, protocol.DirectActors(tb, st))
        seen, action, v = r.seen, r.action, r.votes
        path[where[live], t - 1] = r.move.pressure[live]
        if v.rows.size:
            votes.append({
                "run": where[v.rows], "round": np.full(v.rows.size, t), "package": v.package,
                "probability": v.probability, "passed": v.passed,
            })
        if rounds:
            report = protocol.round_report(tb, st, seen, r.move, r.who, action)
            report["run"], report["round"] = where, np.full(where.size, t)
            reports.append(report)

    rest = ~written
    _write_back(out, st, where[rest], rest)
    if progress and rest.any():
        progress(int(rest.sum()))
    outcomes = Outcomes(
        seeds=seeds,
        reason=out.reason,
        end_round=out.end_round,
        agreed=out.package,
        attempts=out.attempts,
        chance=out.chance,
        pressure_total=out.pressure_total,
        pressure_path=path,
        votes=_by_run(concat(votes, empty_votes())),
    )
    return outcomes, (_stack_rounds(reports, tables.party_ids) if rounds else None)


def _by_run(votes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    order = np.lexsort((votes["round"], votes["run"]))
    return {k: v[order] for k, v in votes.items()}


def _write_back(out: protocol.State, st: protocol.State, runs: np.ndarray, rows: np.ndarray) -> None:
    for name in ("reason", "end_round", "package", "attempts", "chance", "pressure_total"):
        getattr(out, name)[runs] = getattr(st, name)[rows]


def _stack_rounds(reports: list[dict[str, np.ndarray]], party_ids: tuple[str, str]) -> dict[str, np.ndarray]:
    """Per-round arrays -> one column per field, rows sorted by run then round, keeping
    only rows where the run was still going; mover and action as names, as the Mesa
    model's DataCollector has them."""
    cols = {k: np.concatenate([r[k] for r in reports]) for k in reports[0]}
    keep = cols["action"] != protocol.NO_ACTION
    order = np.lexsort((cols["round"][keep], cols["run"][keep]))
    cols = {k: v[keep][order] for k, v in cols.items()}
    cols["mover"] = np.array(party_ids)[cols["mover"]]
    cols["action"] = np.array(protocol.ACTIONS)[cols["action"]]
    first = ["run", "round"]
    return {k: cols[k] for k in first + [c for c in cols if c not in first]}
