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

import numpy as np

from ..preferences import pick
from .base import Decision, Strategy, View, best


def values(own: np.ndarray, other: np.ndarray, d_own: np.ndarray, d_other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each side's equilibrium gain when it proposes, per run."""
    runs, size = own.shape
    ok = (own > 0) & (other > 0)

    def as_proposer(gain, other_gain, threshold):
        # best gain for the proposer among packages giving the other at least `threshold`
        return np.where(ok & (other_gain >= threshold[:, None]), gain, 0.0).max(axis=1)

    w_own = np.zeros(runs)
    for _ in range(size + 2):
        w_other = as_proposer(other, own, d_own * w_own)
        new = as_proposer(own, other, d_other * w_other)
        if np.array_equal(new, w_own):
            break
        w_own = new
    return w_own, as_proposer(other, own, d_own * w_own)


class Rubinstein(Strategy):
    name = "rubinstein"
    properties = {
        "stochastic": False,
        "concedes": "not at all: offers the equilibrium package at once",
        "parameters": ("discount",),
        "source": "Rubinstein (1982), Econometrica 50; stationary equilibrium on a finite set",
    }

    def respond(self, view: View) -> Decision:
        d_own = view.own_discount if view.own_discount is not None else np.ones(view.own_gain.shape[0])
        d_other = view.other_discount if view.other_discount is not None else np.ones(view.own_gain.shape[0])
        w_own, w_other = values(view.own_gain, view.other_gain, d_own, d_other)
        keeps_other = (view.other_gain >= (d_other * w_other)[:, None]) & (view.own_gain > 0) & (view.other_gain > 0)
        offer = best(view.own_gain, view.other_gain, keeps_other)
        theirs = pick(view.own_gain, view.other_offer)
        accept = (theirs > 0) & (theirs >= d_own * w_own)
        return Decision(accept, offer)
