"""A belief-based strategy: offer what pays most in expectation, given what this side
believes the other will accept (Zeng and Sycara 1998; the expected-utility proposer of
Fearon 1995's risk-return trade-off).

It reads, for each package, the chance that the other side accepts it as this side
believes it (``accepts``: from its posterior over the other's reservation where that is
private, sim.protocol; 1 or 0 from the other's known gain under complete information).
It offers the package with the largest expected gain, own gain x chance accepted (its
own gain breaks ties), and accepts a standing offer that leaves it better off and is
worth at least the expected gain of its best offer, discounted by ``discount`` for the
round it waits. With a responder whose reservation is uniform on [0, 1] over one divisible
issue, the proposer maximises (1 - x) x and offers x = 1/2.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from ..kernels import LEAN, at_least, beats, exceeds, value_of
from .base import Strategy


@njit(**LEAN)
def bayesian(round_, deadline, own, accepts, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    # among the packages it gains from, the largest expected gain; its own gain breaks ties
    offer, bp, bs = -1, -np.inf, -np.inf
    for j in gaining:
        s = own[j]
        p = s * accepts[j]
        take = beats(p, s, bp, bs)
        offer, bp, bs = (j, p, s) if take else (offer, bp, bs)
    theirs = value_of(own, other_offer)
    accept = exceeds(theirs, 0.0) and at_least(theirs, d_own * bp)
    return accept, offer


class Bayesian(Strategy):
    name = "bayesian"
    reads = "acceptance"
    properties: ClassVar[dict] = {
        "stochastic": False,
        "concedes": "as its belief about the other side's reservation moves",
        "parameters": ("discount",),
        "source": "Zeng and Sycara (1998), Int. J. Human-Computer Studies 48; Fearon (1995), Int. Organization 49",
    }
    rule = bayesian
