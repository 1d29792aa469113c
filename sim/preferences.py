"""Preferences as arrays: each actor's value of every package, for one run or many.

``Tables.from_scenarios`` turns validated scenarios (one per run; they must share
their issues) into arrays with a leading run axis. The functions below are the
model's valuation rules; they are pure and take arrays of shape (runs, packages)
and (runs,), so one run and a million runs go through the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .scenario import Scenario
from .space import OutcomeSpace


@dataclass(frozen=True)
class PartyTables:
    utility: np.ndarray       # (runs, packages) treaty value + weighted issue values
    reservation: np.ndarray   # (runs,) value of the status quo
    anticipation: np.ndarray  # (runs,) weight on the chance that the publics ratify
    acceptance: np.ndarray    # (runs, packages) this public's base acceptance
    volatility: np.ndarray    # (runs,) s.d. of the public's mood shock per round
    threshold: np.ndarray     # (runs,)
    margin: np.ndarray        # (runs,)
    rhetoric: np.ndarray      # (runs, packages) change in acceptance at full rhetoric
    strategy: np.ndarray      # (runs,) index into sim.strategies.STRATEGIES
    beta: np.ndarray          # (runs,) time-dependent concession exponent
    tolerance: np.ndarray     # (runs,) hardliner's tolerance
    patience: np.ndarray      # (runs,) offers without improvement before walking away


@dataclass(frozen=True)
class OutsideTables:
    active: np.ndarray        # (runs,) bool
    target: np.ndarray        # (runs,) index of the party it presses
    utility: np.ndarray       # (runs, packages)
    reservation: np.ndarray   # (runs,)
    response: np.ndarray      # (runs,)
    goodwill_cost: np.ndarray  # (runs,)
    pressure_max: np.ndarray  # (runs,)
    shift: np.ndarray         # (runs, packages) change in the target's utility per unit of pressure
    rhetoric_max: np.ndarray  # (runs,)
    autonomy: np.ndarray      # (runs,) the target's autonomy in round 1
    autonomy_growth: np.ndarray  # (runs,) per round


@dataclass(frozen=True)
class Tables:
    space: OutcomeSpace
    party_ids: tuple[str, str]
    outside_id: str | None
    labels: dict[str, str]          # display label of each party and of the outside power
    public_labels: tuple[str, str]
    parties: tuple[PartyTables, PartyTables]
    outside: OutsideTables
    deadline: np.ndarray      # (runs,) int
    opener: np.ndarray        # (runs,) 0 or 1
    ratification: np.ndarray  # (runs,) bool
    continue_after_failure: np.ndarray  # (runs,) bool

    @property
    def runs(self) -> int:
        return self.deadline.shape[0]

    @classmethod
    def from_scenarios(cls, scenarios: list[Scenario]) -> "Tables":
        from .strategies import STRATEGY_INDEX

        first = scenarios[0]
        space = OutcomeSpace.from_issues({k: v.options for k, v in first.issues.items()})
        ids = first.party_ids
        for s in scenarios[1:]:
            if s.party_ids != ids or tuple(tuple(i.options) for i in s.issues.values()) != space.options:
                raise ValueError("runs evaluated together must share parties and issues")
        issues = space.issues

        def col(get, dtype=np.float64):
            return np.array([get(s) for s in scenarios], dtype=dtype)

        def additive(get_table, get_constant):
            per_option = [
                np.array([get_table(s, issue) for s in scenarios], dtype=np.float64) for issue in issues
            ]
            return space.additive(per_option, col(get_constant))

        def weighted(s_util, issue):
            entry = s_util.issues[issue]
            return [entry.weight * v for v in entry.values]

        def zeros_or(table, issue):
            entry = table.get(issue)
            return entry.values if entry is not None else [0.0] * len(space.options[issues.index(issue)])

        def party(i: int) -> PartyTables:
            pid = ids[i]
            p = lambda s: s.parties[pid]  # noqa: E731
            return PartyTables(
                utility=additive(lambda s, iss: weighted(p(s).utility, iss), lambda s: p(s).utility.treaty.value),
                reservation=col(lambda s: p(s).utility.reservation.value),
                anticipation=col(lambda s: p(s).anticipation.value),
                acceptance=additive(lambda s, iss: zeros_or(p(s).public.effects, iss), lambda s: p(s).public.base.value),
                volatility=col(lambda s: p(s).public.volatility.value),
                threshold=col(lambda s: p(s).public.threshold.value),
                margin=col(lambda s: p(s).public.margin.value),
                rhetoric=additive(lambda s, iss: zeros_or(_rhetoric_effects(s, pid), iss), lambda s: 0.0),
                strategy=col(lambda s: STRATEGY_INDEX[p(s).strategy.kind], np.int64),
                beta=col(lambda s: p(s).strategy.beta or 1.0),
                tolerance=col(lambda s: p(s).strategy.tolerance),
                patience=col(lambda s: p(s).strategy.patience, np.int64),
            )

        def outside() -> OutsideTables:
            o = lambda s: s.outside_power[1] if s.outside_power else None  # noqa: E731
            present = [o(s) is not None for s in scenarios]
            if not all(present):
                if any(present):
                    raise ValueError("runs evaluated together must all have or all lack an outside power")
                n, zero = len(scenarios), np.zeros(len(scenarios))
                none = np.zeros((n, space.size))
                return OutsideTables(
                    np.zeros(n, bool), np.zeros(n, np.int64), none, zero, zero, zero, zero, none, zero, zero, zero
                )
            target = lambda s: s.parties[o(s).acts_on]  # noqa: E731
            return OutsideTables(
                active=col(lambda s: o(s).active, bool),
                target=col(lambda s: ids.index(o(s).acts_on), np.int64),
                utility=additive(lambda s, iss: weighted(o(s).utility, iss), lambda s: o(s).utility.treaty.value),
                reservation=col(lambda s: o(s).utility.reservation.value),
                response=col(lambda s: o(s).response.value),
                goodwill_cost=col(lambda s: o(s).goodwill_cost.value),
                pressure_max=col(lambda s: o(s).pressure.max.value),
                shift=additive(lambda s, iss: zeros_or(o(s).pressure.shift, iss), lambda s: 0.0),
                rhetoric_max=col(lambda s: o(s).rhetoric.max.value),
                autonomy=col(lambda s: target(s).autonomy.value),
                autonomy_growth=col(lambda s: target(s).autonomy_growth.value),
            )

        return cls(
            space=space,
            party_ids=ids,
            outside_id=first.outside_power[0] if first.outside_power else None,
            labels={**{pid: first.parties[pid].label for pid in ids},
                    **({first.outside_power[0]: first.outside_power[1].label} if first.outside_power else {})},
            public_labels=tuple(first.parties[pid].public.label for pid in ids),
            parties=(party(0), party(1)),
            outside=outside(),
            deadline=col(lambda s: s.negotiation.deadline, np.int64),
            opener=col(lambda s: ids.index(s.negotiation.opener), np.int64),
            ratification=col(lambda s: s.negotiation.ratification, bool),
            continue_after_failure=col(lambda s: s.negotiation.after_failed_ratification == "continue", bool),
        )

    def select(self, rows: np.ndarray) -> "Tables":
        """The tables of a subset of runs (rows: indices or a boolean mask)."""

        def take(obj):
            return type(obj)(**{f.name: getattr(obj, f.name)[rows] for f in fields(obj)})

        return Tables(
            space=self.space,
            party_ids=self.party_ids,
            outside_id=self.outside_id,
            labels=self.labels,
            public_labels=self.public_labels,
            parties=(take(self.parties[0]), take(self.parties[1])),
            outside=take(self.outside),
            deadline=self.deadline[rows],
            opener=self.opener[rows],
            ratification=self.ratification[rows],
            continue_after_failure=self.continue_after_failure[rows],
        )


def _rhetoric_effects(s: Scenario, party_id: str) -> dict:
    power = s.outside_power
    if power is None:
        return {}
    return power[1].rhetoric.effects.get(party_id, {})


# --------------------------------------------------------------------------- rules


def pick(values: np.ndarray, package: np.ndarray) -> np.ndarray:
    """values[r, package[r]] for every run r; NaN where package is -1 (none)."""
    rows = np.arange(values.shape[0])
    out = values[rows, np.maximum(package, 0)]
    return np.where(package >= 0, out, np.nan)


def pressured_utility(utility: np.ndarray, shift: np.ndarray, effective_pressure: np.ndarray) -> np.ndarray:
    """The pressed party's utility this round: its own plus the outside power's shift (L11, L15)."""
    return utility + effective_pressure[:, None] * shift


def opinion(base: np.ndarray, rhetoric_effect: np.ndarray, rhetoric: np.ndarray) -> np.ndarray:
    """A public's known opinion of each package: the share accepting it as the polls have
    it, moved by the outside power's rhetoric (L25). Not clipped: the mood of the day is
    added before the share is bounded to [0, 1]."""
    return base + rhetoric[:, None] * rhetoric_effect


def ratification_probability(accepting: np.ndarray, threshold: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Chance that a public lets a treaty through: 0 below threshold - margin, 1 above
    threshold + margin, linear between (threshold 0.5, margin 0.5 gives the share itself)."""
    shape = (slice(None),) + (None,) * (np.ndim(accepting) - 1)
    return np.clip((accepting - threshold[shape]) / (2.0 * margin[shape]) + 0.5, 0.0, 1.0)


def negotiating_gain(utility: np.ndarray, reservation: np.ndarray, anticipation: np.ndarray,
                     ratify_both: np.ndarray) -> np.ndarray:
    """Gain over the status quo that a government bargains with (Putnam's two levels):
    with anticipation a, a package ratified with probability p is worth (1 - a + a p) of its gain."""
    factor = 1.0 - anticipation[:, None] * (1.0 - ratify_both)
    return (utility - reservation[:, None]) * factor
