"""Compiled helpers over the packages of one run (numba).

They hold no rule of the model: the strategies (sim.strategies), the protocol and the
additive tables (sim.space) call them, so the Mesa model and the batch engine share
them. Compiled code is cached on disk beside this file (or under NUMBA_CACHE_DIR);
only the first use on a machine compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.core.options import DefaultOptions

# How the functions that allocate nothing are compiled: without numba's runtime (NRT).
# With it, every array view taken and every array passed to a function costs an atomic
# reference-count increment and decrement; in the engine's loop over rounds those took
# about half the time of a negotiation. Functions that allocate arrays (np.empty) need
# the runtime and keep the defaults. ``_nrt`` is an option of numba's dispatcher that
# its documentation does not list; should a numba lack it, the defaults apply.
LEAN = dict(cache=True, nogil=True, **({"_nrt": False} if hasattr(DefaultOptions, "_nrt") else {}))


@njit(cache=True, nogil=True, inline="always")
def beats(p, s, bp, bs):
    """Whether a package with values (p, s) displaces the best so far, (bp, bs): a higher
    primary, or an equal primary and a higher secondary; on a full tie the earlier
    (lower-numbered) package stays. Every package search uses this one rule, starting
    from (-inf, -inf) with no package chosen, and updates without branching (the
    searches run every round). Gains are never NaN here (scenario values are checked);
    a NaN value would never be chosen."""
    return (p > bp) | ((p == bp) & (s > bs))


@njit(**LEAN)
def value_of(values, package):
    """values[package], or NaN for no package (-1)."""
    return values[package] if package >= 0 else np.nan


@njit(**LEAN)
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


@njit(**LEAN)
def additive_row(terms, counts, out, scratch):
    """Value of every package of one run under a linear additive table, written to ``out``:
    the constant ``terms[0]`` plus, issue by issue in order, the value of the option the
    package picks (``terms[1:]``: the issues' option values side by side, issue i's
    ``counts[i]`` options in a row). Packages are the Cartesian product of the options,
    the last issue fastest. The sums grow issue by issue, one addition per package and
    issue prefix: prefix q extended by option o lands at q * k + o (``scratch``, as long
    as ``out``, takes every other issue's sums)."""
    source, target = out, scratch
    source[0] = terms[0]
    n, offset = 1, 1
    for i in range(counts.shape[0]):
        k = counts[i]
        for o in range(k):
            value = terms[offset + o]
            for q in range(n):
                target[q * k + o] = source[q] + value
        source, target = target, source
        n *= k
        offset += k
    if counts.shape[0] % 2 == 1:
        for q in range(n):          # (a slice assignment would need the runtime)
            out[q] = scratch[q]


@njit(cache=True, nogil=True)
def additive(terms, counts):
    """:func:`additive_row` for every run of (runs, 1 + options) terms: (runs, packages)."""
    size = 1
    for k in counts:
        size *= k
    out, scratch = np.empty((terms.shape[0], size)), np.empty(size)
    for r in range(terms.shape[0]):
        additive_row(terms[r], counts, out[r], scratch)
    return out
