"""One round's rules, over arrays of runs, with no Mesa in sight.

A round: the outside power acts on the package on the table; each public's mood
moves; the governments assess every package (their utility, the publics' opinion,
the chance of ratification); the side whose turn it is accepts the standing offer,
counters or walks away; an accepted package goes to ratification in both
countries. The rule functions are pure; :class:`State` holds what carries over
from round to round. The Mesa model (one run) and the batch engine (many runs) call
the same functions in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit

from . import draws, kernels
from .preferences import (
    Tables,
    bargaining_gain,
    clip01,
    pick,
    pressed,
    ratification_probability,
    ratify_chance,
    swayed,
)
from .space import NO_PACKAGE
from .strategies import STRATEGIES, STRATEGY_INDEX, Decision, View

# Why a run ended. Codes 3-4 and 5-6 add the index of the party concerned.
ONGOING = -1
TREATY = 0
NO_ACCEPTABLE_PACKAGE = 1
DEADLINE = 2
WALKED_AWAY = 3
RATIFICATION_FAILED = 5
RATIFICATION_FAILED_BOTH = 7
REASON_CODES = (0, 1, 2, 3, 4, 5, 6, 7)

# What the mover did, per round.
ACTIONS = ("offer", "accept", "walk away")
OFFER, ACCEPT, WALK = 0, 1, 2
NO_ACTION = -1

SQRT3 = float(np.sqrt(3.0))


def reason_label(code: int, party_labels: tuple[str, str]) -> str:
    if code == TREATY:
        return "treaty"
    if code == NO_ACCEPTABLE_PACKAGE:
        return "no package acceptable to both"
    if code == DEADLINE:
        return "deadline reached"
    if code in (WALKED_AWAY, WALKED_AWAY + 1):
        return f"{party_labels[code - WALKED_AWAY]} walked away"
    if code in (RATIFICATION_FAILED, RATIFICATION_FAILED + 1):
        return f"ratification failed in {party_labels[code - RATIFICATION_FAILED]}"
    if code == RATIFICATION_FAILED_BOTH:
        return "ratification failed in both"
    return "ongoing"


# --------------------------------------------------------------------------- rules


def mover(round_: int, opener: np.ndarray) -> np.ndarray:
    """Index of the party whose turn it is: the opener in round 1, then alternating."""
    return (opener + (round_ - 1)) % 2


@dataclass(frozen=True)
class OutsideMove:
    alarm: np.ndarray       # (runs,) 0..1
    pressure: np.ndarray    # (runs,) pressure applied on its target
    rhetoric: np.ndarray    # (runs,) rhetoric aimed at both publics
    effective: np.ndarray   # (runs,) pressure felt, after the target's autonomy


def outside_move(round_: int, tables: Tables, offers: np.ndarray) -> OutsideMove:
    """The outside power's rule. It watches the standing offers of both sides; its threat is
    what the worse of them for it would cost it against the status quo, counting only offers
    within reach: both governments prefer them to no agreement by their own preferences,
    before any pressure (so its own pressure does not talk it out of pressing). Talks going
    nowhere cost it nothing. It presses once the threat exceeds the goodwill one round of
    full pressure costs it, its alarm rising by `response` per unit beyond (L11, L19, L25).
    Pressure is felt less the more autonomous the target is (L15, L17)."""
    o = tables.outside
    (p0, p1) = tables.parties
    threat = _threat(offers, p0.utility, p0.reservation, p1.utility, p1.reservation, o.utility, o.reservation)
    alarm = np.where(o.active, np.clip(o.response * (threat - o.goodwill_cost), 0.0, 1.0), 0.0)
    autonomy = np.clip(o.autonomy + o.autonomy_growth * (round_ - 1), 0.0, 1.0)
    pressure = o.pressure_max * alarm
    return OutsideMove(alarm, pressure, o.rhetoric_max * alarm, pressure * (1.0 - autonomy))


@njit(cache=True, nogil=True)
def _threat(offers, utility0, reservation0, utility1, reservation1, utility_out, reservation_out):
    """Per run, the outside power's threat (see :func:`outside_move`): the most that a
    standing offer within reach would cost it against the status quo, or 0."""
    runs = offers.shape[0]
    threat = np.zeros(runs)
    for r in range(runs):
        for k in range(2):
            package = offers[r, k]
            if (package >= 0 and utility0[r, package] > reservation0[r]
                    and utility1[r, package] > reservation1[r]):
                threat[r] = max(threat[r], max(0.0, reservation_out[r] - utility_out[r, package]))
    return threat


def mood_step(mood: np.ndarray, volatility: np.ndarray, seeds: np.ndarray, round_: int, public: int) -> np.ndarray:
    """A public's mood after this round's shock: uniform, mean 0, s.d. `volatility`."""
    u = draws.uniform(seeds, round_, draws.MOOD[public])
    return mood + volatility * SQRT3 * (2.0 * u - 1.0)


@dataclass
class Assessment:
    """How every package looks to the governments, per party: (runs, packages) arrays.

    It changes only when the pressure felt or the rhetoric changes, or a package is
    rejected, so it is kept between rounds and refreshed for the runs concerned.
    """

    effective: np.ndarray          # (runs,) the pressure felt it was computed for
    rhetoric: np.ndarray           # (runs,) the rhetoric it was computed for
    utility: list[np.ndarray]      # each party's utility of each package this round
    opinion: list[np.ndarray]      # each public's opinion before mood (not clipped)
    gain: list[np.ndarray]         # each government's negotiating gain; -inf if rejected
    acceptable: np.ndarray         # (runs,) some package leaves both sides better off
    derived: dict = field(default_factory=dict)  # each side's best gain, made on first use

    def top(self, k: int) -> np.ndarray:
        """Party k's best gain on offer, or 0."""
        if ("top", k) not in self.derived:
            self.derived[("top", k)] = kernels.top_gain(self.gain[k])
        return self.derived[("top", k)]


