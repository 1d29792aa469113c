"""Scenario files: validated, with `base` inheritance and `--set` overrides.

A scenario is data only (TOML). Every belief about the world is a ``{value, source}``
pair, so that the number and where it came from travel together. Loading resolves
``base = "other.toml"`` chains (deep merge, later files win, lists replaced whole),
applies overrides, validates against the schema below and then checks the rules
that span fields (weights sum to one, one value per option, known party names).
Every problem is raised as :class:`ScenarioError` naming the file, the key path,
what was found and what is allowed.
"""

from __future__ import annotations

import copy
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_PACKAGES = 20_000
MAX_PARTIES = 8  # governments at the table
WEIGHT_TOLERANCE = 1e-6
COMMAND_LINE = "--set"


class ScenarioError(Exception):
    """A scenario that cannot be used, with where and why."""

    def __init__(self, file: str, key: str, problem: str):
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(where + problem)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Text = Annotated[str, Field(min_length=1, pattern=r"\S")]


KEYED_BY = "x-dipsim-keys"  # in a JSON Schema (sim.schema): how the reference writes a table's keys


def _keyed_by(*names: str) -> dict:
    """Schema metadata of a table keyed by names: how the reference writes its keys
    (``<issue>``, ``<id>``, ``<party>``), one per level."""
    return {KEYED_BY: list(names)}


DISTRIBUTIONS = ("fixed", "uniform", "triangular", "beta", "normal")
DISTRIBUTION_KEYS = ("dist", "low", "high", "sd", "n")  # beside a belief's value, or a list's values
Distribution = Literal["fixed", "uniform", "triangular", "beta", "normal"]
_DIST = (
    'How uncertain the number is; each run draws its own (sim.worlds, "Uncertain beliefs" in scenarios/README.md). '
    '`"fixed"` (also when left out): the value in every run. `"uniform"` between `low` and `high`. '
    '`"triangular"` from `low` to `high`, most likely at the value. `"beta"` from a poll: the value is the '
    'share and `n` the sample size (the share\'s posterior under a flat prior). `"normal"` around the value with '
    "standard deviation `sd`, cut off at `low` and `high` (the key's range where left out)."
)


_VALUE = "The number: the point every summary quotes and, for a fixed belief, what every run uses."
_SOURCE = (
    "Where the number comes from: a name of `[sources]` and a line, a poll, or the modeller's reading of a "
    "direction; for an uncertain one, where its range comes from too."
)


class _Belief(_Strict):
    """A number that stands for a belief about the world (``value``), with its ``source``
    and, if it is uncertain, its distribution (``dist`` and its parameters). Each kind of
    belief below narrows ``value`` to its range, ``bounds``."""

    bounds: ClassVar[tuple[float, float]] = (float("-inf"), float("inf"))
    value: float = Field(description=_VALUE)
    source: Text = Field(description=_SOURCE)
    dist: Distribution | None = Field(None, description=_DIST)
    low: float | None = Field(
        None,
        description=(
            "Lowest value a run can draw: the lower end of a uniform or triangular distribution, where a normal one "
            "is cut off. Within the key's range, at most the value."
        ),
    )
    high: float | None = Field(
        None,
        description=(
            "Highest value a run can draw: the upper end of a uniform or triangular distribution, where a normal one "
            "is cut off. Within the key's range, at least the value."
        ),
    )
    sd: Annotated[float, Field(gt=0)] | None = Field(
        None, description="Standard deviation of a normal distribution (before it is cut off at `low` and `high`)."
    )
    n: Annotated[int, Field(ge=1)] | None = Field(
        None,
        description=(
            "Sample size of the poll a beta distribution comes from (the value is the share it found). An effective "
            "size smaller than the poll's says that polls asking alike disagreed by more than their sampling error."
        ),
    )


class Share(_Belief):
    """A belief: a probability or a share of a public, 0 to 1."""

    bounds = (0.0, 1.0)
    value: Annotated[float, Field(ge=0.0, le=1.0)] = Field(description=_VALUE)


class Signed(_Belief):
    """A belief: a number from -1 to 1."""

    bounds = (-1.0, 1.0)
    value: Annotated[float, Field(ge=-1.0, le=1.0)] = Field(description=_VALUE)


class Reservation(_Belief):
    """A belief: the value of no agreement, -1 to 2."""

    bounds = (-1.0, 2.0)
    value: Annotated[float, Field(ge=-1.0, le=2.0)] = Field(description=_VALUE)


class Volatility(_Belief):
    """A belief: a standard deviation per round, 0 to 0.5."""

    bounds = (0.0, 0.5)
    value: Annotated[float, Field(ge=0.0, le=0.5)] = Field(description=_VALUE)


class Margin(_Belief):
    """A belief: a half-width, 0.001 to 1."""

    bounds = (0.001, 1.0)
    value: Annotated[float, Field(ge=0.001, le=1.0)] = Field(description=_VALUE)


class Spread(_Belief):
    """A belief: the half-width of a uniform distribution of shares, 0 to 0.5."""

    bounds = (0.0, 0.5)
    value: Annotated[float, Field(ge=0.0, le=0.5)] = Field(description=_VALUE)


class Response(_Belief):
    """A belief: a rate of alarm per unit of threat, 0 to 1000."""

    bounds = (0.0, 1000.0)
    value: Annotated[float, Field(ge=0.0, le=1000.0)] = Field(description=_VALUE)


class Cost(_Belief):
    """A belief: a cost in utility, 0 to 2."""

    bounds = (0.0, 2.0)
    value: Annotated[float, Field(ge=0.0, le=2.0)] = Field(description=_VALUE)


class RunSettings(_Strict):
    seed: Annotated[int, Field(ge=0, lt=2**63)] = Field(
        0,
        description=(
            "Root seed. Each run's own seed is derived from this seed and the run's number, so the same seed gives "
            "the same results with either engine. `--seed` overrides it."
        ),
    )
    runs: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        1000,
        description=(
            "Number of negotiations simulated. They differ only in their random draws (mood and ratification). "
            "`--runs` overrides it."
        ),
    )


class Negotiation(_Strict):
    deadline: Annotated[int, Field(ge=1, le=1000)] = Field(
        description=(
            'Last round (T). Talks still open after it end as "deadline reached". It is also the T in the '
            "time-dependent target. With `deadline_spread`, the middle of the last rounds possible."
        )
    )
    deadline_spread: Annotated[int, Field(ge=0)] = Field(
        0,
        description=(
            "0: the negotiators know the last round. s > 0: each run's last round is drawn from its seed, "
            "uniformly from deadline - s to deadline + s (s below the deadline); the negotiators know only that, so "
            "they plan with `deadline` and take any gain as in a last round only in round deadline + s, the last "
            "one possible."
        ),
    )
    opener: Text = Field(
        description=(
            "The government that moves in round 1: the name of a party (a key of `[parties]`). The others then "
            "follow in the order of `[parties]`, round after round (with two, they alternate). Under the majority "
            "rule nobody opens: each round's proposer is recognised at random."
        )
    )
    rule: Literal["unanimity", "majority"] = Field(
        "unanimity",
        description=(
            '`"unanimity"`: stacked alternating offers (Aydogan et al. 2017): each government in turn accepts the '
            "offer on the table, counters it or walks away, and a package is agreed when every other government "
            'has accepted it; with two, the alternating offers of Rubinstein (1982). `"majority"`: the closed rule '
            "of Baron and Ferejohn (1989): each round one government, drawn at random, proposes a package, the "
            "others vote, and a majority (more than half of the governments, the proposer's vote among them) "
            "passes it; every government plays the stationary equilibrium with its `strategy.discount` (strategy "
            "kind `rubinstein`, complete information, a known deadline); nobody walks away, so `patience`, "
            "`round_cost`, `when_no_zone` and `opener` play no part, and the record calls each proposal an "
            "offer. An agreed package goes to every country's ratifier under either rule."
        ),
    )
    ratification: bool = Field(
        True,
        description=(
            "Whether an agreed package must pass every public (or named ratifier). With `false`, every agreed package is a treaty and "
            "`anticipation` has no effect."
        ),
    )
    after_failed_ratification: Literal["end", "continue"] = Field(
        "end",
        description=(
            'What happens after a public rejects a package. `"end"`: the run ends ("ratification failed in '
            '..."). `"continue"`: that package is struck off for the rest of the run, both standing offers are '
            "cleared and patience is reset. Talks then go on, unless the round was the deadline."
        ),
    )
    when_no_zone: Literal["end", "stall"] = Field(
        "end",
        description=(
            "What happens on a round in which no package leaves every government better off than no agreement (as "
            'the mover sees it). `"end"`: the talks end ("no package acceptable to both", or to all). `"stall"`: they go on; '
            "the mover offers a package it gains from (none if there is none) and accepts nothing it does not gain from. "
            "Talks then end at the deadline, by a walk-out (`patience`) or with an agreement, and the outside "
            "power's pressure, the publics' moods and the sides' beliefs may open a zone of agreement again."
        ),
    )
    source: Text = Field(description="Source of the settings in this table.")


class Issue(_Strict):
    label: Text = Field(description="Display name of the issue.")
    options: Annotated[list[Text], Field(min_length=2, max_length=2001)] = Field(
        description=(
            "Option names, in order, all different. Every `values` list for this issue gives one number per option "
            "in this order. There is one package per combination of options, and at most "
            f"{MAX_PACKAGES:,} packages in all."
        )
    )
    source: Text = Field(description="Source of the issue and its options.")


