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

import numpy as np

from ..preferences import pick
from ..space import NO_PACKAGE
from .base import Decision, Strategy, View, best


def risk(own_gain_of_own: np.ndarray, own_gain_of_theirs: np.ndarray) -> np.ndarray:
    """Zeuthen's willingness to risk conflict; 0 when one's own offer gains nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (own_gain_of_own - own_gain_of_theirs) / own_gain_of_own
    return np.where(own_gain_of_own > 0, r, 0.0)


class Zeuthen(Strategy):
    name = "zeuthen"
    properties = {
        "stochastic": False,
        "concedes": "when its risk of conflict is the smaller",
        "parameters": (),
        "source": "Zeuthen (1930); Harsanyi (1956), Econometrica 24; Rosenschein and Zlotkin (1994)",
    }

    def respond(self, view: View) -> Decision:
        both_gain = (view.own_gain > 0) & (view.other_gain > 0)
        nash = np.where(both_gain, view.own_gain * view.other_gain, -np.inf)
        opening = best(view.own_gain, nash, both_gain)

        own_standing = (view.own_offer >= 0) & (pick(nash, view.own_offer) > 0)
        their_standing = (view.other_offer >= 0) & (pick(nash, view.other_offer) > 0)
        mine = np.where(own_standing, view.own_offer, opening)
        theirs = pick(view.own_gain, view.other_offer)
        accept = their_standing & (theirs >= pick(view.own_gain, mine))

        their_nash = np.where(their_standing, pick(nash, view.other_offer), -np.inf)
        concede = own_standing & their_standing & (pick(nash, mine) <= their_nash)
        concession = best(view.own_gain, nash, nash > their_nash[:, None])
        exhausted = concession == NO_PACKAGE
        accept = accept | (concede & exhausted)
        offer = np.where(concede & ~exhausted, concession, mine)
        return Decision(accept, offer)
