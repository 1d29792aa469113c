"""The equilibrium of alternating offers with discounting (Rubinstein 1982).

Each side discounts agreement one round later by its factor d. In the stationary
subgame-perfect equilibrium a proposer offers the package best for itself among those
that give the other side at least d_other times what the other side would get as
proposer next round, and a responder accepts exactly the offers worth at least d_own
times its own value as proposer. Over a finite outcome space the two values solve

    W_own   = max g_own   over packages with g_other >= d_other W_other
    W_other = max g_other over packages with g_own   >= d_own   W_own

found by iterating the composed map W_own -> W_own from W_own = 0: each step is
decreasing in the other's value, so the composition is increasing and the iteration
rises monotonically to its least fixed point (on a finite set, in at most as many
steps as there are packages). For one
divisible issue and linear utilities this is Rubinstein's split: the first proposer
gets (1 - d_other) / (1 - d_own d_other), approached as the grid of shares gets finer.
It assumes no deadline (the infinite game); the protocol's deadline should be far off.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from ..kernels import LEAN, at_least, beats, exceeds, value_of
from .base import Strategy


@njit(**LEAN)
def as_proposer(gain, other_gain, gaining, threshold):
    """The best gain for a proposer among the packages both sides gain from (``gaining``:
    those one of them gains from) that give the other side at least ``threshold``; 0 if none."""
    best = 0.0
    for j in gaining:
        g, h = gain[j], other_gain[j]
        best = g if exceeds(g, 0.0) & exceeds(h, 0.0) & at_least(h, threshold) & (g > best) else best
    return best


@njit(**LEAN)
def values(own, other, gaining, d_own, d_other):
    """Each side's equilibrium gain when it proposes, in one run."""
    w_own = 0.0
    for _ in range(own.shape[0] + 2):
        w_other = as_proposer(other, own, gaining, d_own * w_own)
        new = as_proposer(own, other, gaining, d_other * w_other)
        if new == w_own:
            break
        w_own = new
    return w_own, as_proposer(other, own, gaining, d_own * w_own)


@njit(**LEAN)
def rubinstein(round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    w_own, w_other = values(own, other, gaining, d_own, d_other)
    # its best package among those keeping the other side at its equilibrium value
    keep = d_other * w_other
    offer, bp, bs = -1, -np.inf, -np.inf
    for j in gaining:
        p, s = own[j], other[j]
        take = exceeds(s, 0.0) & at_least(s, keep) & beats(p, s, bp, bs)
        offer, bp, bs = (j, p, s) if take else (offer, bp, bs)
    theirs = value_of(own, other_offer)
    accept = exceeds(theirs, 0.0) and at_least(theirs, d_own * w_own)
    return accept, offer


class Rubinstein(Strategy):
    name = "rubinstein"
    properties: ClassVar[dict] = {
        "stochastic": False,
        "concedes": "not at all: offers the equilibrium package at once",
        "parameters": ("discount",),
        "source": "Rubinstein (1982), Econometrica 50; stationary equilibrium on a finite set",
    }
    rule = rubinstein