class Condition(_Strict):
    """When the values of a table's entry count: while another issue of the package takes
    one of the options listed (``one_of``), or any option but those (``not_one_of``)."""

    issue: Text = Field(description="The issue whose option decides: a key of `[issues]`, other than the entry's own.")
    one_of: Annotated[list[Text], Field(min_length=1)] | None = Field(
        None, description="The values count when the package takes one of these options of `issue`."
    )
    not_one_of: Annotated[list[Text], Field(min_length=1)] | None = Field(
        None,
        description=(
            "The values count when the package takes any option of `issue` but these. Give `one_of` or "
            "`not_one_of`, not both."
        ),
    )

    def holds(self, options: tuple[str, ...] | list[str]) -> list[bool]:
        """For each option of the deciding issue (in order), whether the condition holds."""
        if self.one_of is not None:
            return [o in self.one_of for o in options]
        return [o not in (self.not_one_of or []) for o in options]


_WHEN = (
    "A condition: the `values` count only in packages where another issue takes one of the options listed "
    '(`when = { issue = "territory", not_one_of = ["none"] }`), and `otherwise` counts in the others. Left out: '
    "the values count in every package. A setting of the model, the same in every run."
)
_OTHERWISE = (
    "With `when`: what each option counts, one per option in the order of `options`, in the packages where the "
    "condition does not hold (left out: 0 for every option); in a utility it is weighed by the issue's `weight`, "
    "as `values` are. Fixed in every run, so it is usually the level a status quo is computed with, or the "
    "reference (0)."
)


class _Values(_Strict):
    """A list of numbers, one per option of an issue, with one source and, if they are
    uncertain, one distribution whose parameters are lists beside the values. Each kind
    below narrows ``values`` to its range, ``bounds``."""

    bounds: ClassVar[tuple[float, float]] = (float("-inf"), float("inf"))
    values: list[float] = Field(description="One number per option, in the order of `options`.")
    source: Text = Field(description="Source of these numbers.")
    dist: Distribution | None = Field(
        None,
        description=_DIST.replace("the value", "each value")
        + " One kind for the whole list; a value whose `low` equals its `high` (or whose `sd` is 0) stays fixed.",
    )
    low: list[float] | None = Field(
        None,
        description="One per value: the lowest a run can draw (see `dist`), within the key's range and at most the value.",
    )
    high: list[float] | None = Field(
        None,
        description=(
            "One per value: the highest a run can draw (see `dist`), within the key's range and at least the value."
        ),
    )
    sd: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, description="One per value: the standard deviation of a normal distribution (0: that value stays fixed)."
    )
    n: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Sample size of the poll a beta distribution comes from; each value is a share it found."
    )
    when: Condition | None = Field(None, description=_WHEN)
    otherwise: list[float] | None = Field(None, description=_OTHERWISE)


class IssueValues(_Values):
    """An issue's weight and the value of each of its options to one actor."""

    bounds = (0.0, 1.0)
    values: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        description=(
            "Value of each option, one per option in the order of `options`. 1 is the best this actor can imagine "
            "on the issue."
        )
    )
    source: Text = Field(description="Source of the weight and values.")
    otherwise: list[Annotated[float, Field(ge=0.0, le=1.0)]] | None = Field(None, description=_OTHERWISE)
    weight: Annotated[float, Field(ge=0, le=1)] = Field(
        description=(
            f"Importance of the issue. The weights of one utility must sum to 1 (within {WEIGHT_TOLERANCE:f}). A "
            "setting of the model, the same in every run: vary it with `dipsim sweep`."
        )
    )


class Effect(_Values):
    """How each option of an issue moves a public's acceptance of a treaty."""

    bounds = (-1.0, 1.0)
    values: list[Annotated[float, Field(ge=-1.0, le=1.0)]] = Field(
        description=(
            "Change in the share of the public accepting a treaty when this option is chosen, one per option of the "
            "issue, in the order of `options`."
        )
    )
    source: Text = Field(description="Source of these effects.")
    otherwise: list[Annotated[float, Field(ge=-1.0, le=1.0)]] | None = Field(None, description=_OTHERWISE)


class Shift(_Values):
    """How full pressure moves the pressed party's utility of each option of an issue."""

    bounds = (-2.0, 2.0)
    values: list[Annotated[float, Field(ge=-2.0, le=2.0)]] = Field(
        description=(
            "Change in the pressed party's utility of each option at full pressure felt, one per option of the "
            "issue, in the order of `options`."
        )
    )
    source: Text = Field(description="Source of these shifts.")
    otherwise: list[Annotated[float, Field(ge=-2.0, le=2.0)]] | None = Field(None, description=_OTHERWISE)


class Utility(_Strict):
    treaty: Signed = Field(
        description=(
            "Value of signing a treaty at all, whatever its terms. It is added to every package. Negative for an "
            "actor that loses from any treaty."
        )
    )
    reservation: Reservation = Field(
        description=(
            "Value of no agreement (the status quo), on the same scale as U. Only packages with U above it give a "
            "government a gain; for an outside power it is the yardstick of its threat: threat = max(0, "
            "reservation - U(package on the table))."
        )
    )
    issues: dict[str, IssueValues] = Field(
        json_schema_extra=_keyed_by("<issue>"),
        description=(
            "The weight and option values of each issue: an entry for every issue of `[issues]` and for no other "
            f"name. The weights sum to 1 (within {WEIGHT_TOLERANCE:f})."
        ),
    )


class Strategy(_Strict):
    kind: Literal["time_dependent", "zeuthen", "hardliner", "rubinstein", "bayesian"] = Field(
        description=('The bargaining strategy (see "Strategies" in scenarios/README.md).')
    )
    beta: Annotated[float, Field(ge=0.01, le=100)] | None = Field(
        None,
        description=(
            'Required when `kind` is `"time_dependent"`. Concession exponent in target(t) = best x '
            "(1 - (t/T)^(1/beta)). Below 1: holds firm until late (Boulware). 1: concedes linearly. Above 1: "
            "concedes early (Conceder). Ignored by the other kinds."
        ),
    )
    tolerance: Annotated[float, Field(ge=0, le=1)] = Field(
        0.0,
        description=(
            "Hardliner only: accepts an offer worth at least (1 - tolerance) x its best gain. 0 accepts only its "
            "best. Ignored by the other kinds."
        ),
    )
    discount: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0,
        description=(
            "Rubinstein and bayesian: the factor by which this side discounts an agreement one round later. "
            "Rubinstein plays the stationary equilibrium of alternating offers (Rubinstein 1982) on the outcome "
            "space: it proposes the package best for itself among those giving the other side at least its "
            "discounted value as proposer, and accepts any offer worth at least its own discounted value as "
            "proposer; both sides' factors are common knowledge. Bayesian accepts an offer worth at least its "
            "discounted expected gain from offering. Ignored by the other kinds."
        ),
    )
    patience: Annotated[int, Field(ge=0, le=1000)] = Field(
        0,
        description=(
            "All kinds. 0: never walks away from impatience. n: on its turn, walks away if the other side's last n "
            "offers have not improved on the best gain it has been offered, unless its strategy accepts the offer "
            "standing."
        ),
    )
    source: Text = Field(description="Source of the strategy and its parameters.")


class Public(_Strict):
    label: Text = Field(description='Display name, e.g. "Russian public".')
    base: Share = Field(description="Share of the public accepting a treaty whose options all have effect 0.")
    effects: dict[str, Effect] = Field(
        {},
        json_schema_extra=_keyed_by("<issue>"),
        description=(
            "How each option changes the share accepting, by issue. The names must be issues of `[issues]`; an "
            "issue left out has effect 0 for all its options."
        ),
    )
    volatility: Volatility = Field(
        description=(
            "Standard deviation of the mood's random step per round (the steps add up). 0: opinion does not drift."
        )
    )
    threshold: Share = Field(
        description=(
            "Share accepting at which the package passes with probability 0.5. Not used where the party names a "
            "`ratifier`."
        )
    )
    margin: Margin = Field(
        description=(
            "Half-width of the uncertain zone. The probability of passing is 0 at or below threshold - margin and "
            "1 at or above threshold + margin, and rises linearly in between. Threshold 0.5 and margin 0.5 make "
            "the probability equal to the share accepting; a small margin makes it close to a strict vote at the "
            "threshold. Not used where the party names a `ratifier`."
        )
    )


MAX_TYPES = 201  # types in a prior over another side's reservation


class TypePrior(_Strict):
    """What the other side believes of a party's hidden number (its reservation, its
    treaty value, or one number of its utility): a discrete prior over types (values it
    might take), updated by Bayes' rule as the talks go on."""

    types: Annotated[list[Annotated[float, Field(ge=-1.0, le=2.0)]], Field(min_length=1, max_length=MAX_TYPES)] = Field(
        description=(
            "The values the other side thinks the hidden number might take, within its range (a reservation -1 "
            "to 2, a treaty value -1 to 1, an option's value or an issue's weight 0 to 1); 1 to "
            f"{MAX_TYPES} of them."
        )
    )
    prior: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        description=(
            "The other side's prior probability of each type, in the order of `types`; they sum to 1 (within "
            "1e-6). One type with probability 1 at the hidden number's true value is complete information."
        )
    )
    noise: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0,
        description=(
            "The chance, as the other side sees it, that this party turns down an offer it gains from (a strategy "
            "that holds out early does). 0: a rejected offer rules out every type that would have gained from it."
        ),
    )
    source: Text = Field(description="Where the types and the prior come from.")


class PrivateValue(TypePrior):
    """A prior over one number of the party's utility, named by its key path."""

    key: Text = Field(
        description=(
            "Which number of the party's utility is private: its key path under the party, as `--set` spells it "
            "after `parties.<id>.`: `utility.issues.<issue>.values.<k>` (the value of option k, counting from 0), "
            "`utility.issues.<issue>.weight`, `utility.issues.<issue>.otherwise.<k>` (where the issue has `when`), "
            "`utility.treaty.value` or `utility.reservation.value`."
        )
    )