def select_assessment(seen: Assessment, rows: np.ndarray) -> Assessment:
    """The assessment of a subset of runs (a copy)."""
    return Assessment(
        seen.effective[rows], seen.rhetoric[rows], [u[rows] for u in seen.utility],
        [o[rows] for o in seen.opinion], [g[rows] for g in seen.gain], seen.acceptable[rows],
    )


def assess(tables: Tables, move: OutsideMove, rejected: np.ndarray, known: Assessment | None = None) -> Assessment:
    """Each government's utility and negotiating gain for every package, and each public's
    opinion. Governments anticipate ratification from the publics' known opinion (polls
    and rhetoric); the mood of the day moves only the vote itself. A kept assessment is
    refreshed only for the runs whose pressure or rhetoric changed.

    Per package: the pressed party's utility is sim.preferences.pressured_utility, each
    public's opinion sim.preferences.opinion, the chance that both ratify the product
    of sim.preferences.ratification_probability of each clipped opinion (1 without
    ratification), each gain sim.preferences.negotiating_gain, and a package a public
    rejected gains nothing (-inf); one compiled pass over the packages (_assess_rows).
    """
    if known is None:
        runs, size = rejected.shape
        known = Assessment(
            move.effective.copy(), move.rhetoric.copy(),
            [np.empty((runs, size)) for _ in (0, 1)], [np.empty((runs, size)) for _ in (0, 1)],
            [np.empty((runs, size)) for _ in (0, 1)], np.empty(runs, bool),
        )
        rows = np.arange(runs)
    else:
        changed = (move.effective != known.effective) | (move.rhetoric != known.rhetoric)
        if not changed.any():
            return known
        rows = np.flatnonzero(changed)
        known.effective[rows], known.rhetoric[rows] = move.effective[rows], move.rhetoric[rows]
        known.derived.clear()
    (p0, p1), o = tables.parties, tables.outside
    _assess_rows(
        rows, move.effective[rows], move.rhetoric[rows], o.target, o.shift, tables.ratification, rejected,
        p0.utility, p0.reservation, p0.anticipation, p0.acceptance, p0.rhetoric, p0.threshold, p0.margin,
        p1.utility, p1.reservation, p1.anticipation, p1.acceptance, p1.rhetoric, p1.threshold, p1.margin,
        *known.utility, *known.opinion, *known.gain, known.acceptable,
    )
    return known


