"""Preferences as arrays: each actor's value of every package, for one run or many.

``Tables.from_scenarios`` turns validated scenarios (one per run; they must share
their issues and their conditions) into arrays with a leading run axis. A value table
(a party's utility, a public's acceptance, the rhetoric's effect, the pressure's shift)
is kept as its terms, (runs, terms): the constant, then the value of each option of each
issue, then, where a value counts only when another issue takes some options, a cell per
combination of the two issues' options (OutcomeSpace.terms_total); its value for every
package, (runs, packages), is made when first asked for.
The compiled engine expands the terms of one run at a time, so a sweep never holds
the package tables of all its runs. The functions below are the model's valuation
rules; they are pure, so one run and a million runs go through the same code.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
from numba import njit
from pydantic import BaseModel

from .kernels import exceeds
from .scenario import PRIVATE_KEYS, RATIFIERS, Party, Scenario, flatten, numbers_with_distributions
from .space import OutcomeSpace


def _package_values(terms: str, doc: str) -> cached_property:
    """A (runs, packages) table expanded from the terms field ``terms`` when first asked for."""
    table = cached_property(lambda self: self.space.expand(getattr(self, terms)))
    table.__doc__ = doc
    return table


@dataclass(frozen=True)
class PartyTables:
    space: OutcomeSpace
    utility_terms: np.ndarray  # (runs, terms) treaty value, then each option's weighted value
    reservation: np.ndarray  # (runs,) value of the status quo
    anticipation: np.ndarray  # (runs,) weight on the chance that the publics ratify
    acceptance_terms: np.ndarray  # (runs, terms) this public's base acceptance, then each option's effect
    volatility: np.ndarray  # (runs,) s.d. of the public's mood shock per round
    threshold: np.ndarray  # (runs,) centre of the belief about the ratifier's threshold
    margin: np.ndarray  # (runs,) its half-width (the belief is uniform)
    institution: np.ndarray  # (runs,) 0: the public's chance at each vote; k: RATIFIERS[k - 1], a threshold per run
    failure_cost: np.ndarray  # (runs,) cost to the government of a package it signed failing at home
    round_cost: np.ndarray  # (runs,) what one more round of talks costs the government (0: nothing)
    rhetoric_terms: np.ndarray  # (runs, terms) 0, then each option's change in acceptance at full rhetoric
    strategy: np.ndarray  # (runs,) index into sim.strategies.STRATEGIES
    beta: np.ndarray  # (runs,) time-dependent concession exponent
    tolerance: np.ndarray  # (runs,) hardliner's tolerance
    discount: np.ndarray  # (runs,) per-round discount factor (equilibrium strategy)
    patience: np.ndarray  # (runs,) offers without improvement before walking away
    private: np.ndarray  # (runs,) bool: a number of this party's is known only to it
    private_terms: np.ndarray  # (runs, terms) the slope of its gain in that number: -1 a reservation's, +1 a
    #                            treaty value's, an option's weight where it is chosen, ... (_slope_terms)
    private_value: np.ndarray  # (runs,) its true value in the run
    types: np.ndarray  # (runs, types) the values the other side thinks it might take
    prior: np.ndarray  # (runs, types) the other side's prior over them (one type at the reservation: none)
    noise: np.ndarray  # (runs,) the chance, as the other side sees it, of turning down an offer it gains from
    private_key: str = PRIVATE_KEYS["reservation"]  # the private number's key path under the party (PrivateValue.key)

    utility = _package_values("utility_terms", "(runs, packages) the treaty's value and its terms' weighted values")
    acceptance = _package_values("acceptance_terms", "(runs, packages) the share of this public accepting")
    rhetoric = _package_values("rhetoric_terms", "(runs, packages) the change in acceptance at full rhetoric")


@dataclass(frozen=True)
class OutsideTables:
    space: OutcomeSpace
    active: np.ndarray  # (runs,) bool
    target: np.ndarray  # (runs,) index of the party it presses
    utility_terms: np.ndarray  # (runs, terms) treaty value, then each option's weighted value
    reservation: np.ndarray  # (runs,)
    response: np.ndarray  # (runs,)
    goodwill_cost: np.ndarray  # (runs,)
    pressure_max: np.ndarray  # (runs,)
    shift_terms: np.ndarray  # (runs, terms) 0, then each option's change in the target's utility
    #                           per unit of pressure
    rhetoric_max: np.ndarray  # (runs,)
    autonomy: np.ndarray  # (runs,) the target's autonomy in round 1
    autonomy_growth: np.ndarray  # (runs,) per round
    smooth: np.ndarray  # (runs,) bool: alarm 1 - exp(-response x excess) rather than clipped linear
    expected: np.ndarray  # (runs,) bool: threat weighted by the chance the offer is ratified

    utility = _package_values("utility_terms", "(runs, packages) the treaty's value and its terms' weighted values")
    shift = _package_values("shift_terms", "(runs, packages) change in the target's utility per unit of pressure felt")


@dataclass(frozen=True)
class PolicyTables:
    """A strategic outside power's options (sim.strategic): each a cap on its pressure and
    its rhetoric (shares of pressure_max and rhetoric_max) and a cost, per run."""

    pressure: np.ndarray  # (runs, options) share of pressure_max
    rhetoric: np.ndarray  # (runs, options) share of rhetoric_max
    cost: np.ndarray  # (runs, options) utility the option costs the power, once per run
    samples: int  # forward runs per option, the same in every run
    inducement: np.ndarray | None = None  # (runs, options) added to the pressed party's value of no agreement

    @property
    def options(self) -> int:
        return self.pressure.shape[1]


@dataclass(frozen=True)
class PatronTables:
    """A patron (sim.scenario.Patron): whom it backs, what it wants, and what its offer is worth."""

    space: OutcomeSpace
    target: np.ndarray  # (runs,) index of the party it backs
    utility_terms: np.ndarray  # (runs, terms) treaty value, then each option's weighted value
    reservation: np.ndarray  # (runs,) its value of no treaty
    offer: np.ndarray  # (runs,) offer.max: the most its offer adds to the backed party's value of no agreement
    discount: np.ndarray  # (runs,) the share of that the backed party discounts

    utility = _package_values("utility_terms", "(runs, packages) the treaty's value and its terms' weighted values")


@dataclass(frozen=True)
class BackingTables:
    """A patron's offers, still to be made (sim.strategic): each a share of offer.max and a
    cost, per run. ``strategic``: it chooses among them; otherwise it makes the one it has."""

    offer: np.ndarray  # (runs, options) share of offer.max
    cost: np.ndarray  # (runs, options) utility the offer costs the patron, once per run
    samples: int  # forward runs per option (or pair of options), the same in every run
    strategic: bool
    first: bool = True  # it commits first and a strategic outside power answers (False: it answers that power)

    @property
    def options(self) -> int:
        return self.offer.shape[1]


def _arrays(kind) -> list[str]:
    return [f.name for f in fields(kind) if f.name not in ("space", "private_key")]


# The compiled engine's views of the tables: one field per array, named as in the tables.
PartyRows = namedtuple("PartyRows", _arrays(PartyTables))  # type: ignore[misc]
OutsideRows = namedtuple("OutsideRows", _arrays(OutsideTables))  # type: ignore[misc]
NegotiationRows = namedtuple(
    "NegotiationRows",
    ["deadline", "opener", "ratification", "continue_after_failure", "stall", "deadline_spread", "majority"],
)


@dataclass(frozen=True)
class Tables:
    space: OutcomeSpace
    party_ids: tuple[str, ...]  # the governments at the table, two or more
    outside_id: str | None
    labels: dict[str, str]  # display label of each party and of the outside power
    public_labels: tuple[str, ...]
    parties: tuple[PartyTables, ...]
    outside: OutsideTables
    deadline: np.ndarray  # (runs,) int
    opener: np.ndarray  # (runs,) index of the party that moves first
    ratification: np.ndarray  # (runs,) bool
    continue_after_failure: np.ndarray  # (runs,) bool
    stall: np.ndarray  # (runs,) bool: talks with no zone of agreement go on
    deadline_spread: np.ndarray  # (runs,) int: the last round is drawn from deadline -/+ this
    majority: np.ndarray  # (runs,) bool: a majority passes a recognised proposer's proposal (else all must accept)
    policy: PolicyTables | None = None  # a strategic outside power's options; None: its reflex alone
    patron_id: str | None = None
    patron: PatronTables | None = None  # a patron backing one party's alternative to agreement
    backing: BackingTables | None = None  # its offers still to be made; None once made (sim.strategic.choose)

    @property
    def runs(self) -> int:
        return self.deadline.shape[0]

    @property
    def actors(self) -> list[str]:
        """Every actor whose utility of the outcome is reported: the parties, the outside
        power and the patron."""
        return [*self.party_ids, *(a for a in (self.outside_id, self.patron_id) if a)]

    @property
    def horizon(self) -> int:
        """The last round any run can reach."""
        return int((self.deadline + self.deadline_spread).max())

    @classmethod
    def from_scenarios(cls, scenarios: list[Scenario]) -> Tables:
        """Tables of one run per scenario; the scenarios must share parties and issues."""
        first = scenarios[0]
        if len(scenarios) == 1:
            return cls.from_columns(first, {}, 1)
        leaves = [flatten(s.resolved()) for s in scenarios]
        for s in scenarios[1:]:
            if s.party_ids != first.party_ids or s.issues != first.issues:
                raise ValueError("runs evaluated together must share parties and issues")
            if list(s.outside) != list(first.outside) or list(s.patron) != list(first.patron):
                raise ValueError(
                    "runs evaluated together must have the same outside power and the same patron (or none); found "
                    f"{list(first.outside) + list(first.patron)} and {list(s.outside) + list(s.patron)}"
                )
        keys = set().union(*leaves)
        varying = {k for k in keys if any(leaf.get(k) != leaves[0].get(k) for leaf in leaves[1:])}
        columns = {k: np.array([leaf.get(k) for leaf in leaves], dtype=object) for k in varying}
        return cls.from_columns(first, columns, len(scenarios))

    @classmethod
    def for_seeds(
        cls, scenario: Scenario, seeds: np.ndarray, quantiles: dict[str, np.ndarray] | None = None
    ) -> tuple[Tables, dict[str, np.ndarray]]:
        """The tables of one run per seed, each in its own world: every uncertain belief of
        the scenario drawn from the run's seed (sim.worlds), or at the quantile
        ``quantiles`` gives it (by quantile key, one per run). Returns the tables and the
        drawn values by key path. Without uncertain beliefs, one row serves every seed
        (and the drawn values are none)."""
        from .scenario import uncertain
        from .worlds import draw

        drawn = draw(uncertain(scenario), np.asarray(seeds, dtype=np.uint64), quantiles=quantiles)
        if not drawn:
            return cls.from_scenarios([scenario]), {}
        return cls.from_columns(scenario, drawn, len(seeds)), drawn

    @classmethod
    def from_columns(cls, base: Scenario, columns: dict[str, np.ndarray], runs: int) -> Tables:
        """Tables of ``runs`` runs of ``base``, where each key path in ``columns`` (as in
        ``--set``, list elements by index, beliefs by ``.value``) takes one value per run.
        The caller is responsible for the values being valid (sweeps check their ranges)."""
        from .strategies import STRATEGY_INDEX

        conditional = sorted(k for k in columns if ".when." in f".{k}.")
        if conditional:
            raise ValueError(f"a condition (`when`) is the same in every run; found one varied: {conditional[0]}")
        get = _Columns(base, columns, runs)
        space = OutcomeSpace.from_issues({k: v.options for k, v in base.issues.items()}, _pairs(base))
        ids = base.party_ids

        def party(pid: str) -> PartyTables:
            at = f"parties.{pid}"
            kind = get.scalar(f"{at}.strategy.kind", object)
            reservation = get.scalar(f"{at}.utility.reservation.value")
            private = base.parties[pid].private
            key = PRIVATE_KEYS["reservation"]
            if private is None:  # complete information: one type, the reservation itself
                hidden, slope, truth, types, prior, noise = (
                    np.zeros(runs, bool),
                    _slope_terms(get, space, base.parties[pid], at, key),
                    reservation,
                    reservation[:, None],
                    np.ones((runs, 1)),
                    np.zeros(runs),
                )
            else:
                name, belief_of = private.hidden
                key = private.key
                if any(k.startswith(f"{at}.private.") and k.endswith(".key") for k in columns):
                    raise ValueError(f"which number is private is the same in every run; found {at}.private varied")
                n, belief = len(belief_of.types), f"{at}.private.{name}"
                hidden = np.ones(runs, bool)
                slope = _slope_terms(get, space, base.parties[pid], at, key)
                truth = get.scalar(f"{at}.{key}")
                types, prior = get.vector(f"{belief}.types", n), get.vector(f"{belief}.prior", n)
                noise = get.scalar(f"{belief}.noise")
            ratifier = [k if isinstance(k, str) else "" for k in get.scalar(f"{at}.ratifier.kind", object)]
            institution = _index_of(np.array(ratifier, dtype=object), ("", *RATIFIERS))
            declared = institution > 0
            p = base.parties[pid]
            return PartyTables(
                space=space,
                utility_terms=_terms(
                    get, space, p.utility.issues, f"{at}.utility.issues", get.scalar(f"{at}.utility.treaty.value"), True
                ),
                reservation=reservation,
                anticipation=get.scalar(f"{at}.anticipation.value"),
                acceptance_terms=_terms(
                    get, space, p.public.effects, f"{at}.public.effects", get.scalar(f"{at}.public.base.value"), False
                ),
                volatility=get.scalar(f"{at}.public.volatility.value"),
                threshold=np.where(
                    declared, get.scalar(f"{at}.ratifier.threshold.value"), get.scalar(f"{at}.public.threshold.value")
                ),
                margin=np.where(
                    declared, get.scalar(f"{at}.ratifier.spread.value"), get.scalar(f"{at}.public.margin.value")
                ),
                institution=institution,
                failure_cost=np.nan_to_num(get.scalar(f"{at}.failure_cost.value"), nan=0.0),
                round_cost=np.nan_to_num(get.scalar(f"{at}.round_cost.value"), nan=0.0),
                rhetoric_terms=_outside_terms(get, base, f"rhetoric.effects.{pid}", runs, space),
                strategy=_index_of(kind, tuple(STRATEGY_INDEX)),
                beta=np.nan_to_num(get.scalar(f"{at}.strategy.beta"), nan=1.0),
                tolerance=get.scalar(f"{at}.strategy.tolerance"),
                discount=get.scalar(f"{at}.strategy.discount"),
                patience=get.scalar(f"{at}.strategy.patience", np.int64),
                private=hidden,
                private_terms=slope,
                private_value=truth,
                types=types,
                prior=prior,
                noise=noise,
                private_key=key,
            )

        power = base.outside_power
        if power is None:
            zero, none = np.zeros(runs), np.zeros((runs, space.terms_total))
            outside = OutsideTables(
                space,
                np.zeros(runs, bool),
                np.zeros(runs, np.int64),
                none,
                zero,
                zero,
                zero,
                zero,
                none,
                zero,
                zero,
                zero,
                np.zeros(runs, bool),
                np.zeros(runs, bool),
            )
        else:
            oid, o = power
            at = f"outside.{oid}"
            target = f"parties.{o.acts_on}"
            acts_on = get.scalar(f"{at}.acts_on", object)
            outside = OutsideTables(
                space=space,
                active=get.scalar(f"{at}.active", bool),
                target=_index_of(acts_on, ids),
                utility_terms=_terms(
                    get, space, o.utility.issues, f"{at}.utility.issues", get.scalar(f"{at}.utility.treaty.value"), True
                ),
                reservation=get.scalar(f"{at}.utility.reservation.value"),
                response=get.scalar(f"{at}.response.value"),
                goodwill_cost=get.scalar(f"{at}.goodwill_cost.value"),
                pressure_max=get.scalar(f"{at}.pressure.max.value"),
                shift_terms=_outside_terms(get, base, "pressure.shift", runs, space),
                rhetoric_max=get.scalar(f"{at}.rhetoric.max.value"),
                autonomy=get.scalar(f"{target}.autonomy.value"),
                autonomy_growth=get.scalar(f"{target}.autonomy_growth.value"),
                smooth=get.scalar(f"{at}.alarm", object) == "smooth",
                expected=get.scalar(f"{at}.threat", object) == "expected",
            )
        patron, backing = _patron(get, base, space, ids)
        patron_ids = {base.patron_power[0]: base.patron_power[1].label} if base.patron_power else {}
        opener = get.scalar("negotiation.opener", object)
        return cls(
            patron_id=base.patron_power[0] if base.patron_power else None,
            patron=patron,
            backing=backing,
            policy=_policy(get, base),
            space=space,
            party_ids=ids,
            outside_id=power[0] if power else None,
            labels={
                **{pid: base.parties[pid].label for pid in ids},
                **({power[0]: power[1].label} if power else {}),
                **patron_ids,
            },
            public_labels=tuple(base.parties[pid].public.label for pid in ids),
            parties=tuple(party(pid) for pid in ids),
            outside=outside,
            deadline=get.scalar("negotiation.deadline", np.int64),
            opener=_index_of(opener, ids),
            ratification=get.scalar("negotiation.ratification", bool),
            continue_after_failure=get.scalar("negotiation.after_failed_ratification", object) == "continue",
            stall=get.scalar("negotiation.when_no_zone", object) == "stall",
            deadline_spread=get.scalar("negotiation.deadline_spread", np.int64),
            majority=get.scalar("negotiation.rule", object) == "majority",
        )

    def select(self, rows: np.ndarray) -> Tables:
        """The tables of a subset of runs (rows: indices or a boolean mask), as copies."""
        return self._map(lambda a: a[rows])

    def compiled(self) -> tuple:
        """The arrays as the compiled engine takes them: a tuple of each party's named
        tuple, the outside power's and the negotiation's per-run arrays (C-contiguous)."""

        def rows(obj, kind):  # C-contiguous and writeable, so that every party's rows have one type
            return kind(*(np.require(getattr(obj, f), requirements=["C", "W"]) for f in kind._fields))

        parties = tuple(rows(p, PartyRows) for p in self.parties)
        return parties, rows(self.outside, OutsideRows), rows(self, NegotiationRows)

    def _map(self, f) -> Tables:
        def each(obj):
            labels = {"private_key": obj.private_key} if isinstance(obj, PartyTables) else {}
            return type(obj)(space=obj.space, **labels, **{name: f(getattr(obj, name)) for name in _arrays(type(obj))})

        return Tables(
            space=self.space,
            party_ids=self.party_ids,
            outside_id=self.outside_id,
            labels=self.labels,
            public_labels=self.public_labels,
            parties=tuple(each(p) for p in self.parties),
            outside=each(self.outside),
            deadline=f(self.deadline),
            opener=f(self.opener),
            ratification=f(self.ratification),
            continue_after_failure=f(self.continue_after_failure),
            stall=f(self.stall),
            deadline_spread=f(self.deadline_spread),
            majority=f(self.majority),
            policy=None
            if self.policy is None
            else PolicyTables(
                f(self.policy.pressure),
                f(self.policy.rhetoric),
                f(self.policy.cost),
                self.policy.samples,
                None if self.policy.inducement is None else f(self.policy.inducement),
            ),
            patron_id=self.patron_id,
            patron=None if self.patron is None else each(self.patron),
            backing=None
            if self.backing is None
            else BackingTables(
                f(self.backing.offer),
                f(self.backing.cost),
                self.backing.samples,
                self.backing.strategic,
                self.backing.first,
            ),
        )


def _policy(get: _Columns, base: Scenario) -> PolicyTables | None:
    """A strategic outside power's options, per run; None for its reflex alone (no
    ``policy``, or ``kind = "reflex"``). Its kind and its samples are the same in every run."""
    power = base.outside_power
    if power is None or power[1].policy is None:
        return None
    at = f"outside.{power[0]}.policy"
    kind, samples = _same_in_every_run(get, at, "kind", "samples")
    if kind != "stackelberg":
        return None
    pressure, rhetoric, cost, inducement = _options(
        get, at, len(power[1].policy.options), "pressure", "rhetoric", "cost", "inducement"
    )
    return PolicyTables(pressure, rhetoric, cost, int(samples), inducement if inducement.any() else None)


def _patron(
    get: _Columns, base: Scenario, space: OutcomeSpace, ids: tuple[str, ...]
) -> tuple[PatronTables | None, BackingTables | None]:
    """A patron's tables and its offers still to be made, per run (None and None without a
    patron). Its policy's kind, samples, order of moves and number of options are the same
    in every run."""
    found = base.patron_power
    if found is None:
        return None, None
    pid, p = found
    at = f"patron.{pid}"
    patron = PatronTables(
        space=space,
        target=_index_of(get.scalar(f"{at}.backs", object), ids),
        utility_terms=_terms(
            get, space, p.utility.issues, f"{at}.utility.issues", get.scalar(f"{at}.utility.treaty.value"), True
        ),
        reservation=get.scalar(f"{at}.utility.reservation.value"),
        offer=get.scalar(f"{at}.offer.max.value"),
        discount=get.scalar(f"{at}.discount.value"),
    )
    kind, samples, moves = _same_in_every_run(get, f"{at}.policy", "kind", "samples", "moves")
    offer, cost = _options(get, f"{at}.policy", len(p.policy.options), "offer", "cost")
    return patron, BackingTables(offer, cost, int(samples), kind == "stackelberg", moves == "first")


def _same_in_every_run(get: _Columns, at: str, *keys: str) -> list:
    """The value of each of ``keys`` under ``at``, which must be the same in every run."""
    found = []
    for key in keys:
        column = get.scalar(f"{at}.{key}", object)
        if len(set(column.tolist())) > 1:
            raise ValueError(f"{at}.{key} is the same in every run; found it varied")
        found.append(column[0])
    return found


def _options(get: _Columns, at: str, n: int, *names: str) -> list[np.ndarray]:
    """Each of ``names`` of the ``n`` options under ``at``, (runs, n) per name; runs
    evaluated together must have as many options as the first (``n``)."""
    if any(k.startswith(f"{at}.options.{n}.") for k in get.columns):
        raise ValueError(f"runs evaluated together have as many options ({at}.options) as the first; found more")
    columns = [np.stack([get.scalar(f"{at}.options.{k}.{name}") for k in range(n)], axis=1) for name in names]
    if np.isnan(columns[0]).any():
        raise ValueError(f"runs evaluated together have as many options ({at}.options) as the first; found fewer")
    return columns


def _outside_terms(get: _Columns, base: Scenario, table: str, runs: int, space: OutcomeSpace) -> np.ndarray:
    """The terms of a value table of the outside power (its pressure shift, or its
    rhetoric's effect on one public): a zero constant, then each option's value; zero for
    issues it does not list, or without an outside power."""
    power = base.outside_power
    entries: Any = power[1] if power else {}
    for part in table.split(".") if power else ():  # the table's entries in the validated scenario
        entries = getattr(entries, part) if isinstance(entries, BaseModel) else entries.get(part, {})
    prefix = f"outside.{power[0]}.{table}" if power else ""
    return _terms(get, space, entries, prefix, np.zeros(runs), False)


def _terms(
    get: _Columns, space: OutcomeSpace, entries: dict, prefix: str, constant: np.ndarray, weighted: bool
) -> np.ndarray:
    """The terms of one value table, (runs, space.terms_total): the constant, then each
    option's value (times its issue's weight in a utility), issue by issue; an issue the
    table does not list counts 0. An entry with a condition (``when``, sim.scenario.Condition)
    counts 0 among the options and goes to the cells of its pair of issues instead: in the
    cell of its option and an option of the deciding issue, its value if the condition
    holds there, else its ``otherwise`` (0 where left out), weighted alike. So a package's
    value is the sum, over issues, of the value its option counts given the other issue's
    option (sim.kernels.package_row)."""
    runs = constant.shape[0]
    terms = [constant[:, None]]
    cells = {(a, b): np.zeros((runs, len(space.options[a]), len(space.options[b]))) for a, b in space.pairs}
    for i, issue in enumerate(space.issues):
        n = len(space.options[i])
        entry = entries.get(issue)
        if entry is None:
            terms.append(np.zeros((runs, n)))
            continue
        values = get.vector(f"{prefix}.{issue}.values", n)
        weight = get.scalar(f"{prefix}.{issue}.weight")[:, None] if weighted else None
        if weight is not None:
            values = weight * values
        if entry.when is None:
            terms.append(values)
            continue
        otherwise = np.nan_to_num(get.vector(f"{prefix}.{issue}.otherwise", n), nan=0.0)  # left out: 0
        if weight is not None:
            otherwise = weight * otherwise
        j = space.issues.index(entry.when.issue)
        holds = np.array(entry.when.holds(space.options[j]))
        counted = np.where(holds[None, None, :], values[:, :, None], otherwise[:, :, None])  # (runs, own, deciding)
        if i < j:
            cells[(i, j)] += counted
        else:
            cells[(j, i)] += counted.transpose(0, 2, 1)
        terms.append(np.zeros((runs, n)))
    return np.concatenate(terms + [c.reshape(runs, -1) for c in cells.values()], axis=1)


def _slope_terms(get: _Columns, space: OutcomeSpace, party: Party, at: str, key: str) -> np.ndarray:
    """The terms, (runs, space.terms_total), of the slope of the party's gain in one number
    of its utility, ``key`` (a key path under the party ``at``, as PrivateValue.key): for
    every package, how much U - reservation moves per unit of that number. U - reservation
    is linear in each of its numbers, so the slope is the utility table itself with that
    number 1, the numbers it multiplies as they are (an issue's values and ``otherwise``
    for its weight, its weight for one of them) and every other number 0: the constant
    (treaty) 1 for a treaty value, -1 for a reservation; for option k's value, the issue's
    weight in the packages that choose k (where its condition holds, with ``when``); for
    an issue's weight, the value each package counts on it. Exact, not a difference of two
    tables: every slope is a single number of the scenario, or 0."""
    runs, path = get.runs, f"{at}.{key}"
    if key == PRIVATE_KEYS["reservation"]:
        terms = np.zeros((runs, space.terms_total))
        terms[:, 0] = -1.0
        return terms
    prefix = f"{at}.utility.issues"
    issue = path.removeprefix(f"{prefix}.").split(".")[0] if path.startswith(f"{prefix}.") else None
    kept: tuple[str, ...] = ()
    if issue is not None and path.endswith(".weight"):
        kept = (f"{prefix}.{issue}.values.", f"{prefix}.{issue}.otherwise.")
    elif issue is not None:
        kept = (f"{prefix}.{issue}.weight",)

    class Slope:  # the getter of the slope's table
        def scalar(self, leaf: str) -> np.ndarray:
            if leaf == path:
                return np.ones(runs)
            return get.scalar(leaf) if leaf.startswith(kept) else np.zeros(runs)

        def vector(self, leaf: str, n: int) -> np.ndarray:
            return np.stack([self.scalar(f"{leaf}.{k}") for k in range(n)], axis=1)

    constant = np.ones(runs) if key == PRIVATE_KEYS["treaty"] else np.zeros(runs)
    return _terms(Slope(), space, party.utility.issues, prefix, constant, True)  # type: ignore[arg-type]


def _pairs(s: Scenario) -> tuple[tuple[int, int], ...]:
    """The pairs of issues (by their place, lower first) that some value table of the
    scenario values together: an entry's issue and the issue its condition names."""
    issues = list(s.issues)
    found = set()
    for loc, entry in numbers_with_distributions(s):
        if getattr(entry, "when", None) is not None:
            i, j = issues.index(loc[-1]), issues.index(entry.when.issue)
            found.add((min(i, j), max(i, j)))
    return tuple(sorted(found))