# What may be private (one per party); the key paths, under the party, of the numbers the
# first two name; the ranges of the numbers that may be private.
PRIVATE_BELIEFS = ("reservation", "treaty", "value")
PRIVATE_KEYS = {"reservation": "utility.reservation.value", "treaty": "utility.treaty.value"}
PRIVATE_RANGES = {"reservation": (-1.0, 2.0), "treaty": (-1.0, 1.0), "issue": (0.0, 1.0)}
# The issue entries a private number may be: an option's value, the issue's weight, an otherwise value.
PRIVATE_ISSUE_KEY = re.compile(
    r"^utility\.issues\.(?P<issue>.+)\.(?:(?P<list>values|otherwise)\.(?P<k>0|[1-9]\d*)|weight)$"
)


def private_label(key: str) -> str:
    """How the per-round record names a private number at ``key`` (a key path under the
    party, as PrivateValue.key): ``reservation``, ``treaty_value``, ``<issue>_<k>_value``
    (option k's value), ``<issue>_<k>_otherwise`` or ``<issue>_weight``."""
    if key == PRIVATE_KEYS["reservation"]:
        return "reservation"
    if key == PRIVATE_KEYS["treaty"]:
        return "treaty_value"
    m = PRIVATE_ISSUE_KEY.match(key)
    assert m is not None, key  # the rules checked it (sim.scenario._check_private)
    if m["list"] is None:
        return f"{m['issue']}_weight"
    return f"{m['issue']}_{m['k']}_{'value' if m['list'] == 'values' else 'otherwise'}"


def private_phrase(key: str, options: dict[str, Any]) -> str:
    """A private number at ``key`` (PrivateValue.key) in words, for summaries: ``reservation``,
    ``treaty value``, ``value of 'two islands' on territory``, ``weight of territory``
    (``options``: each issue's option names)."""
    label = private_label(key)
    m = PRIVATE_ISSUE_KEY.match(key)
    if m is None:
        return label.replace("_", " ")
    if m["list"] is None:
        return f"weight of {m['issue']}"
    option = list(options[m["issue"]])[int(m["k"])]
    return f"value of {option!r} on {m['issue']}" + (" where its condition fails" if m["list"] == "otherwise" else "")


class Private(_Strict):
    """One belief about a party known only to itself: its reservation, its value of a
    treaty itself, or any one number of its utility (an option's value, an issue's
    weight). The party's gain from each package is linear in each of them, so a type
    moves each package's gain by the package's own slope (sim.protocol.gain_if)."""

    reservation: TypePrior | None = Field(
        None,
        description=(
            "The party's reservation (its value of no treaty) is known only to itself; the other side holds this "
            "prior over it."
        ),
    )
    treaty: TypePrior | None = Field(
        None,
        description=(
            "The party's value of a treaty itself (`utility.treaty`) is known only to itself; the other side holds "
            "this prior over it (types -1 to 1)."
        ),
    )
    value: PrivateValue | None = Field(
        None,
        description=(
            "One number of the party's utility, named by `key`, is known only to itself; the other side holds this "
            "prior over it. Give exactly one of `reservation`, `treaty` and `value`."
        ),
    )

    @property
    def hidden(self) -> tuple[str, TypePrior]:
        """Which belief is private (``reservation``, ``treaty`` or ``value``), and the other
        side's prior over it."""
        for name in PRIVATE_BELIEFS:
            prior = getattr(self, name)
            if prior is not None:
                return name, prior
        raise AssertionError("no private belief")  # the rules require one (sim.scenario._check_rules)

    @property
    def key(self) -> str:
        """The key path, under the party, of the private number: ``utility.reservation.value``
        for a private reservation, ``utility.treaty.value`` for a treaty value."""
        name, prior = self.hidden
        return prior.key if isinstance(prior, PrivateValue) else PRIVATE_KEYS[name]


RATIFIERS = ("referendum", "legislature", "constitutional_bar")
CONSTITUTIONAL_BAR = 0.5  # the least threshold a constitutional bar may have: more than a simple majority


class Ratifier(_Strict):
    """The institution that ratifies an agreed package in one country (sim.protocol.ratify)."""

    kind: Literal["referendum", "legislature", "constitutional_bar"] = Field(
        description=(
            'Who ratifies. `"referendum"`: the public votes; `threshold` is the share accepting that carries the '
            'vote (0.5 for a simple majority of the votes cast, moved by who turns out). `"legislature"`: a chamber '
            "whose members answer to their voters votes by majority; `threshold` is the share of the public "
            'accepting at which a majority of its members votes for the package. `"constitutional_bar"`: the '
            "package needs a constitutional amendment (or sets one aside); `threshold` is the public support at "
            f"which the supermajority it needs is found, at least {CONSTITUTIONAL_BAR} (and so is its `low`). All "
            "three pass a package exactly when the share accepting it on the day of the vote (opinion plus mood) "
            "exceeds the run's threshold."
        )
    )
    threshold: Share = Field(
        description=(
            "Centre of the negotiators' belief about the threshold: the share accepting above which the ratifier "
            "passes a package."
        )
    )
    spread: Spread = Field(
        description=(
            "Half-width of the negotiators' belief: they hold the threshold uniform on [threshold - spread, "
            "threshold + spread], and each run draws its actual threshold from that belief once, from its seed. "
            "0: the threshold is known (complete information about the ratifier)."
        )
    )
    source: Text = Field(description="Source of the institution and its rule.")


class Party(_Strict):
    label: Text = Field(description='Display name, e.g. "Russia".')
    strategy: Strategy = Field(description='How the government bargains (see "Strategies" in scenarios/README.md).')
    utility: Utility = Field(
        description=(
            "What the government wants. A package's utility U = treaty + sum over issues of weight x value of the "
            "option chosen, so it lies between `treaty` and `treaty + 1`."
        )
    )
    anticipation: Share = Field(
        description=(
            "How much the government's gain depends on the chance that every public ratifies: gain = (U - "
            "reservation) x (1 - anticipation x (1 - the product of every country's P)), less anticipation x (1 - P_own) x "
            "`failure_cost`. 0: it ignores ratification. 1: a package's gain is scaled fully by the chance that "
            "it is ratified."
        )
    )
    autonomy: Share | None = Field(
        None,
        description=(
            "Required for the party an outside power acts on; not used for any other. Share of the outside power's "
            "pressure the party resists in round 1: pressure felt = pressure x (1 - autonomy)."
        ),
    )
    autonomy_growth: Share | None = Field(
        None,
        description=(
            "Required for the party an outside power acts on. Increase of autonomy per round: autonomy in round t "
            "= clip(autonomy + autonomy_growth x (t - 1), 0, 1)."
        ),
    )
    ratifier: Ratifier | None = Field(
        None,
        description=(
            "The institution that ratifies in this country, with the negotiators' belief about its threshold. Left "
            "out: the public's `threshold` and `margin` give the chance that a package passes at each vote (a "
            "threshold drawn anew at every vote)."
        ),
    )
    failure_cost: Cost | None = Field(
        None,
        description=(
            "Cost to the government of signing a package that then fails at home (involuntary defection, Iida "
            "1996; an audience cost, Fearon 1994). The gain it bargains with is (U - reservation) x (1 - "
            "anticipation x (1 - P_both)) - anticipation x (1 - P_own) x failure_cost. Left out: 0."
        ),
    )
    round_cost: Cost | None = Field(
        None,
        description=(
            "What one more round of talks costs the government (attention, political capital), on the utility "
            "scale. With it, the government walks away on its turn when the best it can expect from the talks, "
            "the largest own gain x chance the other side accepts (as it believes) over the packages it could "
            "offer, is not above this cost, unless it accepts the offer standing. Left out: 0, talks cost nothing."
        ),
    )
    public: Public = Field(
        description=(
            "The domestic audience that ratifies. The share accepting a package today is clip(base + sum of effects "
            "+ rhetoric x rhetoric effects + mood, 0, 1)."
        )
    )
    private: Private | None = Field(
        None,
        description=(
            "Private information (leave out for complete information, where each side knows the other's "
            "utility of every package and its reservation). With it, one number is known only to this party (its "
            "reservation, its treaty value, or one number of its utility): the other side knows the rest, holds a "
            'prior over that number and learns from the offers this party makes and turns down ("Private '
            'information" in scenarios/README.md).'
        ),
    )


class Pressure(_Strict):
    max: Share = Field(
        description=(
            "Pressure at full alarm: pressure = max x alarm. 1 is the full pressure the `shift` values are given for."
        )
    )
    shift: dict[str, Shift] = Field(
        {},
        json_schema_extra=_keyed_by("<issue>"),
        description=(
            "How full pressure shifts the pressed party's utility of each option, by issue: its utility this round "
            "= U + pressure felt x sum of shifts. The names must be issues of `[issues]`; an issue left out is not "
            "shifted."
        ),
    )


class Rhetoric(_Strict):
    max: Share = Field(
        description="Rhetoric at full alarm: rhetoric = max x alarm. It moves the opinion of the publics it names."
    )
    effects: dict[str, dict[str, Effect]] = Field(
        {},
        json_schema_extra=_keyed_by("<party>", "<issue>"),
        description=(
            "Change in the share of each party's public accepting each option at rhetoric 1, by party and then by "
            "issue; it is added as rhetoric x effect. The names must be parties of `[parties]` and issues of "
            "`[issues]`; a public or issue left out is not affected."
        ),
    )


class PolicyOption(_Strict):
    """One policy the outside power may play a run of talks with."""

    pressure: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="Its cap on pressure, as a share of `pressure.max`: the run presses with max x this x alarm."
    )
    rhetoric: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="Its cap on rhetoric, as a share of `rhetoric.max`: the run speaks with max x this x alarm."
    )
    cost: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.0,
        description=(
            "What choosing it costs the power, in its utility, once per run of talks (beyond the goodwill its "
            "pressure costs round by round); it counts against the option when the power chooses."
        ),
    )
    inducement: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0,
        description=(
            "What it offers the party it acts on for the run, for as long as there is no deal (a security "
            "commitment, an economic offer), in that party's utility: the party's value of no agreement rises by "
            "this much. What it costs the power is part of `cost`."
        ),
    )


