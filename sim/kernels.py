"""Compiled helpers over the packages of one run (numba).

They hold no rule of the model: the strategies (sim.strategies), the protocol and the
additive tables (sim.space) call them, so the Mesa model and the batch engine share
them. Compiled code is cached on disk beside this file (or under NUMBA_CACHE_DIR);
only the first use on a machine compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def beats(p, s, bp, bs):
    """Whether a package with values (p, s) displaces the best so far, (bp, bs): a higher
    primary, or an equal primary and a higher secondary; on a full tie the earlier
    (lower-numbered) package stays. Every package search uses this one rule, starting
    from (-inf, -inf) with no package chosen, and updates without branching (the
    searches run over every package of every round)."""
    return (p > bp) | ((p == bp) & (s > bs))


@njit(cache=True, nogil=True)
def value_of(values, package):
    """values[package], or NaN for no package (-1)."""
    return values[package] if package >= 0 else np.nan


@njit(cache=True, nogil=True)
def top_row(gain):
    """The best gain on offer in one run, or 0 if nothing gains."""
    m = 0.0
    for j in range(gain.shape[0]):
        g = gain[j]
        m = g if g > m else m
    return m


@njit(cache=True, nogil=True)
def top_gain(gain):
    """:func:`top_row` for every run of a (runs, packages) array."""
    out = np.empty(gain.shape[0])
    for r in range(gain.shape[0]):
        out[r] = top_row(gain[r])
    return out


@njit(cache=True, nogil=True)
def additive_row(terms, columns, out):
    """Value of every package of one run under a linear additive table, written to ``out``:
    the constant ``terms[0]`` plus, issue by issue in order, the value of the option the
    package picks. ``columns[i, j]`` is where in ``terms`` package j's option on issue i
    is (OutcomeSpace.columns). One pass per issue over all packages."""
    constant = terms[0]
    for j in range(out.shape[0]):
        out[j] = constant + terms[columns[0, j]]
    for i in range(1, columns.shape[0]):
        for j in range(out.shape[0]):
            out[j] = out[j] + terms[columns[i, j]]


@njit(cache=True, nogil=True)
def additive(terms, columns):
    """:func:`additive_row` for every run of (runs, 1 + options) terms: (runs, packages)."""
    out = np.empty((terms.shape[0], columns.shape[1]))
    for r in range(terms.shape[0]):
        additive_row(terms[r], columns, out[r])
    return out
