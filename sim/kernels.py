"""Compiled searches over every package (numba), for one run or many.

They hold no rule of the model: the strategies (sim.strategies) and the additive
tables (sim.space) call them to find a best package or to sum option values, so the
Mesa model and the batch engine share them. Compiled code is cached on disk beside
this file (or under NUMBA_CACHE_DIR); only the first use on a machine compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _beats(chosen, p, s, bp, bs):
    """Whether a package with values (p, s) displaces the best so far (none if chosen < 0,
    else with values (bp, bs)): higher primary, then higher secondary; on a full tie the
    earlier (lower-numbered) package stays."""
    return chosen < 0 or p > bp or (p == bp and s > bs)


@njit(cache=True, nogil=True)
def best(primary, secondary, allowed):
    """Per run, the allowed package with the highest primary value, ties broken by the
    secondary value, then by the lower package number; -1 where nothing is allowed."""
    runs, size = primary.shape
    out = np.full(runs, -1, np.int64)
    for r in range(runs):
        chosen, bp, bs = -1, 0.0, 0.0
        for j in range(size):
            if allowed[r, j]:
                p, s = primary[r, j], secondary[r, j]
                if _beats(chosen, p, s, bp, bs):
                    chosen, bp, bs = j, p, s
        out[r] = chosen
    return out


@njit(cache=True, nogil=True)
def best_meeting(primary, secondary, threshold):
    """:func:`best` where the allowed packages are those whose secondary value is at
    least the run's threshold (the time-dependent offer: best for the other side
    among the packages meeting one's own target)."""
    runs, size = primary.shape
    out = np.full(runs, -1, np.int64)
    for r in range(runs):
        t = threshold[r]
        chosen, bp, bs = -1, 0.0, 0.0
        for j in range(size):
            s = secondary[r, j]
            if s >= t:
                p = primary[r, j]
                if _beats(chosen, p, s, bp, bs):
                    chosen, bp, bs = j, p, s
        out[r] = chosen
    return out


@njit(cache=True, nogil=True)
def top_gain(gain):
    """Per run, the best gain on offer, or 0 if nothing gains."""
    runs, size = gain.shape
    out = np.zeros(runs)
    for r in range(runs):
        m = 0.0
        for j in range(size):
            if gain[r, j] > m:
                m = gain[r, j]
        out[r] = m
    return out


@njit(cache=True, nogil=True)
def additive(constant, values, offsets, counts):
    """Value of every package under a linear additive table: the run's constant plus,
    issue by issue in order, the value of the option the package picks. ``values``
    holds the issues' option values side by side, issue i's ``counts[i]`` options from
    column ``offsets[i]``. Packages are the Cartesian product of the options, the last
    issue fastest; the sums are grown issue by issue (one addition per package and issue
    prefix), in place."""
    runs = constant.shape[0]
    size = 1
    for k in counts:
        size *= k
    out = np.empty((runs, size))
    for r in range(runs):
        row = out[r]
        row[0] = constant[r]
        n = 1
        for i in range(counts.shape[0]):
            k, off = counts[i], offsets[i]
            for q in range(n - 1, -1, -1):      # backwards: slot q is read before it is overwritten
                partial = row[q]
                for o in range(k - 1, -1, -1):
                    row[q * k + o] = partial + values[r, off + o]
            n *= k
    return out
