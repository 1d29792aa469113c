"""Outside powers that choose before each run: a strategic outside power chooses the caps
of its pressure and rhetoric, and a patron the offer it makes the party it backs (each a
Stackelberg leader, moving first on a policy the talks then play under).

Each option of the scenario's ``[outside.<id>.policy]`` (sim.scenario.Policy) caps the
reflex rule of sim.protocol.outside_move: pressure at ``pressure_max x option.pressure``,
rhetoric at ``rhetoric_max x option.rhetoric``; its ``inducement`` raises the pressed
party's value of no agreement for the run. Each option of ``[patron.<id>.policy]``
(sim.scenario.PatronPolicy) raises the backed party's value of no agreement by
``offer.max x option.offer x (1 - discount)`` for the run (:func:`backed`).

Before a run the powers play the talks forward under every option (with both, every pair
of options), ``samples`` times, with the batch engine, in the run's own world (its drawn
beliefs: complete information) but with draws of their own (sim.draws.forward_seeds: they
do not foresee the run's moods and votes), the same draws for every option (common random
numbers: options are compared on the same futures, so that the choice is not decided by
sampling noise between them). An option's value to a power is its mean utility of the
outcome (Outcomes.utilities: the outside power's net of the goodwill its pressure cost)
less the option's cost. The patron moves first and the outside power answers it (or, with
``moves = "second"``, the other way round): for each option of the one who moves first,
the other's best answer (the first on ties), and the first mover's option is the one
whose answered outcome serves it best (the first on ties; subgame perfection on the
pair's forward values); values within TIE of each other are a tie (:func:`best`). The choice is a function of the run's tables and seed alone, made
here, outside the compiled round loop, for both engines; the engines then play tables with
the chosen caps and offer, so they play the run alike.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from .draws import forward_seeds
from .kernels import TIE
from .preferences import PRIVATE_KEYS, PolicyTables, Tables

CHUNK = 1024  # runs chosen for at once: bounds the forward runs' tables (runs x samples rows per option)


class Chosen(NamedTuple):
    """The option each run was played with: the outside power's and the patron's (None
    for a power that has no choice to make)."""

    outside: np.ndarray | None
    patron: np.ndarray | None


NOTHING = Chosen(None, None)


def capped(tables: Tables, pressure: np.ndarray, rhetoric: np.ndarray, inducement: np.ndarray | None = None) -> Tables:
    """The tables with the outside power's caps scaled (per run, or one factor for all), its
    ``inducement`` (if any) added to the pressed party's value of no agreement, and no
    policy left to choose."""
    o = tables.outside
    outside = replace(o, pressure_max=o.pressure_max * pressure, rhetoric_max=o.rhetoric_max * rhetoric)
    played = replace(tables, outside=outside, policy=None)
    return played if inducement is None else raised(played, o.target, inducement)


def raised(tables: Tables, party: np.ndarray, worth: np.ndarray) -> Tables:
    """The tables with the value of no agreement of party ``party`` (its index, per run)
    raised by ``worth`` (per run, or one for all), and, where that value is the party's
    private number, every type the other side holds possible raised alike (the offer that
    raises it is public)."""
    parties = list(tables.parties)
    for k, p in enumerate(parties):
        shift = np.where(party == k, worth, 0.0)
        if not np.any(shift):
            continue
        moved = replace(p, reservation=p.reservation + shift)
        if p.private_key == PRIVATE_KEYS["reservation"]:
            moved = replace(moved, private_value=p.private_value + shift, types=p.types + shift[:, None])
        parties[k] = moved
    return replace(tables, parties=tuple(parties))


def offer_worth(tables: Tables, share: np.ndarray) -> np.ndarray:
    """(runs,) what the patron's offer of ``share`` of offer.max adds to the backed party's
    value of no agreement: offer.max x share x (1 - discount)."""
    p = tables.patron
    assert p is not None
    return p.offer * share * (1.0 - p.discount)


def backed(tables: Tables, share: np.ndarray) -> Tables:
    """The tables with the patron's offer made (``share`` of offer.max, per run or one for
    all): the backed party's value of no agreement raised by :func:`offer_worth`
    (:func:`raised`), and no offer left to make."""
    p = tables.patron
    assert p is not None
    return replace(raised(tables, p.target, offer_worth(tables, share)), backing=None)


def with_fixed_offer(tables: Tables) -> Tables:
    """The tables with a fixed patron's offer made, as every run makes it (what the backed
    party's gains are read against before the talks); a strategic patron's offer depends
    on the run, so its tables stay as they are."""
    backing = tables.backing
    if backing is None or backing.strategic:
        return tables
    return backed(tables, backing.offer[:, 0])


def _samples(tables: Tables) -> int:
    policy, backing = tables.policy, tables.backing
    found = [policy.samples] if policy is not None else []
    if backing is not None and backing.strategic:
        found.append(backing.samples)
    return max(found)


def values(tables: Tables, seeds: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(runs, patron's options, outside power's options): each pair's value to the patron
    and to the outside power in each run, its mean utility over the forward runs less its
    option's cost (None for a power without a choice; a power without options counts as
    one). ``tables`` has one row for every run or one per seed."""
    from .batch import simulate

    policy, backing = tables.policy, tables.backing
    seeds = np.asarray(seeds, dtype=np.uint64)
    n, samples = seeds.shape[0], _samples(tables)
    forward = forward_seeds(seeds, samples).ravel()
    rows = None if tables.runs == 1 else np.repeat(np.arange(n), samples)
    offers = backing.options if backing is not None else 1
    caps = policy.options if policy is not None else 1
    to_patron = np.empty((n, offers, caps)) if backing is not None and backing.strategic else None
    to_outside = np.empty((n, offers, caps)) if policy is not None else None
    for a in range(offers):
        offered = tables if backing is None else backed(tables, backing.offer[:, a])
        for b in range(caps):
            option = offered if policy is None else capped(offered, *_option(policy, slice(None), b))
            world = option if rows is None else option.select(rows)
            outcomes, _ = simulate(world, forward, rounds=False)
            utility = outcomes.utilities(world)
            if to_outside is not None:
                assert policy is not None and tables.outside_id is not None
                to_outside[:, a, b] = utility[tables.outside_id].reshape(n, samples).mean(axis=1) - policy.cost[:, b]
            if to_patron is not None:
                assert backing is not None and tables.patron_id is not None
                to_patron[:, a, b] = utility[tables.patron_id].reshape(n, samples).mean(axis=1) - backing.cost[:, a]
    return to_patron, to_outside


