"""What a strategy sees and what it answers.

A strategy is a small object with a name, a dict of properties (from which
literature, whether it is stochastic) and one method, ``respond(view)``. It sees a
:class:`View`, never the model: the round, the deadline, the gains every package
brings to it and to the other side (complete information, as Zeuthen's and the
time-dependent tactics assume), and the offers standing. All arrays carry a
leading run axis, so a strategy answers for one run or for many at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..preferences import pick
from ..space import NO_PACKAGE


@dataclass(frozen=True)
class View:
    round: int                 # 1-based round number
    deadline: np.ndarray       # (runs,) last round
    own_gain: np.ndarray       # (runs, packages) gain over the status quo; -inf if excluded
    other_gain: np.ndarray     # (runs, packages) the same for the other side
    own_offer: np.ndarray      # (runs,) this side's standing offer, or -1
    other_offer: np.ndarray    # (runs,) the other side's standing offer, or -1
    beta: np.ndarray           # (runs,) concession exponent (time-dependent)
    tolerance: np.ndarray      # (runs,) hardliner's tolerance

    def rows(self, mask: np.ndarray) -> "View":
        return View(
            self.round, self.deadline[mask], self.own_gain[mask], self.other_gain[mask],
            self.own_offer[mask], self.other_offer[mask], self.beta[mask], self.tolerance[mask],
        )


@dataclass(frozen=True)
class Decision:
    accept: np.ndarray         # (runs,) bool: accept the other side's standing offer
    offer: np.ndarray          # (runs,) package offered when not accepting


class Strategy(ABC):
    name: ClassVar[str]
    properties: ClassVar[dict]

    @abstractmethod
    def respond(self, view: View) -> Decision:
        """Accept the other side's standing offer, or name the package to offer."""


def best(primary: np.ndarray, secondary: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Per run, the allowed package with the highest primary value, ties broken by the
    secondary value, then by the lower package number; -1 where nothing is allowed."""
    p = np.where(allowed, primary, -np.inf)
    tied = allowed & (p == p.max(axis=1, keepdims=True))
    chosen = np.where(tied, secondary, -np.inf).argmax(axis=1)
    return np.where(allowed.any(axis=1), chosen, NO_PACKAGE)


def gain_of(gains: np.ndarray, package: np.ndarray) -> np.ndarray:
    """Gain of one package per run; NaN where there is none (so comparisons fail)."""
    return pick(gains, package)