@njit(cache=True, nogil=True)
def _assess_rows(rows, effective, rhetoric, target, shift, ratification, rejected,
                 utility0, reservation0, anticipation0, acceptance0, rhetoric0, threshold0, margin0,
                 utility1, reservation1, anticipation1, acceptance1, rhetoric1, threshold1, margin1,
                 out_utility0, out_utility1, out_opinion0, out_opinion1, out_gain0, out_gain1, out_acceptable):
    """:func:`assess` for runs ``rows[i]``, with pressure felt ``effective[i]`` and rhetoric
    ``rhetoric[i]``, written to the same rows of the outputs."""
    size = utility0.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        e, rh = effective[i], rhetoric[i]
        pressed0 = e if target[r] == 0 else 0.0
        pressed1 = e if target[r] == 1 else 0.0
        acceptable = False
        for j in range(size):
            u0 = pressed(utility0[r, j], shift[r, j], pressed0)
            u1 = pressed(utility1[r, j], shift[r, j], pressed1)
            v0 = swayed(acceptance0[r, j], rhetoric0[r, j], rh)
            v1 = swayed(acceptance1[r, j], rhetoric1[r, j], rh)
            both = 1.0
            if ratification[r]:
                both = (ratify_chance(clip01(v0), threshold0[r], margin0[r])
                        * ratify_chance(clip01(v1), threshold1[r], margin1[r]))
            if rejected[r, j]:
                g0 = g1 = -np.inf
            else:
                g0 = bargaining_gain(u0, reservation0[r], anticipation0[r], both)
                g1 = bargaining_gain(u1, reservation1[r], anticipation1[r], both)
            out_utility0[r, j], out_utility1[r, j] = u0, u1
            out_opinion0[r, j], out_opinion1[r, j] = v0, v1
            out_gain0[r, j], out_gain1[r, j] = g0, g1
            acceptable = acceptable or (g0 > 0.0 and g1 > 0.0)
        out_acceptable[r] = acceptable


def decide(round_: int, tables: Tables, seen: Assessment, offers: np.ndarray, stale: np.ndarray,
           who: np.ndarray) -> tuple[np.ndarray, Decision]:
    """The moving side's answer. A side walks away when no package leaves both better
    off than no agreement, or when its patience with unimproved offers has run out and
    its strategy would not accept the offer standing; otherwise its strategy accepts or
    counters. In the last round no counter-offer could be answered, so the mover accepts
    any standing offer that leaves it better off than no agreement. Returns (walk reason
    or ONGOING, decision)."""
    rows = np.arange(who.shape[0])
    first = who == 0
    p0, p1 = tables.parties
    kind = np.where(first, p0.strategy, p1.strategy)
    timed = (kind == STRATEGY_INDEX["time_dependent"]).any()
    if (who == who[0]).all():        # every run has the same side to move: no mixing needed
        w = int(who[0])
        own, other = seen.gain[w], seen.gain[1 - w]
        top = seen.top(w) if timed else None
    else:
        own = np.where(first[:, None], seen.gain[0], seen.gain[1])
        other = np.where(first[:, None], seen.gain[1], seen.gain[0])
        top = np.where(first, seen.top(0), seen.top(1)) if timed else None
    view = View(
        round=round_,
        deadline=tables.deadline,
        own_gain=own,
        other_gain=other,
        own_offer=offers[rows, who],
        other_offer=offers[rows, 1 - who],
        beta=np.where(first, p0.beta, p1.beta),
        tolerance=np.where(first, p0.tolerance, p1.tolerance),
        own_discount=np.where(first, p0.discount, p1.discount),
        other_discount=np.where(first, p1.discount, p0.discount),
        known_top=top,
    )
    kinds = np.unique(kind)
    if kinds.size == 1:
        decision = STRATEGIES[kinds[0]].respond(view)
    else:
        accept, offer = np.zeros(rows.size, bool), np.full(rows.size, NO_PACKAGE)
        for k in kinds:
            m = kind == k
            d = STRATEGIES[k].respond(view.rows(m))
            accept[m], offer[m] = d.accept, d.offer
        decision = Decision(accept, offer)
    last = round_ >= tables.deadline
    if last.any():
        decision = Decision(decision.accept | (last & (pick(own, view.other_offer) > 0)), decision.offer)
    patience = np.where(first, p0.patience, p1.patience)
    impatient = (patience > 0) & (stale[rows, who] >= patience) & ~decision.accept
    walk = np.where(~seen.acceptable, NO_ACCEPTABLE_PACKAGE, np.where(impatient, WALKED_AWAY + who, ONGOING))
    return walk, Decision(decision.accept & (walk == ONGOING), decision.offer)