def _index_of(names: np.ndarray, allowed: tuple[str, ...]) -> np.ndarray:
    """Each run's name (of a party, a strategy) by its place in ``allowed``."""
    names = np.asarray(names)
    index = np.full(names.shape[0], -1, np.int64)
    for k, name in enumerate(allowed):
        index[names == name] = k
    if (index < 0).any():
        raise ValueError(f"unknown: {sorted(set(names[index < 0].tolist()))}; allowed: {', '.join(allowed)}")
    return index


_LEAVES: dict[int, tuple[Scenario, dict]] = {}  # a scenario's leaves by its id (the scenario kept, so the id stays its)
_LEAVES_KEPT = 64


def _leaves(base: Scenario) -> dict:
    """``flatten(base.resolved())``, read-only, made once per scenario object: building a
    few runs' tables at a time (a calibration's particles) would otherwise spend a third
    of its time flattening the same scenario."""
    kept = _LEAVES.get(id(base))
    if kept is not None and kept[0] is base:
        return kept[1]
    if len(_LEAVES) >= _LEAVES_KEPT:
        _LEAVES.pop(next(iter(_LEAVES)))
    leaves = flatten(base.resolved())
    _LEAVES[id(base)] = (base, leaves)
    return leaves


class _Columns:
    """Values by key path for each run: a column where one is given, else the base's value."""

    def __init__(self, base: Scenario, columns: dict[str, np.ndarray], runs: int):
        self.leaves = _leaves(base)
        self.columns = columns
        self.runs = runs

    def has(self, path: str) -> bool:
        return f"{path}.0" in self.leaves or path in self.leaves

    def scalar(self, path: str, dtype=np.float64) -> np.ndarray:
        if path in self.columns:
            column = np.asarray(self.columns[path])
            if column.dtype == object and dtype is np.float64:
                column = np.array([np.nan if v is None else v for v in column], dtype=float)
            return column.astype(dtype)
        value = self.leaves.get(path)
        if value is None:
            return np.full(self.runs, np.nan if dtype is np.float64 else 0, dtype=dtype)
        return np.full(self.runs, value, dtype=dtype)

    def vector(self, path: str, n: int) -> np.ndarray:
        return np.stack([self.scalar(f"{path}.{k}") for k in range(n)], axis=1)


