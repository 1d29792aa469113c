"""Time-dependent concession (Faratin, Sierra and Jennings 1998).

The side demands a gain that falls from its best toward zero as the deadline nears:
``target(t) = best * (1 - ((t - 1) / (T - 2)) ** (1 / beta))`` for rounds t = 1..T-1, so it
concedes nothing in the first round and everything by round T - 1, the last in which an
offer can still be answered (in round T the mover takes any offer better than nothing). With beta < 1 it holds firm until
late (Boulware), beta = 1 concedes linearly, beta > 1 concedes early (Conceder).
It offers, among packages meeting its target, the one the other side likes most,
and accepts an offer at least as good for it as the one it would make (AC-next). Choosing,
among the packages that meet the target, the one best for the other side is the
trade-off of Faratin, Sierra and Jennings (2002), here with complete information.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numba import njit

from ..kernels import LEAN, at_least, beats, exceeds, value_of
from .base import Strategy, View


def family(beta: float) -> str:
    if beta < 1.0:
        return "Boulware"
    return "linear" if beta == 1.0 else "Conceder"


@njit(**LEAN)
def target(round_, deadline, beta, top):
    """The gain demanded in this round, from the best gain on offer ``top``."""
    span = max(deadline - 2, 1)  # rounds 1 .. T-1: the last answerable offer
    elapsed = (min(round_ - 1, span) / span) ** (1.0 / beta)
    return top * (1.0 - elapsed)


@njit(**LEAN)
def time_dependent(round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    # among packages with a gain above zero (``gaining``) that meet the target, the best
    # for the other side; its own gain breaks ties
    demand = target(round_, deadline, beta, top)
    offer, bp, bs = -1, -np.inf, -np.inf
    for j in gaining:
        p, s = other[j], own[j]
        take = at_least(s, demand) & beats(p, s, bp, bs)
        offer, bp, bs = (j, p, s) if take else (offer, bp, bs)
    theirs = value_of(own, other_offer)
    accept = exceeds(theirs, 0.0) and at_least(theirs, value_of(own, offer))
    return accept, offer


class TimeDependent(Strategy):
    name = "time_dependent"
    properties: ClassVar[dict] = {
        "stochastic": False,
        "concedes": "with time, by the exponent beta",
        "parameters": ("beta",),
        "source": "Faratin, Sierra and Jennings (1998), Robotics and Autonomous Systems 24",
    }
    rule = time_dependent

    @staticmethod
    def target(view: View) -> np.ndarray:
        """Each run's demand in this round (see the module's docstring)."""
        top = view.own_top
        return np.array(
            [target(view.round, int(d), float(b), float(t)) for d, b, t in zip(view.deadline, view.beta, top)]
        )
