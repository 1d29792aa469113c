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

from .. import kernels


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
    own_discount: np.ndarray | None = None    # (runs,) per-round discount factors
    other_discount: np.ndarray | None = None  # (equilibrium strategy; 1 = patient)
    # Derived from the gains; the protocol passes it in when it has it at hand.
    known_top: np.ndarray | None = None    # see own_top

    @property
    def own_top(self) -> np.ndarray:
        """(runs,) this side's best gain on offer, or 0 if it gains from nothing."""
        if self.known_top is not None:
            return self.known_top
        return kernels.top_gain(self.own_gain)

    def rows(self, mask: np.ndarray) -> "View":
        return View(
            self.round, self.deadline[mask], self.own_gain[mask], self.other_gain[mask],
            self.own_offer[mask], self.other_offer[mask], self.beta[mask], self.tolerance[mask],
            None if self.own_discount is None else self.own_discount[mask],
            None if self.other_discount is None else self.other_discount[mask],
            None if self.known_top is None else self.known_top[mask],
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
    return kernels.best(primary, secondary, allowed)


def best_meeting(primary: np.ndarray, secondary: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """:func:`best` among the packages whose secondary value is at least the run's
    threshold (one pass, no mask)."""
    return kernels.best_meeting(primary, secondary, threshold)