# --------------------------------------------------------------------------- rules


# Each valuation rule is written once, for one package of one run, and compiled
# (numba): the compiled engine (sim.protocol) calls them directly, and the functions
# after them apply them to arrays of runs and packages.


@njit(cache=True, nogil=True, inline="always")
def clip01(x: float) -> float:
    """x bounded to [0, 1] (NaN stays NaN, as with np.clip); no branches, so that loops
    over packages vectorise."""
    low = 0.0 if x < 0.0 else x
    return 1.0 if low > 1.0 else low


@njit(cache=True, nogil=True, inline="always")
def pressed(utility, shift, pressure):
    """The pressed party's utility of a package: its own plus the shift per unit of pressure felt."""
    return utility + pressure * shift


@njit(cache=True, nogil=True, inline="always")
def swayed(base, effect, rhetoric):
    """A public's opinion of a package: its base acceptance moved by the rhetoric's effect."""
    return base + rhetoric * effect


@njit(cache=True, nogil=True, inline="always")
def ratify_chance(accepting, threshold, margin):
    """Chance that a ratifier passes a package a given share accepts, for a threshold T
    uniform on [threshold - margin, threshold + margin]: P(share > T), linear between the
    ends (threshold 0.5, margin 0.5: the share itself). It is both the public's chance at
    each vote (a threshold drawn anew at every vote) and what negotiators who hold that
    belief about an institution's threshold expect of it. Margin 0, a known threshold: 1 if
    the share exceeds it (by more than TIE, as the vote counts it, sim.protocol.ratify), else 0."""
    if margin > 0.0:
        return clip01((accepting - threshold) / (2.0 * margin) + 0.5)
    return 1.0 if exceeds(accepting, threshold) else 0.0


