"""Compiled helpers over the packages of one run (numba), and the one way the rules
compare computed values (TIE: exceeds, at_least, beats).

They hold no rule of the model: the strategies (sim.strategies), the protocol and the
additive tables (sim.space) call them, so the Mesa model and the batch engine share
them. Compiled code is cached on disk beside this file (or under NUMBA_CACHE_DIR, or
in a per-user folder where this one cannot be written); only the first use on a machine
compiles. numba's cache notices edits to a function's own file only, while the compiled
code of the protocol and the strategies includes these helpers: sim.engine_cache drops
the caches whenever any compiled source changed, before any is loaded (here, on import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numba.core.options import DefaultOptions

from .engine_cache import keep_fresh

keep_fresh()

# How the functions that allocate nothing are compiled: without numba's runtime (NRT).
# With it, every array view taken and every array passed to a function costs an atomic
# reference-count increment and decrement; in the engine's loop over rounds those took
# about half the time of a negotiation. Functions that allocate arrays (np.empty) need
# the runtime and keep the defaults. ``_nrt`` is an option of numba's dispatcher that
# its documentation does not list; should a numba lack it, the defaults apply.
LEAN: dict[str, Any] = dict(cache=True, nogil=True, **({"_nrt": False} if hasattr(DefaultOptions, "_nrt") else {}))


# Two utilities closer than TIE are equal. Every rule that decides on computed values (a
# package search, a gain above zero, an acceptance, an offer's improvement, a deal within
# reach, Zeuthen's comparison of Nash products) goes through exceeds(), at_least() or
# beats(), never a bare comparison: a tie the scenario designs (a utility equal to a
# reservation, two packages worth the same) then stays a tie whatever the last bits of its
# sums, which differ between CPUs where numpy computed the inputs. Utilities are on the
# scenario's scale (option values 0 to 1, weights summing to 1, reservations -1 to 2),
# where 1e-9 means nothing and a package's sum rounds by about 1e-16; gains and Nash
# products are compared on the same scale.
TIE = 1e-9


@njit(cache=True, nogil=True, inline="always")
def exceeds(x, y):
    """Whether x is larger than y by more than TIE (False if either is NaN)."""
    return x - TIE > y


@njit(cache=True, nogil=True, inline="always")
def at_least(x, y):
    """Whether x is not smaller than y by more than TIE (False if either is NaN: no
    package). Both helpers move x, not y: in a package search y is the best so far, and
    arithmetic on it would lengthen the chain each package waits on."""
    return x + TIE >= y


@njit(cache=True, nogil=True, inline="always")
def beats(p, s, bp, bs):
    """Whether a package with values (p, s) displaces the best so far, (bp, bs): a higher
    primary, or an equal primary and a higher secondary (higher and equal up to TIE); on
    a full tie the earlier (lower-numbered) package stays. Every package search uses this
    one rule, starting from (-inf, -inf) with no package chosen, and updates without
    branching (the searches run every round). Gains are never NaN here (scenario values
    are checked); a NaN value would never be chosen."""
    return exceeds(p, bp) | (at_least(p, bp) & exceeds(s, bs))


@njit(**LEAN)
def gaining_row(gain, listed):
    """Write to ``listed``, in order, the packages with a gain above zero (by more than
    TIE) in one run; return how many there are."""
    n = 0
    for j in range(gain.shape[0]):
        listed[n] = j
        n += exceeds(gain[j], 0.0)
    return n


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
        for q in range(n):  # (a slice assignment would need the runtime)
            out[q] = scratch[q]


@njit(**LEAN)
def paired_row(terms, cells, out):
    """Add to the value of every package of one run, in ``out``, the cells of its pairs of
    issues: for each pair, ``cells[p, q]`` is the place in ``terms`` of the cell that
    package q picks (OutcomeSpace.pair_cells: the options' values come first, then each
    pair's cells). A value table keeps there the values that count only when another issue
    takes some options (sim.scenario.Condition); without pairs nothing is added."""
    for p in range(cells.shape[0]):
        for q in range(out.shape[0]):
            out[q] += terms[cells[p, q]]


@njit(**LEAN)
def package_row(terms, counts, cells, out, scratch):
    """Value of every package of one run under a value table given by its terms
    (:func:`additive_row`, then :func:`paired_row`)."""
    additive_row(terms, counts, out, scratch)
    paired_row(terms, cells, out)


@njit(cache=True, nogil=True)
def additive(terms, counts, cells):
    """:func:`package_row` for every run of (runs, terms) terms: (runs, packages)."""
    size = 1
    for k in counts:
        size *= k
    out, scratch = np.empty((terms.shape[0], size)), np.empty(size)
    for r in range(terms.shape[0]):
        package_row(terms[r], counts, cells, out[r], scratch)
    return out
