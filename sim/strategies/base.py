"""What a strategy sees and what it answers.

A strategy is a small object with a name, a dict of properties (from which
literature, whether it is stochastic) and one rule, compiled (numba), that answers
for one run: ``rule(round, deadline, own_gain, other_gain, gaining, own_offer,
other_offer, beta, tolerance, own_discount, other_discount, own_top) -> (accept,
offer)``, where the gains are the run's (packages,) arrays (gain over the status quo,
-inf for an excluded package: complete information, as Zeuthen's and the
time-dependent tactics assume), ``gaining`` lists in order the packages this side gains
from (no strategy offers another, so its searches go over these only) and the offers
are package numbers or -1. A strategy that ``reads = "acceptance"`` gets, in place of
the other side's gain, the chance that the other side accepts each package as this side
believes it (sim.strategies.bayesian). Where the other side's reservation is private,
``other_gain`` is its gain as this side expects it (at the mean of its posterior,
sim.protocol). A rule compares computed values only through sim.kernels'
``exceeds``, ``at_least`` and ``beats`` (equal up to ``sim.kernels.TIE``). The engines
call the rule inside their compiled round (sim.strategies.respond picks it by the
strategy's number); ``respond(view)`` applies it to every run of a :class:`View`, for
analysis and tests.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .. import kernels


@dataclass(frozen=True)
class View:
    round: int  # 1-based round number
    deadline: np.ndarray  # (runs,) last round
    own_gain: np.ndarray  # (runs, packages) gain over the status quo; -inf if excluded
    other_gain: np.ndarray  # (runs, packages) the same for the other side
    own_offer: np.ndarray  # (runs,) this side's standing offer, or -1
    other_offer: np.ndarray  # (runs,) the other side's standing offer, or -1
    beta: np.ndarray  # (runs,) concession exponent (time-dependent)
    tolerance: np.ndarray  # (runs,) hardliner's tolerance
    own_discount: np.ndarray | None = None  # (runs,) per-round discount factors
    other_discount: np.ndarray | None = None  # (equilibrium strategy; 1 = patient)
    other_accepts: np.ndarray | None = None  # (runs, packages) believed chance the other side accepts;
    #                                          None: 1 where its gain is above zero (complete information)

    @property
    def runs(self) -> int:
        return self.own_gain.shape[0]

    @property
    def own_top(self) -> np.ndarray:
        """(runs,) this side's best gain on offer, or 0 if it gains from nothing."""
        return kernels.top_gain(np.ascontiguousarray(self.own_gain, dtype=float))

    def rows(self, mask: np.ndarray) -> View:
        return View(
            self.round,
            self.deadline[mask],
            self.own_gain[mask],
            self.other_gain[mask],
            self.own_offer[mask],
            self.other_offer[mask],
            self.beta[mask],
            self.tolerance[mask],
            None if self.own_discount is None else self.own_discount[mask],
            None if self.other_discount is None else self.other_discount[mask],
            None if self.other_accepts is None else self.other_accepts[mask],
        )

    @property
    def accepts(self) -> np.ndarray:
        """(runs, packages) the chance the other side accepts each package, as this side believes it."""
        if self.other_accepts is not None:
            return np.asarray(self.other_accepts, dtype=float)
        return (np.asarray(self.other_gain, dtype=float) - kernels.TIE > 0).astype(float)


@dataclass(frozen=True)
class Decision:
    accept: np.ndarray  # (runs,) bool: accept the other side's standing offer
    offer: np.ndarray  # (runs,) package offered when not accepting


class Strategy(ABC):
    name: ClassVar[str]
    properties: ClassVar[dict]
    rule: ClassVar[Callable]  # the compiled rule for one run (see the module's docstring)
    reads: ClassVar[str] = "gain"  # what it reads of the other side: its "gain", or its chance of "acceptance"

    def respond(self, view: View) -> Decision:
        """Accept the other side's standing offer, or name the package to offer, for every run."""
        n = view.runs
        ones = np.ones(n)
        d_own = ones if view.own_discount is None else view.own_discount
        d_other = ones if view.other_discount is None else view.other_discount
        own = np.ascontiguousarray(view.own_gain, dtype=float)
        other = np.ascontiguousarray(view.accepts if self.reads == "acceptance" else view.other_gain, dtype=float)
        top = view.own_top
        accept, offer = np.zeros(n, bool), np.empty(n, np.int64)
        gaining = np.empty(own.shape[1], np.int64)
        for r in range(n):
            listed = gaining[: kernels.gaining_row(own[r], gaining)]
            accept[r], offer[r] = type(self).rule(
                view.round,
                int(view.deadline[r]),
                own[r],
                other[r],
                listed,
                int(view.own_offer[r]),
                int(view.other_offer[r]),
                float(view.beta[r]),
                float(view.tolerance[r]),
                float(d_own[r]),
                float(d_other[r]),
                float(top[r]),
            )
        return Decision(accept, offer)