POLICY_KINDS = ("reflex", "stackelberg")


class Policy(_Strict):
    """How the outside power chooses the caps its reflex works within (leave out: the reflex alone)."""

    kind: Literal["reflex", "stackelberg"] = Field(
        "reflex",
        description=(
            '`"reflex"`: the alarm rule alone, with `pressure.max` and `rhetoric.max` as they are (as without '
            '`policy`). `"stackelberg"`: before each run it chooses one of `options` by playing the talks forward '
            "under each (`samples` times, in the run's own world) and keeps the one with the highest mean utility "
            "of the outcome less the option's cost (the first on ties); its alarm rule then acts within that "
            "option's caps."
        ),
    )
    options: Annotated[list[PolicyOption], Field(min_length=1, max_length=16)] = Field(
        [PolicyOption(pressure=1.0, rhetoric=1.0, cost=0.0, inducement=0.0)],
        description=(
            "The policies it chooses among, `{ pressure = <share of pressure.max>, rhetoric = <share of "
            "rhetoric.max>, cost = <utility>, inducement = <utility> }` each, 1 to 16. Left out: one, the full caps "
            "at no cost and no inducement."
        ),
    )
    samples: Annotated[int, Field(ge=1, le=1000)] = Field(
        8,
        description=(
            "How many forward runs it plays per option before each run. The same draws (moods, votes, an "
            "uncertain deadline) serve every option, so that options are compared on the same futures."
        ),
    )
    source: Text = Field(description="Where the options and their costs come from.")


class Outside(_Strict):
    label: Text = Field(description='Display name, e.g. "USA".')
    active: bool = Field(
        True,
        description=(
            "`false`: never alarmed, so no pressure and no rhetoric. Its utility of the outcome is still reported."
        ),
    )
    acts_on: Text = Field(
        description=(
            "The party it presses: the name of a party, which then needs `autonomy` and `autonomy_growth`. Rhetoric "
            "reaches every public it names regardless."
        )
    )
    utility: Utility = Field(description="What the power wants, read as a government's utility.")
    response: Response = Field(
        description=(
            "Alarm per unit of threat beyond the goodwill cost: alarm = clip(response x (threat - goodwill_cost), "
            "0, 1). 0: never alarmed."
        )
    )
    goodwill_cost: Cost = Field(
        description=(
            "Utility it loses per round of full pressure. It presses only when a threat exceeds this cost. Reported "
            "results subtract goodwill_cost x (pressure summed over rounds) from its utility."
        )
    )
    alarm: Literal["linear", "smooth"] = Field(
        "linear",
        description=(
            'How alarm rises with the threat beyond the goodwill cost, x = max(0, threat - goodwill_cost). `"linear"`: '
            'clip(response x x, 0, 1), full once x reaches 1 / response. `"smooth"`: 1 - exp(-response x x), the '
            "same slope at 0, never quite full: no threshold beyond which every threat looks alike."
        ),
    )
    threat: Literal["certain", "expected"] = Field(
        "certain",
        description=(
            'What an offer within reach threatens. `"certain"`: what it would cost the power against the status quo. '
            '`"expected"`: that cost times the chance that every public ratifies the offer, as the governments last '
            "assessed it, so that a deal one public will almost surely reject alarms it little."
        ),
    )
    pressure: Pressure = Field(description="What alarm does to the party it acts on.")
    rhetoric: Rhetoric = Field(description="What alarm does to the publics.")
    policy: Policy | None = Field(
        None,
        description=(
            "How it chooses the caps of its pressure and rhetoric before each run (`[outside.<id>.policy]`). Left "
            'out, or `kind = "reflex"`: it never chooses, and `pressure.max` and `rhetoric.max` hold in every run.'
        ),
    )


class PatronOption(_Strict):
    """One offer a patron may make the party it backs before a run of talks."""

    offer: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        description="Its size, as a share of `offer.max`: the backed party's value of no agreement rises by max x this."
    )
    cost: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        0.0,
        description=(
            "What making it costs the patron, in its utility, once per run of talks; it counts against the option "
            "when the patron chooses."
        ),
    )


class Offer(_Strict):
    max: Cost = Field(
        description=(
            "The most its offer adds to the backed party's value of no agreement, in that party's utility, before "
            "the party's discount: the offer at share 1 of an option."
        )
    )


PATRON_KINDS = ("fixed", "stackelberg")


class PatronPolicy(_Strict):
    """How the patron chooses its offer to the party it backs."""

    kind: Literal["fixed", "stackelberg"] = Field(
        "fixed",
        description=(
            '`"fixed"`: it makes its one option\'s offer in every run. `"stackelberg"`: before each run it chooses '
            "one of `options` by playing the talks forward under each (`samples` times, in the run's own world), "
            "anticipating how a strategic outside power answers it, and keeps the one with the highest mean utility "
            "of the outcome less the option's cost (the first on ties)."
        ),
    )
    options: Annotated[list[PatronOption], Field(min_length=1, max_length=16)] = Field(
        [PatronOption(offer=1.0, cost=0.0)],
        description=(
            "The offers it chooses among, `{ offer = <share of offer.max>, cost = <utility> }` each, 1 to 16 (exactly "
            'one with `kind = "fixed"`). Left out: one, the full offer at no cost.'
        ),
    )
    samples: Annotated[int, Field(ge=1, le=1000)] = Field(
        8,
        description=(
            "How many forward runs it plays per option (per pair of options, with a strategic outside power: the "
            "larger of the two `samples`). The same draws serve every option."
        ),
    )
    moves: Literal["first", "second"] = Field(
        "first",
        description=(
            'With a strategic outside power: `"first"`, the patron commits to its offer and the outside power '
            'answers it; `"second"`, the outside power commits to its option and the patron answers it. Each '
            "answer is the answerer's best option against what it answers (the first on ties), and the one who "
            "commits picks the option whose answered outcome serves it best."
        ),
    )
    source: Text = Field(description="Where the options and their costs come from.")


class Patron(_Strict):
    """A power not at the table that backs one party's alternative to agreement (sim.strategic)."""

    label: Text = Field(description='Display name, e.g. "China".')
    backs: Text = Field(
        description=(
            "The party whose value of no agreement its offer raises (the name of a party): that party's reservation "
            "in the run is its own plus offer.max x the option's share x (1 - discount)."
        )
    )
    utility: Utility = Field(
        description=(
            "What the patron wants, read as a government's utility: its value of each package as a treaty, and of "
            "no treaty (`reservation`)."
        )
    )
    offer: Offer = Field(description="How much its offer can be worth to the party it backs.")
    discount: Share = Field(
        description=(
            "The share of the offer's worth the backed party discounts for what closer ties with the patron cost it "
            "(e.g. dependence, or a demographic worry about its border regions)."
        )
    )
    policy: PatronPolicy = Field(description="Which offer it makes, or how it chooses one before each run.")


class Offered(_Strict):
    """The most one party put on the table on one issue, as history records it."""

    party: str = Field(description="The party whose offers are observed (an id of `[parties]`).")
    issue: str = Field(description="The issue (an id of `[issues]`), whose options run from least to most.")
    most: str = Field(
        description=(
            "The furthest option of the issue in any package the party offered, by name. A run matches when the "
            "furthest option in the party's offers in that run is this one; a run in which the party offers nothing "
            "counts as offering the issue's first option."
        )
    )


class Observed(_Strict):
    """What was observed at a history step, as facts a run matches or does not (`dipsim
    calibrate` scores runs against them; "Observations" in scenarios/README.md)."""

    talks: Literal["held", "suspended"] | None = Field(
        None,
        description=(
            '`"suspended"`: the talks broke off (a run matches when a government walks away, or the talks end '
            'because no package is acceptable to both); `"held"`: they went on (a run matches when it ends in a '
            "deal, at the deadline, or in a failed ratification). Left out: not observed."
        ),
    )
    signed: bool | None = Field(
        None,
        description=(
            "Whether the governments signed a package of the model's issues, ratified or not (a run matches when "
            "its governments agreed a package, or when they agreed none). Leave it out where what was signed is not "
            "a package of the model (1956's declaration)."
        ),
    )
    treaty: bool | None = Field(
        None, description="Whether a treaty was concluded: signed and ratified by both (a run's `treaty`)."
    )
    offered: Offered | None = Field(None, description="The most a party put on the table on one issue.")
    source: Text = Field(description="Where each observation is from.")


class History(_Strict):
    """What history did at the moment a scenario stands for (used by `dipsim backcast`)."""

    year: Annotated[int, Field(ge=1800, le=2100)] = Field(description="The year; backcast steps are ordered by it.")
    event: Text = Field(description="What happened, in a line.")
    direction: Literal["start", "up", "down", "same"] = Field(
        description=("Which way the prospects of a treaty went against the previous step, as history has it.")
    )
    islands: Annotated[float, Field(ge=0, le=1000)] | None = Field(
        None, description=("The most islands on offer at the time, where known.")
    )
    source: Text = Field(description="Where the history is from.")
    observed: Observed | None = Field(
        None,
        description=(
            "What was observed, as facts a run matches or not: the data `dipsim calibrate` fits the uncertain "
            "beliefs to."
        ),
    )


class _Described(_Strict):
    """What every scenario file has, whatever its model."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(
        description=(
            "Short name. Results go to `results/NAME`, and the name labels each run in the result files. Scenarios "
            "compared together need different names. A file that builds on another should set its own."
        )
    )
    title: Text = Field(description="One-line title; heads summaries and plots.")
    description: Text = Field(description="What the scenario assumes, in a few sentences; printed by `dipsim check`.")
    sources: dict[str, Text] = Field(
        {},
        json_schema_extra=_keyed_by("<id>"),
        description=(
            'Full reference for a short source name that `source` texts cite, e.g. `levada2018 = "Levada Center '
            "poll, ...\"`. A file that builds on another adds entries to its base's and can redefine a name."
        ),
    )
    run: RunSettings = Field(
        RunSettings(seed=0, runs=1000), description="How many negotiations to simulate, and from which seed."
    )

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain data, defaults included (what `scenario.toml` holds)."""
        return self.model_dump(mode="json", exclude_none=True)


