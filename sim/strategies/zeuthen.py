"""Zeuthen's risk-based concession (Zeuthen 1930; Harsanyi 1956).

A side's willingness to risk conflict is ``(g(own) - g(theirs)) / g(own)``. The side
with the smaller willingness concedes, by the least that makes the other the one
to concede next. Within the packages that leave both sides better off than no
agreement, comparing risks is comparing Nash products ``g_own * g_other`` of the two
standing offers (Harsanyi 1956), so the concession is: the package best for this
side among those whose Nash product beats that of the other side's offer. With
nothing left to concede, it accepts. On a finite outcome space this monotonic
concession ends at a package of maximal Nash product (Rosenschein and Zlotkin 1994).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from ..kernels import LEAN, at_least, beats, exceeds, value_of
from .base import Strategy


def risk(own_gain_of_own: np.ndarray, own_gain_of_theirs: np.ndarray) -> np.ndarray:
    """Zeuthen's willingness to risk conflict; 0 when one's own offer gains nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (own_gain_of_own - own_gain_of_theirs) / own_gain_of_own
    return np.where(own_gain_of_own > 0, r, 0.0)


@njit(cache=True, nogil=True, inline="always")
def nash(own, other, j):
    """The Nash product of package j, over the packages both sides gain from (positive
    there); -inf elsewhere."""
    a, b = own[j], other[j]
    return a * b if exceeds(a, 0.0) & exceeds(b, 0.0) else -np.inf


@njit(**LEAN)
def best_above(own, other, gaining, floor):
    """The package best for this side among those whose Nash product exceeds ``floor`` by
    more than TIE (a higher Nash product breaking ties); -1 if none."""
    chosen, bp, bs = -1, -np.inf, -np.inf
    for j in gaining:
        p, s = own[j], nash(own, other, j)
        take = exceeds(s, floor) & beats(p, s, bp, bs)
        chosen, bp, bs = (j, p, s) if take else (chosen, bp, bs)
    return chosen


@njit(**LEAN)
def zeuthen(round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    opening = best_above(own, other, gaining, -np.inf)  # its best among packages both gain from
    own_standing = own_offer >= 0 and nash(own, other, own_offer) > 0  # (> 0 exactly where both gain)
    their_standing = other_offer >= 0 and nash(own, other, other_offer) > 0
    mine = own_offer if own_standing else opening
    theirs = value_of(own, other_offer)
    accept = their_standing and at_least(theirs, value_of(own, mine))
    if own_standing and their_standing:
        their_nash = nash(own, other, other_offer)
        if at_least(their_nash, nash(own, other, mine)):  # its risk is the smaller (or equal): it concedes
            concession = best_above(own, other, gaining, their_nash)
            if concession < 0:
                return True, mine  # nothing left to concede: it accepts
            return accept, concession
    return accept, mine


class Zeuthen(Strategy):
    name = "zeuthen"
    properties: ClassVar[dict] = {
        "stochastic": False,
        "concedes": "when its risk of conflict is the smaller",
        "parameters": (),
        "source": "Zeuthen (1930); Harsanyi (1956), Econometrica 24; Rosenschein and Zlotkin (1994)",
    }
    rule = zeuthen