def _decide(tables: Tables, seeds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each run's (patron's option, outside power's option). The one who moves second
    answers each option of the one who moves first with its best (the first on ties); the
    one who moves first picks the option whose answered outcome serves it best (the first
    on ties). The patron moves first unless its policy says ``moves = "second"``."""
    n = seeds.shape[0]
    to_patron, to_outside = values(tables, seeds)
    backing = tables.backing
    shape = (n, backing.options if backing is not None else 1, tables.policy.options if tables.policy else 1)
    patron = np.zeros(shape) if to_patron is None else to_patron  # a power without a choice: every option alike
    outside = np.zeros(shape) if to_outside is None else to_outside
    if backing is None or backing.first:
        offer, answer = _lead(patron, outside)
    else:
        answer, offer = _lead(outside.transpose(0, 2, 1), patron.transpose(0, 2, 1))
    return offer, answer


def _lead(leader: np.ndarray, follower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(leader's option, follower's option) per run, from each pair's value to each,
    (runs, leader's options, follower's options)."""
    n = leader.shape[0]
    answer = best(follower, axis=2)
    answered = np.take_along_axis(leader, answer[:, :, None], axis=2)[:, :, 0]
    lead = best(answered, axis=1)
    return lead.astype(np.int64), answer[np.arange(n), lead].astype(np.int64)


def best(values: np.ndarray, axis: int) -> np.ndarray:
    """The first option whose value is within TIE of the largest along ``axis``: values
    that differ by less are a tie, so that a choice never rests on the last bits of a mean
    (an offer whose forward gain equals its cost, the same outcomes summed in another
    order, another CPU's reduction)."""
    top = np.max(values, axis=axis, keepdims=True)
    return np.argmax(values >= top - TIE, axis=axis)


def choose(tables: Tables, seeds: np.ndarray) -> tuple[Tables, Chosen]:
    """The tables each run is played with, one row per seed, with the chosen caps and offer,
    and the options chosen in each run (:data:`NOTHING`, and the tables as they are, where
    no power has a choice to make)."""
    policy, backing = tables.policy, tables.backing
    if policy is None and backing is None:
        return tables, NOTHING
    seeds = np.asarray(seeds, dtype=np.uint64)
    n = seeds.shape[0]
    weighing = (policy is not None and policy.options > 1) or (
        backing is not None and backing.strategic and backing.options > 1
    )
    if weighing:
        parts = [_decide(_part(tables, a, n), seeds[a : a + CHUNK]) for a in range(0, n, CHUNK)]
        offer = np.concatenate([p[0] for p in parts])
        answer = np.concatenate([p[1] for p in parts])
    else:  # nothing to weigh: every run plays the one option
        offer = answer = np.zeros(n, np.int64)
    # one row per run, except where one row served every run and nothing was weighed: it still does
    rows = np.arange(n) if tables.runs > 1 else np.zeros(n if weighing else 1, np.int64)
    played = tables if tables.runs == rows.size else tables.select(rows)
    if backing is not None:
        played = backed(played, backing.offer[rows, offer[: rows.size]])
    if policy is not None:
        played = capped(played, *_option(policy, rows, answer[: rows.size]))
    return played, Chosen(answer if policy is not None else None, offer if backing is not None else None)


def _option(policy: PolicyTables, rows, chosen) -> tuple:
    """The arguments of :func:`capped` for the option ``chosen`` in ``rows``."""
    inducement = None if policy.inducement is None else policy.inducement[rows, chosen]
    return policy.pressure[rows, chosen], policy.rhetoric[rows, chosen], inducement


def _part(tables: Tables, a: int, n: int) -> Tables:
    return tables if tables.runs == 1 else tables.select(np.arange(a, min(a + CHUNK, n)))