@njit(cache=True, nogil=True, inline="always")
def actual_threshold(threshold, margin, u):
    """An institution's threshold in a run: the quantile u of the negotiators' belief,
    uniform on [threshold - margin, threshold + margin] (exactly the threshold when the
    margin is 0). A package passes when the share accepting it that day exceeds this by
    more than TIE, which, for u uniform, happens with the chance ``ratify_chance`` gives."""
    return threshold + margin * (2.0 * u - 1.0)


@njit(cache=True, nogil=True, inline="always")
def bargaining_gain(utility, reservation, anticipation, ratify_both, ratify_own, failure_cost):
    """A government's gain over the status quo, weighed by the chance of ratification
    (Putnam 1988): with anticipation a, a package both ratify with probability P_both is
    worth (1 - a + a P_both) of its gain, less a (1 - P_own) times the cost of signing a
    package that fails at home, P_own its own ratifier's chance (involuntary defection,
    Iida 1996; audience costs, Fearon 1994). With a = 1: P_both (U - reservation) - (1 -
    P_own) cost. With cost 0 the second term is 0 and the gain is the first, exactly."""
    return (utility - reservation) * (1.0 - anticipation * (1.0 - ratify_both)) - anticipation * (
        1.0 - ratify_own
    ) * failure_cost


