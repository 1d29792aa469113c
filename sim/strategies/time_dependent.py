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

import numpy as np

from ..preferences import pick
from .base import Decision, Strategy, View, best_meeting

# The least positive float: a gain at least this large is a gain above zero.
POSITIVE = np.nextafter(0.0, 1.0)


def family(beta: float) -> str:
    if beta < 1.0:
        return "Boulware"
    return "linear" if beta == 1.0 else "Conceder"


class TimeDependent(Strategy):
    name = "time_dependent"
    properties = {
        "stochastic": False,
        "concedes": "with time, by the exponent beta",
        "parameters": ("beta",),
        "source": "Faratin, Sierra and Jennings (1998), Robotics and Autonomous Systems 24",
    }

    @staticmethod
    def target(view: View) -> np.ndarray:
        span = np.maximum(view.deadline - 2, 1)      # rounds 1 .. T-1: the last answerable offer
        elapsed = (np.minimum(view.round - 1, span) / span) ** (1.0 / view.beta)
        return view.own_top * (1.0 - elapsed)

    def respond(self, view: View) -> Decision:
        # packages with a gain above zero that meet the target (one comparison does both)
        offer = best_meeting(view.other_gain, view.own_gain, np.maximum(self.target(view), POSITIVE))
        theirs = pick(view.own_gain, view.other_offer)
        accept = (theirs > 0) & (theirs >= pick(view.own_gain, offer))
        return Decision(accept, offer)