class Scenario(_Described):
    """A bargaining scenario: two or more governments, their publics, an outside power and a patron
    negotiate over a set of issues (sim.protocol)."""

    protocol: Literal["bargaining"] = Field(
        "bargaining",
        description=(
            "The model: offers between two or more governments at a table (see `negotiation.rule`). "
            '`"expected_utility"` selects Bueno de Mesquita\'s model instead, whose files have other keys.'
        ),
    )
    negotiation: Negotiation = Field(description="How the talks run: the deadline, who opens, ratification.")
    issues: Annotated[dict[str, Issue], Field(min_length=1, max_length=8)] = Field(
        json_schema_extra=_keyed_by("<issue>"),
        description=(
            "The issues negotiated, one `[issues.<issue>]` each. The name `<issue>` is how utilities, effects "
            "and the output columns refer to the issue."
        ),
    )
    parties: Annotated[dict[str, Party], Field(min_length=2, max_length=MAX_PARTIES)] = Field(
        json_schema_extra=_keyed_by("<id>"),
        description=(
            "The governments at the table (two to eight), one `[parties.<id>]` each. The name `<id>` is how other "
            "keys and the output columns refer to the party; the order of the tables is the order of the turns "
            "after the opener."
        ),
    )
    outside: Annotated[dict[str, Outside], Field(max_length=1)] = Field(
        {},
        json_schema_extra=_keyed_by("<id>"),
        description=(
            "A power not at the table that presses one party and speaks to the publics, `[outside.<id>]`. Left "
            "out: no outside power."
        ),
    )
    patron: Annotated[dict[str, Patron], Field(max_length=1)] = Field(
        {},
        json_schema_extra=_keyed_by("<id>"),
        description=(
            "A power not at the table that backs one party's alternative to agreement with an offer of its own, "
            "`[patron.<id>]` (sim.strategic). Left out: no patron."
        ),
    )
    history: History | None = Field(
        None,
        description=(
            "What history did at the moment the scenario stands for; the scenarios of `scenarios/history/` have "
            "it, and `dipsim backcast` reads it."
        ),
    )

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(self.parties)

    @property
    def outside_power(self) -> tuple[str, Outside] | None:
        return next(iter(self.outside.items()), None)

    @property
    def patron_power(self) -> tuple[str, Patron] | None:
        return next(iter(self.patron.items()), None)


class Dimension(_Strict):
    label: Text = Field(description="What positions measure.")
    low: float = Field(description="One end of the issue's scale; below `high`.")
    high: float = Field(description="The other end, above `low`; distances are divided by `high - low`.")
    source: Text = Field(description="Where the scale comes from.")


class Stakeholder(_Strict):
    label: Text = Field(description="Display name.")
    position: float = Field(description="Where the stakeholder stands, from `dimension.low` to `dimension.high`.")
    capability: Annotated[float, Field(ge=0, le=1e6)] = Field(description="What it can bring to bear (relative).")
    salience: Annotated[float, Field(ge=0, le=1)] = Field(description="How much it cares.")
    source: Text = Field(description="Where its numbers come from.")


class ExpectedUtilitySettings(_Strict):
    rounds: Annotated[int, Field(ge=1, le=1000)] = Field(10, description="Rounds of the model.")
    probability_denominator: Literal["all_pairs", "pair"] = Field(
        "all_pairs",
        description=(
            "The probability that i prevails against j divides the votes for i over j by the absolute votes summed "
            'over all pairs of positions (`"all_pairs"`, as replications of Scholz\'s code found needed to match '
            'the published run) or over the pair (i, j) only (`"pair"`, the formula as printed).'
        ),
    )
    source: Text = Field(description="Where the settings come from.")


class ExpectedUtilityScenario(_Described):
    """A scenario for Bueno de Mesquita's expected utility model (sim.expected_utility)."""

    protocol: Literal["expected_utility"] = Field(description="Selects Bueno de Mesquita's expected utility model.")
    dimension: Dimension = Field(description="The one dimension on which stakeholders take positions.")
    settings: ExpectedUtilitySettings = Field(description="How the model runs.")
    stakeholders: Annotated[dict[str, Stakeholder], Field(min_length=2)] = Field(
        json_schema_extra=_keyed_by("<id>"),
        description=(
            "The stakeholders, one `[stakeholders.<id>]` each. At least one needs capability x salience above 0."
        ),
    )


# --------------------------------------------------------------------------- loading


# Where a bare name is looked for among the files that ship with dipsim (dipsim.scenarios),
# in this order: the standard scenarios, the expected utility ones, the history steps.
SHIPPED_FOLDERS = ("", "expected_utility", "history")


def shipped(folder: str = "") -> Path:
    """A folder of the scenario files that ship with dipsim (the package dipsim.scenarios;
    in a checkout, the top-level scenarios/)."""
    return Path(str(resources.files("dipsim.scenarios").joinpath(folder)))


def find_scenario(name: str | Path, folders: tuple[str, ...] = SHIPPED_FOLDERS) -> Path:
    """A scenario file by path or by name: the path as given if it exists; else NAME (with
    or without .toml, a leading scenarios/ allowed) in ./scenarios/; else among the files
    that ship with dipsim, in ``folders``. A name found nowhere is returned as given, for
    the reader to report missing."""
    path = Path(name)
    if path.exists() or path.is_absolute():
        return path
    file = path if path.suffix == ".toml" else path.with_name(path.name + ".toml")
    inside = Path(*file.parts[1:]) if file.parts[0] == "scenarios" and len(file.parts) > 1 else file
    local = Path("scenarios") / inside
    if local.is_file():
        return local
    for folder in folders:
        candidate = shipped(folder) / inside
        if candidate.is_file():
            return candidate
    return path


def catalog(
    folders: tuple[str, ...] = ("", "expected_utility", "history", "sweeps", "calibration"),
) -> list[tuple[str, Path]]:
    """The scenario and sweep files that ship with dipsim: (folder, path), by folder then name."""
    return [(folder, f) for folder in folders for f in sorted(shipped(folder).glob("*.toml"))]


def load(path: str | Path, overrides: list[str] | None = None) -> Scenario | ExpectedUtilityScenario:
    """Read, merge, override and validate one scenario file."""
    path = find_scenario(path)
    raw, origin = _read_chain(path, ())
    raw.pop("base", None)
    for text in overrides or []:
        apply_override(raw, origin, text)
    return validate(raw, origin, str(path))


def validate(
    raw: dict, origin: dict[tuple, str] | None = None, file: str = "<scenario>"
) -> Scenario | ExpectedUtilityScenario:
    """Validate plain data (as from TOML) into a Scenario (or, with ``protocol =
    "expected_utility"``, an ExpectedUtilityScenario), or raise ScenarioError."""
    origin = origin or {}
    model = ExpectedUtilityScenario if raw.get("protocol") == "expected_utility" else Scenario
    parties = raw.get("parties")
    if model is Scenario and isinstance(parties, dict) and not 2 <= len(parties) <= MAX_PARTIES:
        raise ScenarioError(
            _origin_of(origin, ("parties",), file),
            "parties",
            f"found {len(parties)} ({', '.join(map(str, parties))}); allowed: 2 to {MAX_PARTIES} parties at the table",
        )
    try:
        scenario = model.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc, raw, origin, file, model) from None
    where = lambda loc: _origin_of(origin, loc, file)  # noqa: E731
    if isinstance(scenario, Scenario):
        _check_rules(scenario, where)
    else:
        _check_stakeholders(scenario, where)
    return scenario


def _check_stakeholders(s: ExpectedUtilityScenario, where) -> None:
    d = s.dimension
    if not d.low < d.high:
        raise ScenarioError(
            where(("dimension",)), "dimension.high", f"found low {d.low}, high {d.high}; allowed: low < high"
        )
    for sid, st in s.stakeholders.items():
        if not d.low <= st.position <= d.high:
            loc = ("stakeholders", sid, "position")
            raise ScenarioError(
                where(loc), _key(loc), f"found {st.position}; allowed: {d.low} to {d.high} (the dimension)"
            )
    if sum(st.capability * st.salience for st in s.stakeholders.values()) <= 0:
        raise ScenarioError(
            where(("stakeholders",)),
            "stakeholders",
            "every capability x salience is 0; allowed: some stakeholder with weight",
        )


def _read_toml(path: Path, cited_by: str | None) -> dict:
    where = f" (the base of {cited_by})" if cited_by else ""
    if not path.is_file():
        allowed = "" if cited_by else "; allowed: a path to a .toml file, or a name that `dipsim scenarios` lists"
        raise ScenarioError(str(path), "", f"no such scenario file{where}{allowed}")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), "", f"cannot be read: {exc}") from None


