"""Time-dependent concession (Faratin, Sierra and Jennings 1998).

The side demands a gain that falls from its best toward zero as the deadline nears:
``target(t) = best * (1 - (t / T) ** (1 / beta))``. With beta < 1 it holds firm until
late (Boulware), beta = 1 concedes linearly, beta > 1 concedes early (Conceder).
It offers, among packages meeting its target, the one the other side likes most,
and accepts an offer at least as good for it as the one it would make (AC-next).
"""

from __future__ import annotations

import numpy as np

from .base import Decision, Strategy, View, best, gain_of


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
        allowed = view.own_gain > 0
        top = np.where(allowed, view.own_gain, 0.0).max(axis=1)
        elapsed = (view.round / view.deadline) ** (1.0 / view.beta)
        return top * (1.0 - elapsed)

    def respond(self, view: View) -> Decision:
        target = self.target(view)
        meets = (view.own_gain > 0) & (view.own_gain >= target[:, None])
        offer = best(view.other_gain, view.own_gain, meets)
        theirs = gain_of(view.own_gain, view.other_offer)
        accept = (theirs > 0) & (theirs >= gain_of(view.own_gain, offer))
        return Decision(accept, offer)
