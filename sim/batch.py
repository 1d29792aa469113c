"""The batch engine: many negotiations in one compiled loop (sim.protocol.play).

Each run plays exactly the rounds the Mesa model plays, with the same rule functions
of sim.protocol in the same order and its draws addressed by its seed; so each run
ends as it would in the Mesa model, whatever runs it shares a call with. Runs are
played in slices of CHUNK, which bounds the memory of the per-round arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import protocol
from .outcomes import Outcomes, concat, empty_votes
from .preferences import Tables

CHUNK = 4096


def simulate(
    tables: Tables, seeds: np.ndarray, rounds: bool = False, progress: Callable[[int], None] | None = None
) -> tuple[Outcomes, dict[str, np.ndarray] | None]:
    """Play one negotiation per row of ``tables`` (a single row serves every seed).

    Returns the outcomes and, if ``rounds``, the per-round record of every run (the
    columns of sim.protocol.round_columns plus ``run`` and ``round``).
    """
    seeds = np.ascontiguousarray(seeds, dtype=np.uint64)
    if tables.policy is not None or tables.backing is not None:
        return _strategic(tables, seeds, rounds, progress)
    n = seeds.shape[0]
    shared = tables.runs == 1
    if not shared and tables.runs != n:
        raise ValueError("give one seed per run")
    horizon = tables.horizon
    rows, counts, cells = tables.compiled(), tables.space.counts, tables.space.pair_cells
    parties = len(tables.party_ids)
    width = protocol.record_size(parties)
    ints, reals = np.empty((n, protocol.N_INTS), np.int64), np.empty((n, protocol.N_REALS))
    path = np.full((n, horizon), np.nan)
    votes, reports = [], []
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        part = rows if shared else _slice(rows, a, b)
        actions = np.full((b - a, horizon), protocol.NO_ACTION, np.int8)
        ballots = np.full((b - a, horizon, protocol.ballot_size(parties)), np.nan)
        records = np.empty((b - a, horizon, width) if rounds else (0, 0, width))
        ps, o, neg = part
        protocol.play(
            ps,
            o,
            neg,
            counts,
            cells,
            shared,
            seeds[a:b],
            rounds,
            ints[a:b],
            reals[a:b],
            path[a:b],
            actions,
            ballots,
            records,
        )
        run, t = np.nonzero(ballots[:, :, 0] >= 0)
        if run.size:
            v = ballots[run, t]
            votes.append(
                {
                    "run": run + a,
                    "round": t + 1,
                    "package": v[:, 0].astype(np.int64),
                    "probability": v[:, 1 : 1 + parties],
                    "passed": v[:, 1 + parties :].astype(bool),
                }
            )
        if rounds:
            run, t = np.nonzero(actions != protocol.NO_ACTION)
            reports.append({"run": run + a, "round": t + 1, **protocol.record_columns(tables, records[run, t])})
        if progress:
            progress(b - a)
    outcomes = Outcomes(
        seeds=seeds,
        reason=ints[:, protocol.REASON],
        end_round=ints[:, protocol.END_ROUND],
        agreed=ints[:, protocol.PACKAGE],
        attempts=ints[:, protocol.ATTEMPTS],
        chance=reals[:, protocol.CHANCE],
        pressure_total=reals[:, protocol.PRESSURE_TOTAL],
        pressure_path=path,
        votes=concat(votes, empty_votes(len(tables.party_ids))),
    )
    if not rounds:
        return outcomes, None
    none = np.zeros(0, np.int64)
    empty = {"run": none, "round": none, **protocol.record_columns(tables, np.empty((0, width)))}
    return outcomes, concat(reports, empty)


def _slice(rows: tuple, a: int, b: int) -> tuple:
    """Runs a to b of the compiled tables (the parties' named tuples, the outside power's, the negotiation's)."""
    ps, o, neg = rows

    def cut(t):
        return type(t)(*(x[a:b] for x in t))

    return tuple(cut(p) for p in ps), cut(o), cut(neg)


def _strategic(
    tables: Tables, seeds: np.ndarray, rounds: bool, progress: Callable[[int], None] | None
) -> tuple[Outcomes, dict[str, np.ndarray] | None]:
    """:func:`simulate` where the outside power chooses its policy, or a patron makes its
    offer, before each run (sim.strategic.choose), a slice of CHUNK runs at a time."""
    from .outcomes import join
    from .strategic import choose

    n = seeds.shape[0]
    if tables.runs != 1 and tables.runs != n:
        raise ValueError("give one seed per run")
    parts, reports = [], []
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        part = tables if tables.runs == 1 else tables.select(np.arange(a, b))
        played, chosen = choose(part, seeds[a:b])
        outcomes, record = simulate(played, seeds[a:b], rounds=rounds, progress=progress)
        outcomes.policy, outcomes.backing = chosen
        parts.append(outcomes)
        if record is not None:
            reports.append({**record, "run": record["run"] + a})
    joined = join(parts) if len(parts) > 1 else parts[0]
    if not rounds:
        return joined, None
    return joined, {k: np.concatenate([r[k] for r in reports]) for k in reports[0]}
