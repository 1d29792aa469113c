"""A hardliner: always demands its best package; accepts only offers within
``tolerance`` (a share of its best gain) of it. The benchmark of no concession."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from ..kernels import LEAN, at_least, beats, exceeds, value_of
from .base import Strategy


@njit(**LEAN)
def hardliner(round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    # its best package among those it gains from, the other side's gain breaking ties
    offer, bp, bs = -1, -np.inf, -np.inf
    for j in gaining:
        p, s = own[j], other[j]
        take = beats(p, s, bp, bs)
        offer, bp, bs = (j, p, s) if take else (offer, bp, bs)
    theirs = value_of(own, other_offer)
    accept = exceeds(theirs, 0.0) and at_least(theirs, (1.0 - tolerance) * value_of(own, offer))
    return accept, offer


class Hardliner(Strategy):
    name = "hardliner"
    properties: ClassVar[dict] = {
        "stochastic": False,
        "concedes": "never",
        "parameters": ("tolerance",),
        "source": "the no-concession benchmark of the negotiation literature (e.g. Faratin et al. 1998)",
    }
    rule = hardliner
