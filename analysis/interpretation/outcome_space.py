"""The outcome space: the bargaining solutions among the packages, what each public would
ratify, and where runs ended (drawn by dipsim.analysis.presentation.outcome_space_plot)."""

from __future__ import annotations

import numpy as np

from dipsim.analysis.interpretation.solutions import (
    kalai_smorodinsky,
    kalai_smorodinsky_n,
    nash,
    nash_n,
    utilitarian,
    utilitarian_n,
)
from dipsim.sim.preferences import Tables, ratification_probability


def solutions(tables: Tables, row: int = 0) -> dict[str, int]:
    """Nash, Kalai-Smorodinsky and utilitarian packages against the status quo (none if no
    package leaves every side at least as well off)."""
    if len(tables.parties) > 2:
        u = np.array([p.utility[row] for p in tables.parties])
        dn = np.array([float(p.reservation[row]) for p in tables.parties])
        if not (u >= dn[:, None]).all(axis=0).any():
            return {}
        return {
            "Nash": nash_n(u, dn),
            "Kalai-Smorodinsky": kalai_smorodinsky_n(u, dn),
            "utilitarian": utilitarian_n(u, dn),
        }
    u0, u1 = (p.utility[row] for p in tables.parties)
    d = (float(tables.parties[0].reservation[row]), float(tables.parties[1].reservation[row]))
    if not ((u0 >= d[0]) & (u1 >= d[1])).any():
        return {}
    return {
        "Nash": nash(u0, u1, d),
        "Kalai-Smorodinsky": kalai_smorodinsky(u0, u1, d),
        "utilitarian": utilitarian(u0, u1, d),
    }


def ratifiable(tables: Tables, party: int, row: int = 0) -> np.ndarray:
    """Packages this party's public would more likely pass than not (at its polled
    opinion, before rhetoric and mood)."""
    p = tables.parties[party]
    share = np.clip(p.acceptance[row], 0.0, 1.0)[None]
    return ratification_probability(share, p.threshold[row : row + 1], p.margin[row : row + 1])[0] >= 0.5
