"""Bargaining solutions over a finite set of outcomes, as points (u1, u2).

Each function takes utilities of the two sides for every outcome and the disagreement
point, and returns the index of the chosen outcome (ties: the lowest index). Only
outcomes at least as good as disagreement for both count (individual rationality).
"""

from __future__ import annotations

import numpy as np


def _rational(u1: np.ndarray, u2: np.ndarray, d: tuple[float, float]) -> np.ndarray:
    ok = (u1 >= d[0]) & (u2 >= d[1])
    if not ok.any():
        raise ValueError("no outcome is at least as good as disagreement for both sides")
    return ok


def pareto_frontier(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Indices of the outcomes no other outcome weakly improves on for both sides and
    strictly for one, ordered by u1 (ascending)."""
    u1, u2 = np.asarray(u1, float), np.asarray(u2, float)
    order = np.lexsort((-u2, -u1))  # u1 descending, then u2 descending
    best_u2 = -np.inf
    keep = []
    for i in order:
        if u2[i] > best_u2:
            keep.append(i)
            best_u2 = u2[i]
    return np.array(keep[::-1], dtype=np.int64)


def nash(u1: np.ndarray, u2: np.ndarray, d: tuple[float, float] = (0.0, 0.0), power: float = 0.5) -> int:
    """Nash (1950) solution; with ``power`` a != 1/2 the asymmetric (generalised) Nash
    solution of Kalai (1977) and Roth (1979): maximise (u1 - d1)^a (u2 - d2)^(1 - a)."""
    u1, u2 = np.asarray(u1, float), np.asarray(u2, float)
    ok = _rational(u1, u2, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = power * np.log(u1 - d[0]) + (1 - power) * np.log(u2 - d[1])
    return int(np.argmax(np.where(ok, value, -np.inf)))


def kalai_smorodinsky(u1: np.ndarray, u2: np.ndarray, d: tuple[float, float] = (0.0, 0.0)) -> int:
    """Kalai and Smorodinsky (1975): the Pareto outcome whose gains are most nearly in
    proportion to the ideal gains (each side's best over the rational outcomes); on a
    finite set, the outcome maximising the smaller of the two normalised gains."""
    u1, u2 = np.asarray(u1, float), np.asarray(u2, float)
    ok = _rational(u1, u2, d)
    ideal1, ideal2 = u1[ok].max() - d[0], u2[ok].max() - d[1]
    g1 = (u1 - d[0]) / ideal1 if ideal1 > 0 else np.ones_like(u1)
    g2 = (u2 - d[1]) / ideal2 if ideal2 > 0 else np.ones_like(u2)
    score = np.where(ok, np.minimum(g1, g2), -np.inf)
    top = score.max()
    tied = np.flatnonzero(score == top)
    return int(tied[np.argmax(u1[tied] + u2[tied])])  # among ties, the Pareto-better one


def utilitarian(u1: np.ndarray, u2: np.ndarray, d: tuple[float, float] = (0.0, 0.0)) -> int:
    """The rational outcome with the largest sum of utilities."""
    u1, u2 = np.asarray(u1, float), np.asarray(u2, float)
    ok = _rational(u1, u2, d)
    return int(np.argmax(np.where(ok, u1 + u2, -np.inf)))


# --------------------------------------------------------------------------- n sides


def _rational_n(u: np.ndarray, d: np.ndarray) -> np.ndarray:
    ok = (u >= d[:, None]).all(axis=0)
    if not ok.any():
        raise ValueError("no outcome is at least as good as disagreement for every side")
    return ok


def pareto_set(u: np.ndarray) -> np.ndarray:
    """Indices of the outcomes no other outcome weakly improves on for every side and
    strictly for one; ``u``: (sides, outcomes)."""
    u = np.asarray(u, float)
    keep = []
    for j in range(u.shape[1]):
        better = (u >= u[:, j : j + 1]).all(axis=0) & (u > u[:, j : j + 1]).any(axis=0)
        if not better.any():
            keep.append(j)
    return np.array(keep, dtype=np.int64)


def nash_n(u: np.ndarray, d: np.ndarray) -> int:
    """Nash's solution for n sides: the rational outcome with the largest product of gains."""
    u, d = np.asarray(u, float), np.asarray(d, float)
    ok = _rational_n(u, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(u - d[:, None]).sum(axis=0)
    return int(np.argmax(np.where(ok, value, -np.inf)))


def kalai_smorodinsky_n(u: np.ndarray, d: np.ndarray) -> int:
    """Kalai and Smorodinsky for n sides: the rational outcome maximising the least of the
    gains normalised by each side's ideal gain (ties: the largest sum of utilities)."""
    u, d = np.asarray(u, float), np.asarray(d, float)
    ok = _rational_n(u, d)
    ideal = u[:, ok].max(axis=1) - d
    gains = np.where(ideal[:, None] > 0, (u - d[:, None]) / np.where(ideal > 0, ideal, 1.0)[:, None], 1.0)
    score = np.where(ok, gains.min(axis=0), -np.inf)
    tied = np.flatnonzero(score == score.max())
    return int(tied[np.argmax(u[:, tied].sum(axis=0))])


def utilitarian_n(u: np.ndarray, d: np.ndarray) -> int:
    """The rational outcome with the largest sum of utilities, for n sides."""
    u, d = np.asarray(u, float), np.asarray(d, float)
    ok = _rational_n(u, d)
    return int(np.argmax(np.where(ok, u.sum(axis=0), -np.inf)))