def _read_chain(path: Path, seen: tuple[Path, ...], cited_by: str | None = None):
    """Load a file and the files it builds on; return merged data and key origins."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.name for p in (*seen, resolved))
        raise ScenarioError(str(path), "base", f"cycle of base files: {chain}")
    data = _read_toml(path, cited_by)
    base = data.get("base")
    if base is None:
        merged, origin = {}, {}
    elif not isinstance(base, str) or not base:
        raise ScenarioError(str(path), "base", f"found {base!r}; allowed: a relative path to a .toml file")
    else:
        merged, origin = _read_chain(path.parent / base, (*seen, resolved), str(path))
    _merge(merged, data, origin, str(path), ())
    return merged, origin


def _merge(into: dict, new: dict, origin: dict, file: str, prefix: tuple) -> None:
    """Deep-merge ``new`` into ``into``; record which file set each leaf (insertion order
    of ``origin`` is the order in which files were read). A table that carries a
    ``source``, in this file or in the one it builds on (a belief, a set of values, a
    strategy), is replaced whole, so that a number never travels with the source of the
    number it replaced: a table given without its source is an error."""
    for key, value in new.items():
        loc = (*prefix, key)
        sourced = isinstance(value, dict) and (
            "source" in value or (isinstance(into.get(key), dict) and "source" in into[key])
        )
        if sourced:
            into[key] = copy.deepcopy(value)
            for path in [p for p in origin if p[: len(loc)] == loc]:
                del origin[path]
            origin[loc] = file
        elif isinstance(value, dict):
            if not isinstance(into.get(key), dict):
                into[key] = {}
                origin.pop(loc, None)
            _merge(into[key], value, origin, file, loc)
        else:
            into[key] = copy.deepcopy(value)
            origin.pop(loc, None)
            origin[loc] = file


def _origin_of(origin: dict[tuple, str], loc: tuple, default: str) -> str:
    """The file that set a key, or the last file that set anything below it."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in origin:
            return origin[loc[:n]]
    below = [f for path, f in origin.items() if path[: len(loc)] == loc]
    return below[-1] if below else default


# --------------------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], value); the value is read as TOML, else as text."""
    key, sep, value_text = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(COMMAND_LINE, text, "found no KEY=VALUE; allowed: --set key.path=value")
    path = [p.strip() for p in key.strip().split(".")]
    if any(not p for p in path):
        raise ScenarioError(COMMAND_LINE, key, "empty part in the key path")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return path, value


def apply_override(raw: dict, origin: dict, text: str) -> None:
    """Set one key path in the raw data from ``key.path=value`` text (see set_value)."""
    path, value = parse_override(text)
    set_value(raw, origin, path, value, f"{COMMAND_LINE} {text}")


def with_settings(scenario: Scenario, settings: dict[str, Any]) -> Scenario:
    """A scenario with some key paths set to Python values, validated."""
    raw, origin = scenario.resolved(), dict[tuple, str]()
    for key, value in settings.items():
        set_value(raw, origin, key.split("."), value, f"setting {key}")
    changed = validate(raw, origin, "<settings>")
    assert isinstance(changed, Scenario)  # settings cannot change the protocol of a validated scenario
    return changed


def set_value(raw: dict, origin: dict, path: list[str], value: Any, where: str) -> None:
    """Set one key path in the raw data. A bare number given for a ``{value, source}``
    belief replaces its value. The nearest enclosing table with a source records the
    change, so the printed sources say what was changed and where. A number set is fixed:
    an uncertain belief's distribution is dropped, and an entry of an uncertain list gets
    no width (set a distribution after the value to give it one)."""
    node: Any = raw
    parent: Any = None
    sourced: dict | None = raw if "source" in raw else None
    created: tuple | None = None
    for i, part in enumerate(path[:-1]):
        if isinstance(node, dict) and part not in node and created is None:
            created = tuple(_loc_part(p) for p in path[: i + 1])
        parent, node = node, _step(node, part, path[: i + 1], where)
        if isinstance(node, dict) and "source" in node:
            sourced = node
    last = path[-1]
    fixed = ""
    if isinstance(node, list):
        index = _list_index(node, last, path, where)
        before = node[index]
        node[index] = value
        if isinstance(parent, dict) and path[-2] == "values":
            fixed = _fix(parent, index, value, path, where)
    elif isinstance(node, dict):
        before = node.get(last)
        if isinstance(before, dict) and "value" in before and not isinstance(value, dict):
            sourced, before = before, before["value"]
            sourced["value"] = value
            fixed = _fix(sourced, None, value, path, where)
        else:
            node[last] = value
            if last in ("value", "values"):
                fixed = _fix(node, None, value, path, where)
    else:
        raise ScenarioError(where, ".".join(path), f"{'.'.join(path[:-1])} is a single value, not a table")
    if sourced is not None and isinstance(sourced.get("source"), str) and before is not None:
        how = "on the command line" if where.startswith(COMMAND_LINE) else f"by {where}"
        sourced["source"] += f" [{'.'.join(path)} set {how}: was {before}{fixed}]"
    loc = created or tuple(_loc_part(p) for p in path)
    origin.pop(loc, None)
    origin[loc] = where


def _fix(table: dict, entry: int | None, value: Any, path: list[str], where: str) -> str:
    """Make a number just set fixed (see set_value); a note for its source, empty if it
    was fixed already."""
    kind = table.get("dist")
    if kind in (None, "fixed"):
        return ""
    if entry is None:  # a belief's value, or a whole list
        for key in DISTRIBUTION_KEYS:
            table.pop(key, None)
        return f", drawn from a {kind} distribution, now fixed"
    if kind == "beta":
        raise ScenarioError(
            where,
            ".".join(path),
            "the values of a beta list are drawn together; allowed: set the "
            'whole `values` list, or set `dist = "fixed"` first',
        )
    for key, width in (("low", value), ("high", value), ("sd", 0.0)):  # no width: the value itself
        if isinstance(table.get(key), list) and entry < len(table[key]):
            table[key][entry] = width
    return f", drawn from a {kind} distribution, now fixed"


def _step(node: Any, part: str, path: list[str], where: str) -> Any:
    if isinstance(node, dict):
        if part not in node:
            node[part] = {}
        return node[part]
    if isinstance(node, list):
        return node[_list_index(node, part, path, where)]
    raise ScenarioError(where, ".".join(path), "cannot descend into a single value")


