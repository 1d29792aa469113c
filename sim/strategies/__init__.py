"""The negotiation strategies: one small class each, and the list of all of them."""

from .base import Decision, Strategy, View
from .hardliner import Hardliner
from .rubinstein import Rubinstein
from .time_dependent import TimeDependent, family
from .zeuthen import Zeuthen

STRATEGIES: tuple[Strategy, ...] = (TimeDependent(), Zeuthen(), Hardliner(), Rubinstein())
STRATEGY_INDEX = {s.name: i for i, s in enumerate(STRATEGIES)}


def describe(kind: str, beta: float | None = None, tolerance: float = 0.0, discount: float = 1.0) -> str:
    if kind == "time_dependent":
        return f"time-dependent, {family(beta)} (beta = {beta:g})"
    if kind == "hardliner":
        return f"hardliner (tolerance = {tolerance:g})"
    if kind == "rubinstein":
        return f"Rubinstein equilibrium (discount factor = {discount:g})"
    return "Zeuthen (risk-based concession)"


__all__ = ["STRATEGIES", "STRATEGY_INDEX", "Decision", "Strategy", "View", "describe"]