PRESSED, SWAYED, RATIFY_CHANCE, BARGAINING_GAIN, ACTUAL_THRESHOLD = range(5)


@njit(cache=True, nogil=True)
def _each_element(rule, a, b, c, d, e, f):
    """One of the rules above (by number) applied element by element to flat arrays."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        if rule == PRESSED:
            out[i] = pressed(a[i], b[i], c[i])
        elif rule == SWAYED:
            out[i] = swayed(a[i], b[i], c[i])
        elif rule == RATIFY_CHANCE:
            out[i] = ratify_chance(a[i], b[i], c[i])
        elif rule == ACTUAL_THRESHOLD:
            out[i] = actual_threshold(a[i], b[i], c[i])
        else:
            out[i] = bargaining_gain(a[i], b[i], c[i], d[i], e[i], f[i])
    return out


def _each(rule: int, *arrays) -> np.ndarray:
    """Apply a rule to arrays broadcast together (numpy's rules)."""
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in arrays])
    flat = [np.ascontiguousarray(a).ravel() for a in arrays]
    return _each_element(rule, *flat, *([flat[0]] * (6 - len(flat)))).reshape(arrays[0].shape)


def pressured_utility(utility: np.ndarray, shift: np.ndarray, effective_pressure: np.ndarray) -> np.ndarray:
    """The pressed party's utility this round: its own plus the outside power's shift (L11, L15)."""
    return _each(PRESSED, utility, shift, np.asarray(effective_pressure)[:, None])


