"""The negotiation strategies: one small class each, the list of all of them, and the
compiled dispatch that the engines call (a strategy's number is its place in the list)."""

from numba import njit

from ..kernels import LEAN
from .base import Decision, Strategy, View
from .bayesian import Bayesian, bayesian
from .hardliner import Hardliner, hardliner
from .rubinstein import Rubinstein, rubinstein
from .time_dependent import TimeDependent, family, time_dependent
from .zeuthen import Zeuthen, zeuthen

STRATEGIES: tuple[Strategy, ...] = (TimeDependent(), Zeuthen(), Hardliner(), Rubinstein(), Bayesian())
BAYESIAN = 4  # the one strategy that reads the other side's chance of accepting
STRATEGY_INDEX = {s.name: i for i, s in enumerate(STRATEGIES)}


# respond()'s compiled code includes the rules it calls, but numba's cache notices edits
# to this file only (see sim.kernels on deleting stale caches).
@njit(**LEAN)
def respond(kind, round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top):
    """The answer of the strategy numbered ``kind`` (see sim.strategies.base for the arguments)."""
    args = (round_, deadline, own, other, gaining, own_offer, other_offer, beta, tolerance, d_own, d_other, top)
    if kind == 0:
        return time_dependent(*args)
    if kind == 1:
        return zeuthen(*args)
    if kind == 2:
        return hardliner(*args)
    if kind == 3:
        return rubinstein(*args)
    return bayesian(*args)


# respond() numbers the rules in the order of STRATEGIES; keep the two together.
assert [type(s).rule for s in STRATEGIES] == [time_dependent, zeuthen, hardliner, rubinstein, bayesian]
assert [s.reads == "acceptance" for s in STRATEGIES].index(True) == BAYESIAN


def describe(kind: str, beta: float | None = None, tolerance: float = 0.0, discount: float = 1.0) -> str:
    if kind == "time_dependent" and beta is not None:
        return f"time-dependent, {family(beta)} (beta = {beta:g})"
    if kind == "hardliner":
        return f"hardliner (tolerance = {tolerance:g})"
    if kind == "rubinstein":
        return f"Rubinstein equilibrium (discount factor = {discount:g})"
    if kind == "bayesian":
        return f"belief-based, offers the best expected gain (discount factor = {discount:g})"
    return "Zeuthen (risk-based concession)"


__all__ = ["BAYESIAN", "STRATEGIES", "STRATEGY_INDEX", "Decision", "Strategy", "View", "describe", "respond"]
