"""A hardliner: always demands its best package; accepts only offers within
``tolerance`` (a share of its best gain) of it. The benchmark of no concession."""

from __future__ import annotations

from ..preferences import pick
from .base import Decision, Strategy, View, best


class Hardliner(Strategy):
    name = "hardliner"
    properties = {
        "stochastic": False,
        "concedes": "never",
        "parameters": ("tolerance",),
        "source": "the no-concession benchmark of the negotiation literature (e.g. Faratin et al. 1998)",
    }

    def respond(self, view: View) -> Decision:
        offer = best(view.own_gain, view.other_gain, view.own_gain > 0)
        top = pick(view.own_gain, offer)
        theirs = pick(view.own_gain, view.other_offer)
        accept = (theirs > 0) & (theirs >= (1.0 - view.tolerance) * top)
        return Decision(accept, offer)