def opinion(base: np.ndarray, rhetoric_effect: np.ndarray, rhetoric: np.ndarray) -> np.ndarray:
    """A public's known opinion of each package: the share accepting it as the polls have
    it, moved by the outside power's rhetoric (L25). Not clipped: the mood of the day is
    added before the share is bounded to [0, 1]."""
    return _each(SWAYED, base, rhetoric_effect, np.asarray(rhetoric)[:, None])


def ratification_probability(accepting: np.ndarray, threshold: np.ndarray, margin: np.ndarray) -> np.ndarray:
    """Chance that a public lets a treaty through: 0 below threshold - margin, 1 above
    threshold + margin, linear between (threshold 0.5, margin 0.5 gives the share itself)."""
    shape = (slice(None),) + (None,) * (np.ndim(accepting) - 1)
    return _each(RATIFY_CHANCE, accepting, np.asarray(threshold)[shape], np.asarray(margin)[shape])


def negotiating_gain(
    utility: np.ndarray,
    reservation: np.ndarray,
    anticipation: np.ndarray,
    ratify_both: np.ndarray,
    ratify_own: np.ndarray | float = 1.0,
    failure_cost: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Gain over the status quo that a government bargains with (Putnam's two levels):
    with anticipation a, a package ratified with probability p is worth (1 - a + a p) of its
    gain, less a (1 - P_own) failure_cost (per run) where signing a package that fails at
    home costs it (bargaining_gain)."""
    return _each(
        BARGAINING_GAIN,
        utility,
        np.asarray(reservation)[:, None],
        np.asarray(anticipation)[:, None],
        ratify_both,
        ratify_own,
        np.asarray(failure_cost, dtype=float).reshape(-1, 1) if np.ndim(failure_cost) else failure_cost,
    )


def institution_threshold(threshold: np.ndarray, margin: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each run's actual threshold of an institution (actual_threshold), from its belief
    and the run's uniform draw ``u``."""
    return _each(ACTUAL_THRESHOLD, threshold, margin, u)