def acceptance_today(seen: Assessment, mood: np.ndarray, package: np.ndarray, public: int,
                     rows: np.ndarray | None = None) -> np.ndarray:
    """Share of a public accepting a package today (its opinion plus mood), for each run
    or for the given rows; NaN where there is no package."""
    view = seen.opinion[public] if rows is None else seen.opinion[public][rows]
    today = mood[:, public] if rows is None else mood[rows, public]
    return np.clip(pick(view, package) + today, 0.0, 1.0)


def ratify(round_: int, tables: Tables, seen: Assessment, mood: np.ndarray, seeds: np.ndarray,
           rows: np.ndarray, package: np.ndarray, public: int) -> tuple[np.ndarray, np.ndarray]:
    """Put each run's package to one public: (probability, passed) for the given rows.
    Without ratification in the scenario every package passes."""
    p = tables.parties[public]
    prob = ratification_probability(
        acceptance_today(seen, mood, package, public, rows), p.threshold[rows], p.margin[rows]
    )
    prob = np.where(tables.ratification[rows], prob, 1.0)
    vote = draws.uniform(seeds[rows], round_, draws.RATIFY[public])
    return prob, vote < prob


def failure_reason(passed: np.ndarray) -> np.ndarray:
    """The end reason for runs whose package was not ratified in both."""
    fails = ~passed
    return np.where(fails.all(axis=1), RATIFICATION_FAILED_BOTH, RATIFICATION_FAILED + np.argmax(fails, axis=1))


# --------------------------------------------------------------------------- state


@dataclass
class Votes:
    """The ratification of this round, for the runs that put a package to the publics."""

    rows: np.ndarray         # run indices
    package: np.ndarray      # (n,)
    probability: np.ndarray  # (n, 2)
    passed: np.ndarray       # (n, 2)