def _list_index(node: list, part: str, path: list[str], where: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ScenarioError(where, ".".join(path), f"found index {part!r}; allowed: 0 to {len(node) - 1}")
    return int(part)


def _loc_part(p: str) -> str | int:
    return int(p) if p.isdigit() else p


# --------------------------------------------------------------------------- errors


def _first_error(exc: ValidationError, raw: dict, origin: dict, file: str, model: Any = None) -> ScenarioError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc)
    where = _origin_of(origin, loc, file)
    kind = err["type"]
    found = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], model or Scenario)
        return ScenarioError(where, key, f"unknown key {loc[-1]!r}; allowed here: {allowed}")
    if kind == "missing":
        return ScenarioError(where, key, "required key is missing")
    if kind in ("model_type", "dict_type"):
        return ScenarioError(
            where, key, f"found {_short(found)}; allowed: a table ({_allowed_keys(loc, model or Scenario)})"
        )
    allowed = err["msg"].removeprefix("Input should be ").removeprefix("input should be ")
    return ScenarioError(where, key, f"found {_short(found)}; allowed: {allowed}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: tuple, root: Any = None) -> str:
    """The field names the schema allows at a location (for unknown-key messages)."""
    node: Any = root or Scenario
    for part in loc:
        if isinstance(part, int):  # an element of a list of tables: the table's keys
            continue
        if isinstance(node, _DictOf):
            node = node.model
        elif isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            node = _schema_node(node.model_fields[part].annotation)
        else:
            return "(see scenarios/README.md)"
    if isinstance(node, type) and issubclass(node, BaseModel):
        return ", ".join(node.model_fields)
    return "(see scenarios/README.md)"


class _DictOf:
    """A dict level of the schema: any key, then the given node."""

    def __init__(self, model: Any):
        self.model = model


def _schema_node(annotation: Any) -> Any:
    """The model (or dict of models) inside an annotation such as dict[str, Party] or Share | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is dict:
        return _DictOf(_schema_node(typing.get_args(annotation)[1]))
    for arg in typing.get_args(annotation):
        found = _schema_node(arg)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------- rules


def _check_observed(s: Scenario, where) -> None:
    """An observed offer names a party at the table, an issue and one of its options."""
    offered = s.history.observed.offered if s.history and s.history.observed else None
    if offered is None:
        return
    at = ("history", "observed", "offered")
    for field, given, allowed in (
        ("party", offered.party, list(s.parties)),
        ("issue", offered.issue, list(s.issues)),
        ("most", offered.most, list(s.issues[offered.issue].options) if offered.issue in s.issues else []),
    ):
        if given not in allowed:
            raise ScenarioError(
                where((*at, field)),
                ".".join((*at, field)),
                f"found {given!r}; allowed: {', '.join(map(repr, allowed))}",
            )


def _check_rules(s: Scenario, where) -> None:
    loc: tuple[str, ...]
    _check_distributions(s, where)
    issues = s.issues
    n_packages = 1
    for issue in issues.values():
        n_packages *= len(issue.options)
        if len(set(issue.options)) != len(issue.options):
            raise ScenarioError(where(("issues",)), "issues", "option names must differ within an issue")
    if n_packages > MAX_PACKAGES:
        raise ScenarioError(where(("issues",)), "issues", f"{n_packages} packages; allowed: at most {MAX_PACKAGES}")
    if s.negotiation.deadline_spread >= s.negotiation.deadline:
        raise ScenarioError(
            where(("negotiation", "deadline_spread")),
            "negotiation.deadline_spread",
            f"found {s.negotiation.deadline_spread}; allowed: 0 to {s.negotiation.deadline - 1} (below the deadline, "
            "so that the earliest last round is round 1 or later)",
        )
    if s.negotiation.rule == "majority":
        _check_majority(s, where)
    if s.negotiation.opener not in s.parties:
        raise ScenarioError(
            where(("negotiation", "opener")),
            "negotiation.opener",
            f"found {s.negotiation.opener!r}; allowed: {', '.join(s.parties)}",
        )
    _check_observed(s, where)
    for pid, party in s.parties.items():
        _check_utility(party.utility, ("parties", pid, "utility"), issues, where)
        _check_effects(party.public.effects, ("parties", pid, "public", "effects"), issues, where)
        if party.private is not None:
            _check_private(party, ("parties", pid, "private"), issues, where)
        _check_ratifier(party.ratifier, ("parties", pid, "ratifier"), where)
        if party.strategy.kind == "time_dependent" and party.strategy.beta is None:
            loc = ("parties", pid, "strategy", "beta")
            raise ScenarioError(where(loc), _key(loc), "required for kind 'time_dependent' (0.01 to 100)")
    _check_patron(s, where)
    power = s.outside_power
    if power is None:
        return
    oid, o = power
    base = ("outside", oid)
    _check_utility(o.utility, (*base, "utility"), issues, where)
    if o.acts_on not in s.parties:
        loc = (*base, "acts_on")
        raise ScenarioError(where(loc), _key(loc), f"found {o.acts_on!r}; allowed: {', '.join(s.parties)}")
    target = s.parties[o.acts_on]
    for field in ("autonomy", "autonomy_growth"):
        if getattr(target, field) is None:
            loc = ("parties", o.acts_on, field)
            raise ScenarioError(
                where(loc), _key(loc), f"required: {oid} acts on {o.acts_on} (a share, 0 to 1, with its source)"
            )
    _check_effects(o.pressure.shift, (*base, "pressure", "shift"), issues, where)
    for pid, effects in o.rhetoric.effects.items():
        if pid not in s.parties:
            loc = (*base, "rhetoric", "effects", pid)
            raise ScenarioError(where(loc), _key(loc), f"unknown party {pid!r}; allowed: {', '.join(s.parties)}")
        _check_effects(effects, (*base, "rhetoric", "effects", pid), issues, where)


def _check_majority(s: Scenario, where) -> None:
    """The majority rule is played in Baron and Ferejohn's stationary equilibrium, which
    the parties compute from a known deadline and each other's known preferences."""
    loc: tuple[str, ...]
    if s.negotiation.deadline_spread:
        loc = ("negotiation", "deadline_spread")
        raise ScenarioError(
            where(loc), _key(loc), f"found {s.negotiation.deadline_spread}; allowed: 0 under rule = 'majority'"
        )
    for pid, party in s.parties.items():
        if party.strategy.kind != "rubinstein":
            loc = ("parties", pid, "strategy", "kind")
            raise ScenarioError(
                where(loc),
                _key(loc),
                f"found {party.strategy.kind!r}; allowed: 'rubinstein' under rule = 'majority' (every government "
                "plays Baron and Ferejohn's equilibrium with its discount)",
            )
        if party.private is not None:
            loc = ("parties", pid, "private")
            raise ScenarioError(
                where(loc),
                _key(loc),
                "not allowed under rule = 'majority' (its equilibrium is one of complete information)",
            )


def _check_patron(s: Scenario, where) -> None:
    """A patron backs a party at the table, values every issue, and a fixed one has one offer."""
    patron = s.patron_power
    if patron is None:
        return
    pid, p = patron
    base: tuple[str, ...] = ("patron", pid)
    if pid in s.parties or pid in s.outside:
        loc = base
        raise ScenarioError(where(loc), _key(loc), f"{pid!r} is already an actor; allowed: a name of its own")
    if p.backs not in s.parties:
        loc = (*base, "backs")
        raise ScenarioError(where(loc), _key(loc), f"found {p.backs!r}; allowed: {', '.join(s.parties)}")
    _check_utility(p.utility, (*base, "utility"), s.issues, where)
    if p.policy.kind == "fixed" and len(p.policy.options) != 1:
        loc = (*base, "policy", "options")
        raise ScenarioError(
            where(loc),
            _key(loc),
            f'found {len(p.policy.options)} options; allowed: exactly one with kind "fixed" (several need kind '
            '"stackelberg")',
        )


def _check_private(party: Party, loc: tuple, issues: dict[str, Issue], where) -> None:
    """Exactly one private belief; a private number of the utility names one that exists;
    the types lie in that number's range."""
    private = party.private
    assert private is not None
    given = [k for k in PRIVATE_BELIEFS if getattr(private, k) is not None]
    if len(given) != 1:
        raise ScenarioError(
            where(loc),
            _key(loc),
            f"found {', '.join(given) or 'nothing'}; allowed: exactly one of {', '.join(PRIVATE_BELIEFS)} (one "
            "private belief per party)",
        )
    name, prior = private.hidden
    bounds = PRIVATE_RANGES.get(name)
    if isinstance(prior, PrivateValue):
        bounds = _private_key_range(prior.key, party, (*loc, name, "key"), issues, where)
    assert bounds is not None
    _check_prior(prior, (*loc, name), where, bounds, f" (the range of {private.key})")


def _private_key_range(key: str, party: Party, loc: tuple, issues: dict[str, Issue], where) -> tuple[float, float]:
    """The range of the number of the party's utility at ``key`` (PrivateValue.key), or a
    ScenarioError saying what may be named."""
    allowed = (
        "allowed: a number of the party's own utility, by its key path under the party: "
        "utility.issues.<issue>.values.<k>, utility.issues.<issue>.weight, utility.issues.<issue>.otherwise.<k> "
        f"(with `when`), utility.treaty.value or utility.reservation.value; issues: {', '.join(issues)}"
    )
    for name in ("reservation", "treaty"):
        if key == PRIVATE_KEYS[name]:
            return PRIVATE_RANGES[name]
    m = PRIVATE_ISSUE_KEY.match(key)
    if m is None or m["issue"] not in party.utility.issues:
        raise ScenarioError(where(loc), _key(loc), f"found {key!r}; {allowed}")
    entry = party.utility.issues[m["issue"]]
    if m["list"] is not None:
        numbers = entry.values if m["list"] == "values" else entry.otherwise
        if numbers is None:
            raise ScenarioError(
                where(loc),
                _key(loc),
                f"found {key!r}, but utility.issues.{m['issue']} has no `otherwise` (it has no `when`); {allowed}",
            )
        if int(m["k"]) >= len(numbers):
            raise ScenarioError(
                where(loc),
                _key(loc),
                f"found {key!r}: no option {m['k']} on {m['issue']}; allowed: an index from 0 to {len(numbers) - 1}",
            )
    return PRIVATE_RANGES["issue"]


def _check_prior(belief: TypePrior, loc: tuple, where, bounds: tuple[float, float], what: str = "") -> None:
    low, high = bounds
    for k, t in enumerate(belief.types):
        if not low <= t <= high:
            key = (*loc, "types", k)
            raise ScenarioError(where(key), _key(key), f"found {t!r}; allowed: {low:g} to {high:g}{what}")
    if len(belief.prior) != len(belief.types):
        key = (*loc, "prior")
        raise ScenarioError(
            where(key),
            _key(key),
            f"found {len(belief.prior)} probabilities; allowed: one per type ({len(belief.types)})",
        )
    total = sum(belief.prior)
    if abs(total - 1.0) > 1e-6:
        key = (*loc, "prior")
        raise ScenarioError(where(key), _key(key), f"probabilities sum to {total:.6g}; allowed: they must sum to 1")


def _check_ratifier(ratifier: Ratifier | None, loc: tuple, where) -> None:
    """A constitutional bar needs more than a simple majority: its threshold, and the
    lowest a run may draw for it, at least CONSTITUTIONAL_BAR."""
    if ratifier is None or ratifier.kind != "constitutional_bar":
        return
    t = ratifier.threshold
    if t.dist in ("beta", "normal") and t.low is None:
        key = (*loc, "threshold", "dist")
        raise ScenarioError(
            where(key),
            _key(key),
            f"found {t.dist!r} without a `low` for a constitutional bar; allowed: a distribution whose lowest draw "
            f"is at least {CONSTITUTIONAL_BAR} (uniform, triangular, or normal with `low`)",
        )
    for field, value in (("value", t.value), ("low", t.low)):
        if value is not None and value < CONSTITUTIONAL_BAR:
            key = (*loc, "threshold", field)
            raise ScenarioError(
                where(key),
                _key(key),
                f"found {value!r} for a constitutional bar; allowed: {CONSTITUTIONAL_BAR} to 1 (more than a simple "
                "majority)",
            )


def _key(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def _check_utility(u: Utility, loc: tuple, issues: dict[str, Issue], where) -> None:
    missing = [i for i in issues if i not in u.issues]
    if missing:
        key = (*loc, "issues", missing[0])
        raise ScenarioError(
            where(key), _key(key), f"missing; every issue needs a weight and values ({', '.join(issues)})"
        )
    _check_effects(u.issues, (*loc, "issues"), issues, where)
    total = sum(v.weight for v in u.issues.values())
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        key = (*loc, "issues")
        raise ScenarioError(
            where(key), _key(key) + ".*.weight", f"weights sum to {total:.6g}; allowed: they must sum to 1"
        )


def _check_effects(table: dict, loc: tuple, issues: dict[str, Issue], where) -> None:
    for name, entry in table.items():
        key = (*loc, name)
        if name not in issues:
            raise ScenarioError(where(key), _key(key), f"unknown issue {name!r}; allowed: {', '.join(issues)}")
        n = len(issues[name].options)
        if len(entry.values) != n:
            vkey = (*key, "values")
            raise ScenarioError(
                where(vkey),
                _key(vkey),
                f"found {len(entry.values)} values; allowed: exactly {n}, one per option ({', '.join(issues[name].options)})",
            )
        _check_condition(entry, key, name, issues, where)


def _check_condition(entry: _Values, key: tuple, name: str, issues: dict[str, Issue], where) -> None:
    """A condition names another issue and some, not all, of its options, each once; its
    ``otherwise`` gives one number per option of the entry's issue, and comes only with it."""
    n = len(issues[name].options)
    if entry.when is None:
        if entry.otherwise is not None:
            okey = (*key, "otherwise")
            raise ScenarioError(
                where(okey), _key(okey), "found without `when`; allowed: only with a condition (`when`)"
            )
        return
    when, wkey = entry.when, (*key, "when")
    others = [i for i in issues if i != name]
    if when.issue == name:
        ikey = (*wkey, "issue")
        raise ScenarioError(
            where(ikey),
            _key(ikey),
            f"found {name!r}, the entry's own issue; allowed: another issue ({', '.join(others)})",
        )
    if when.issue not in issues:
        ikey = (*wkey, "issue")
        raise ScenarioError(where(ikey), _key(ikey), f"unknown issue {when.issue!r}; allowed: {', '.join(others)}")
    if (when.one_of is None) == (when.not_one_of is None):
        raise ScenarioError(
            where(wkey),
            _key(wkey),
            "found "
            + ("both `one_of` and `not_one_of`" if when.one_of else "neither `one_of` nor `not_one_of`")
            + "; allowed: exactly one of them, a list of options of "
            + repr(when.issue),
        )
    field = "one_of" if when.one_of is not None else "not_one_of"
    listed, options = getattr(when, field), issues[when.issue].options
    lkey = (*wkey, field)
    for option in listed:
        if option not in options:
            raise ScenarioError(
                where(lkey),
                _key(lkey),
                f"unknown option {option!r} of {when.issue!r}; allowed: {', '.join(options)}",
            )
    if len(set(listed)) != len(listed):
        raise ScenarioError(where(lkey), _key(lkey), f"found {listed!r}; allowed: each option once")
    if all(when.holds(options)) or not any(when.holds(options)):
        always = "always" if all(when.holds(options)) else "never"
        raise ScenarioError(
            where(lkey),
            _key(lkey),
            f"found {listed!r}: the condition {always} holds; allowed: some but not all options of "
            f"{when.issue!r} ({', '.join(options)})",
        )
    if entry.otherwise is not None and len(entry.otherwise) != n:
        okey = (*key, "otherwise")
        raise ScenarioError(
            where(okey),
            _key(okey),
            f"found {len(entry.otherwise)} numbers; allowed: exactly {n}, one per option "
            f"({', '.join(issues[name].options)})",
        )


def range_of(key: str) -> tuple[float | None, float | None]:
    """The range the schema allows for the number at a key path (None where unbounded
    or not a number): e.g. ``parties.russia.utility.issues.territory.values.2`` -> (0, 1)."""
    return _number_field(key)[:2]


def is_whole_number(key: str) -> bool:
    """Whether the schema wants a whole number at a key path (e.g. negotiation.deadline)."""
    return _number_field(key)[2]


def _number_field(key: str) -> tuple[float | None, float | None, bool]:
    import annotated_types as at

    ann: Any = Scenario
    meta: list = []
    for part in key.split("."):
        ann, meta = _unwrap(ann, meta)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(part)
            if field is None:
                return None, None, False
            ann, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(ann) is dict:
            ann, meta = typing.get_args(ann)[1], []
        elif typing.get_origin(ann) is list and part.isdigit():
            ann, meta = typing.get_args(ann)[0], []
        else:
            return None, None, False
    ann, meta = _unwrap(ann, meta)
    if ann not in (float, int):
        return None, None, False
    lo: float | None = None
    hi: float | None = None
    for m in meta:  # (the bounds of a number are numbers; annotated_types types them loosely)
        if isinstance(m, at.Ge):
            lo = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, at.Gt):
            lo = float(m.gt)  # type: ignore[arg-type]
        elif isinstance(m, at.Le):
            hi = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, at.Lt):
            hi = float(m.lt)  # type: ignore[arg-type]
    return lo, hi, ann is int