@dataclass
class State:
    """What carries from one round to the next, for each run."""

    seeds: np.ndarray       # (runs,) uint64
    offers: np.ndarray      # (runs, 2) each party's standing offer
    on_table: np.ndarray    # (runs,) the latest offer made
    best_seen: np.ndarray   # (runs, 2) best gain each party saw in the other's offers
    stale: np.ndarray       # (runs, 2) offers since that best improved
    mood: np.ndarray        # (runs, 2)
    rejected: np.ndarray    # (runs, packages) packages a public has rejected
    pressure_total: np.ndarray  # (runs,) pressure applied so far
    package: np.ndarray     # (runs,) the package last agreed (ratified or not), -1 for none
    attempts: np.ndarray    # (runs,) packages put to ratification so far
    chance: np.ndarray      # (runs,) chance that the first package put to the publics passes both
    end_round: np.ndarray   # (runs,) 0 while ongoing
    reason: np.ndarray      # (runs,) ONGOING until the run ends

    @classmethod
    def start(cls, tables: Tables, seeds: np.ndarray) -> "State":
        n, size = tables.runs, tables.space.size
        return cls(
            seeds=np.asarray(seeds, dtype=np.uint64),
            offers=np.full((n, 2), NO_PACKAGE),
            on_table=np.full(n, NO_PACKAGE),
            best_seen=np.full((n, 2), -np.inf),
            stale=np.zeros((n, 2), np.int64),
            mood=np.zeros((n, 2)),
            rejected=np.zeros((n, size), bool),
            pressure_total=np.zeros(n),
            package=np.full(n, NO_PACKAGE),
            attempts=np.zeros(n, np.int64),
            chance=np.zeros(n),
            end_round=np.zeros(n, np.int64),
            reason=np.full(n, ONGOING),
        )

    @property
    def active(self) -> np.ndarray:
        return self.reason == ONGOING

    def settle(self, round_: int, tables: Tables, seen: Assessment, who: np.ndarray, walk: np.ndarray,
               decision: Decision, vote: Callable[[np.ndarray, np.ndarray, int], tuple]) -> tuple[np.ndarray, Votes]:
        """Carry out the movers' answers in the runs still going: walk-outs end,
        acceptances go to the publics (``vote(rows, package, public)`` -> (probability,
        passed)), offers stand. Returns the action code per run (NO_ACTION where the run
        had already ended) and this round's votes."""
        action = np.where(walk != ONGOING, WALK, np.where(decision.accept, ACCEPT, OFFER))
        action = np.where(self.active, action, NO_ACTION)
        walked = np.flatnonzero(action == WALK)
        self._end_rows(walked, round_, walk[walked])

        agreed = np.flatnonzero(action == ACCEPT)
        package = self.offers[agreed, 1 - who[agreed]]
        prob, passed = np.empty((0, 2)), np.empty((0, 2), bool)
        if agreed.size:
            votes = [vote(agreed, package, k) for k in (0, 1)]
            prob = np.stack([v[0] for v in votes], axis=1)
            passed = np.stack([v[1] for v in votes], axis=1)
            self.package[agreed] = package
            first = self.attempts[agreed] == 0
            self.chance[agreed[first]] = prob[first].prod(axis=1)
            self.attempts[agreed] += 1
            treaty = passed.all(axis=1)
            retry = ~treaty & tables.continue_after_failure[agreed] & (round_ < tables.deadline[agreed])
            self._end_rows(agreed[treaty], round_, TREATY)
            failed = ~treaty & ~retry
            self._end_rows(agreed[failed], round_, failure_reason(passed[failed]))
            self._reopen(agreed[retry], package[retry], seen)

        offering = np.flatnonzero(action == OFFER)
        self._record_offer(offering, who[offering], decision.offer[offering], seen)
        late = np.flatnonzero(self.active & (round_ >= tables.deadline))
        self._end_rows(late, round_, DEADLINE)
        return action, Votes(agreed, package, prob, passed)

    def select(self, rows: np.ndarray) -> "State":
        """The state of a subset of runs (a copy)."""
        return State(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def _end_rows(self, rows: np.ndarray, round_: int, reason) -> None:
        self.reason[rows] = reason
        self.end_round[rows] = round_

    def _record_offer(self, rows: np.ndarray, who: np.ndarray, offer: np.ndarray, seen: Assessment) -> None:
        """The mover's counter-offer stands; the receiver notes whether it improved."""
        self.offers[rows, who] = offer
        self.on_table[rows] = offer
        receiver = 1 - who
        gain = np.where(receiver == 0, seen.gain[0][rows, offer], seen.gain[1][rows, offer])
        improved = gain > self.best_seen[rows, receiver]
        self.best_seen[rows, receiver] = np.where(improved, gain, self.best_seen[rows, receiver])
        self.stale[rows, receiver] = np.where(improved, 0, self.stale[rows, receiver] + 1)

    def _reopen(self, rows: np.ndarray, package: np.ndarray, seen: Assessment) -> None:
        """After a failed ratification, talks go on without that package."""
        self.rejected[rows, package] = True
        for g in seen.gain:
            g[rows, package] = -np.inf
        seen.derived.clear()                 # best gains made from the old gains are stale
        seen.acceptable[rows] = ((seen.gain[0][rows] > 0) & (seen.gain[1][rows] > 0)).any(axis=1)
        self.offers[rows] = NO_PACKAGE
        self.on_table[rows] = NO_PACKAGE
        self.best_seen[rows] = -np.inf
        self.stale[rows] = 0


# --------------------------------------------------------------------------- a round


class Actors(Protocol):
    """Who carries out a round's acts: the Mesa model's agents, or direct calls of the
    rules above for many runs at once (the batch engine)."""

    def outside(self, round_: int) -> OutsideMove: ...
    def moods(self, round_: int) -> None: ...
    def decide(self, round_: int, seen: Assessment, who: np.ndarray) -> tuple[np.ndarray, Decision]: ...
    def vote(self, rows: np.ndarray, package: np.ndarray, public: int) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class Round:
    move: OutsideMove
    seen: Assessment
    who: np.ndarray
    action: np.ndarray
    votes: Votes


def play_round(round_: int, tables: Tables, state: State, seen: Assessment | None, actors: Actors) -> Round:
    """One round, in the order every engine plays it: the outside power acts on the
    package on the table, the publics' moods move, the governments assess the packages,
    the side whose turn it is answers, and an accepted package goes to the publics."""
    move = actors.outside(round_)
    state.pressure_total += np.where(state.active, move.pressure, 0.0)
    actors.moods(round_)
    seen = assess(tables, move, state.rejected, seen)
    who = mover(round_, tables.opener)
    walk, decision = actors.decide(round_, seen, who)
    action, votes = state.settle(round_, tables, seen, who, walk, decision, actors.vote)
    return Round(move, seen, who, action, votes)


class DirectActors:
    """The round's acts as direct calls of the rules, for every run of a batch."""

    def __init__(self, tables: Tables, state: State):
        self.tables, self.state = tables, state
        self.seen: Assessment | None = None

    def outside(self, round_: int) -> OutsideMove:
        self.round = round_
        return outside_move(round_, self.tables, self.state.offers)

    def moods(self, round_: int) -> None:
        st = self.state
        for k in (0, 1):
            st.mood[:, k] = mood_step(st.mood[:, k], self.tables.parties[k].volatility, st.seeds, round_, k)

    def decide(self, round_: int, seen: Assessment, who: np.ndarray) -> tuple[np.ndarray, Decision]:
        self.seen = seen
        return decide(round_, self.tables, seen, self.state.offers, self.state.stale, who)

    def vote(self, rows: np.ndarray, package: np.ndarray, public: int) -> tuple[np.ndarray, np.ndarray]:
        st = self.state
        return ratify(self.round, self.tables, self.seen, st.mood, st.seeds, rows, package, public)


# --------------------------------------------------------------------------- records


def round_columns(tables: Tables) -> list[str]:
    """Names of the per-round record's columns (beyond the run and round)."""
    ids, oid = tables.party_ids, tables.outside_id
    actors = [*ids, *([oid] if oid else [])]
    cols = ["mover", "action"]
    for p in ids:
        cols.append(f"offer_{p}")
        cols += [f"offer_{p}_utility_{a}" for a in actors]
    if oid:
        cols += [f"{oid}_alarm", f"{oid}_pressure", f"{oid}_pressure_felt", f"{oid}_rhetoric"]
    for p in ids:
        cols.append(f"public_{p}_mood")
        cols += [f"public_{p}_accepts_{q}_offer" for q in ids]
    return cols


def round_report(tables: Tables, state: State, seen: Assessment, move: OutsideMove, who: np.ndarray,
                 action: np.ndarray) -> dict[str, np.ndarray]:
    """This round's record for every run: the offers standing and their utility to each
    actor, the outside power's moves, each public's mood and acceptance of the package
    on the table. Utilities are this round's (the pressed party's include pressure)."""
    ids, oid = tables.party_ids, tables.outside_id
    r: dict[str, np.ndarray] = {"mover": who.copy(), "action": action}
    for k, p in enumerate(ids):
        offer = state.offers[:, k].copy()
        r[f"offer_{p}"] = offer
        for j, q in enumerate(ids):
            r[f"offer_{p}_utility_{q}"] = pick(seen.utility[j], offer)
        if oid:
            r[f"offer_{p}_utility_{oid}"] = pick(tables.outside.utility, offer)
    if oid:
        r[f"{oid}_alarm"] = move.alarm
        r[f"{oid}_pressure"] = move.pressure
        r[f"{oid}_pressure_felt"] = move.effective
        r[f"{oid}_rhetoric"] = move.rhetoric
    for k, p in enumerate(ids):
        r[f"public_{p}_mood"] = state.mood[:, k].copy()
        for j, q in enumerate(ids):
            r[f"public_{p}_accepts_{q}_offer"] = acceptance_today(seen, state.mood, state.offers[:, j], k)
    return r