def _unwrap(ann: Any, meta: list) -> tuple[Any, list]:
    """Strip Annotated (collecting its constraints) and Optional from an annotation."""
    while True:
        if typing.get_origin(ann) is Annotated:
            base, *extra = typing.get_args(ann)
            for e in extra:
                meta = meta + list(getattr(e, "metadata", [e]))
            ann = base
        elif typing.get_origin(ann) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann, meta
            ann = args[0]
        else:
            return ann, meta


def flatten(data, prefix: str = "") -> dict[str, object]:
    """Every leaf of plain scenario data by key path; list elements as ``path.k``."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            out.update(flatten(v, f"{prefix}.{k}"))
    else:
        out[prefix] = data
    return out


# --------------------------------------------------------------------------- uncertain beliefs


@dataclass(frozen=True)
class Uncertain:
    """A number of a scenario that each run draws (sim.worlds): its key path as ``--set``
    writes it (``...reservation.value``, ``...values.2``), its distribution, and the range
    a draw is kept within (a uniform's or triangular's ends; a normal's cut-offs; 0 to 1
    for a beta)."""

    path: str
    dist: str
    value: float
    low: float
    high: float
    sd: float | None = None
    n: int | None = None
    key: str = ""  # whose quantile it takes: its own path; a list's entries share the list's

    @property
    def quantile_key(self) -> str:
        return self.key or self.path


def numbers_with_distributions(s: BaseModel, loc: tuple = ()):
    """Every belief and every table of option values in a validated scenario, with its
    location: (loc, model)."""
    if isinstance(s, (_Belief, _Values)):
        yield loc, s
        return
    for name in type(s).model_fields:
        value = getattr(s, name)
        if isinstance(value, BaseModel):
            yield from numbers_with_distributions(value, (*loc, name))
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    yield from numbers_with_distributions(item, (*loc, name, key))
                elif isinstance(item, dict):
                    for k2, v2 in item.items():
                        if isinstance(v2, BaseModel):
                            yield from numbers_with_distributions(v2, (*loc, name, key, k2))


def is_distribution_parameter(path: str, leaves: dict) -> bool:
    """Whether a key path (as ``flatten`` gives them) is a parameter of a distribution:
    ``<belief>.low`` beside ``<belief>.value``, or ``<table>.low.2`` beside
    ``<table>.values``."""
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part in DISTRIBUTION_KEYS and i > 0:
            prefix = ".".join(parts[:i])
            if f"{prefix}.value" in leaves or f"{prefix}.values.0" in leaves:
                return True
    return False


def uncertain(s: BaseModel) -> list[Uncertain]:
    """The numbers of a (validated) scenario that each run draws, in the file's order."""
    out = []
    for loc, item in numbers_with_distributions(s):
        kind = item.dist or "fixed"
        if kind == "fixed":
            continue
        lo, hi = type(item).bounds
        if isinstance(item, _Belief):
            values, lows, highs, sds, where = [item.value], [item.low], [item.high], [item.sd], [_key((*loc, "value"))]
        else:
            k = len(item.values)
            values, where = item.values, [_key((*loc, "values", i)) for i in range(k)]
            lows, highs, sds = (item.low or [None] * k), (item.high or [None] * k), (item.sd or [None] * k)
        for path, v, a, b, sd in zip(where, values, lows, highs, sds):
            if kind == "beta":
                a, b = 0.0, 1.0
            elif kind == "normal":
                a, b = (lo if a is None else a), (hi if b is None else b)
            if a is None or b is None or b - a <= 0 or (kind == "normal" and sd == 0):
                continue  # no width: the value itself (checked: uniform and triangular give both ends)
            key = "" if isinstance(item, _Belief) else _key((*loc, "values"))
            out.append(Uncertain(path, kind, v, a, b, sd, item.n, key))
    return out


def _check_distributions(s: BaseModel, where) -> None:
    """Each distribution has what its kind needs, and nothing else, within its key's range."""
    for loc, item in numbers_with_distributions(s):
        kind = item.dist or "fixed"
        lo, hi = type(item).bounds
        given = {f: getattr(item, f) for f in ("low", "high", "sd", "n") if getattr(item, f) is not None}
        needs = {
            "fixed": (),
            "uniform": ("low", "high"),
            "triangular": ("low", "high"),
            "normal": ("sd",),
            "beta": ("n",),
        }[kind]
        allowed = {
            "fixed": (),
            "uniform": ("low", "high"),
            "triangular": ("low", "high"),
            "normal": ("sd", "low", "high"),
            "beta": ("n",),
        }[kind]

        def fail(field, problem, loc=loc):
            at = (*loc, field)
            raise ScenarioError(where(at), _key(at), problem)

        for field in given:
            if field not in allowed:
                users = [
                    k
                    for k, a in (
                        ("uniform", "low high"),
                        ("triangular", "low high"),
                        ("normal", "sd low high"),
                        ("beta", "n"),
                    )
                    if field in a.split()
                ]
                fail(
                    field,
                    f"found {given[field]!r} with dist {kind!r}; allowed: only with dist "
                    + " or ".join(repr(u) for u in users),
                )
        for field in needs:
            if field not in given:
                fail(field, f"required with dist {kind!r}")
        values = [item.value] if isinstance(item, _Belief) else list(item.values)
        for field in ("low", "high", "sd"):
            if isinstance(item, _Values) and field in given and len(given[field]) != len(values):
                fail(field, f"found {len(given[field])} numbers; allowed: one per value ({len(values)})")
        if kind == "beta":
            outside = [v for v in ([item.value] if isinstance(item, _Belief) else item.values) if not 0 <= v <= 1]
            if outside:
                fail("dist", f"found 'beta' for {outside[0]!r}; allowed: a beta only for a share, from 0 to 1")
            if lo > 0 or hi < 1:
                fail(
                    "dist",
                    f"found 'beta'; allowed: a beta only for a share (a key whose range holds 0 to 1; "
                    f"this one's is {lo:g} to {hi:g})",
                )
            continue
        for i, v in enumerate(values):
            at = "" if isinstance(item, _Belief) else f".{i}"
            one = isinstance(item, _Belief)
            low = (given["low"] if one else given["low"][i]) if "low" in given else lo
            high = (given["high"] if one else given["high"][i]) if "high" in given else hi
            if not lo <= low <= v:
                fail("low" + at, f"found {low!r}; allowed: from {lo:g} (the key's range) to the value {v!r}")
            if not v <= high <= hi:
                fail("high" + at, f"found {high!r}; allowed: from the value {v!r} to {hi:g} (the key's range)")
