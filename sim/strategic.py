"""A strategic outside power: before each run it chooses the caps of its pressure and
rhetoric (a Stackelberg leader, moving first on a policy the talks then play under).

Each option of the scenario's ``[outside.<id>.policy]`` (sim.scenario.Policy) caps the
reflex rule of sim.protocol.outside_move: pressure at ``pressure_max x option.pressure``,
rhetoric at ``rhetoric_max x option.rhetoric``. Before a run the power plays the talks
forward under every option, ``samples`` times, with the batch engine, in the run's own
world (its drawn beliefs: complete information) but with draws of their own
(sim.draws.forward_seeds: it does not foresee the run's moods and votes), the same draws
for every option (common random numbers: options are compared on the same futures, so
that the choice is not decided by sampling noise between them). An option's value is its
mean utility of the outcome (Outcomes.utilities: net of the goodwill its pressure cost)
less its cost; the power plays the run with the option of highest value, the first on
ties. The choice is a function of the run's tables and seed alone, made here, outside
the compiled round loop, for both engines; the engines then play tables whose caps are
the chosen ones, so they play the run alike.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .draws import forward_seeds
from .preferences import PolicyTables, Tables

CHUNK = 1024  # runs chosen for at once: bounds the forward runs' tables (runs x samples rows per option)


def capped(tables: Tables, pressure: np.ndarray, rhetoric: np.ndarray) -> Tables:
    """The tables with the outside power's caps scaled (per run, or one factor for all) and
    no policy left to choose."""
    o = tables.outside
    outside = replace(o, pressure_max=o.pressure_max * pressure, rhetoric_max=o.rhetoric_max * rhetoric)
    return replace(tables, outside=outside, policy=None)


def values(tables: Tables, seeds: np.ndarray) -> np.ndarray:
    """(runs, options): each option's value to the outside power in each run, its mean
    utility over the forward runs less its cost. ``tables`` has a policy, and one row for
    every run or one per seed."""
    from .batch import simulate

    policy: PolicyTables | None = tables.policy
    assert policy is not None and tables.outside_id is not None
    seeds = np.asarray(seeds, dtype=np.uint64)
    n, samples = seeds.shape[0], policy.samples
    forward = forward_seeds(seeds, samples).ravel()
    rows = None if tables.runs == 1 else np.repeat(np.arange(n), samples)
    out = np.empty((n, policy.options))
    for k in range(policy.options):
        option = capped(tables, policy.pressure[:, k], policy.rhetoric[:, k])
        world = option if rows is None else option.select(rows)
        outcomes, _ = simulate(world, forward, rounds=False)
        utility = outcomes.utilities(world)[tables.outside_id].reshape(n, samples)
        out[:, k] = utility.mean(axis=1) - policy.cost[:, k]
    return out


def choose(tables: Tables, seeds: np.ndarray) -> tuple[Tables, np.ndarray | None]:
    """The tables each run is played with, one row per seed, with the chosen caps, and the
    option chosen in each run (None, and the tables as they are, without a policy)."""
    policy = tables.policy
    if policy is None:
        return tables, None
    seeds = np.asarray(seeds, dtype=np.uint64)
    n = seeds.shape[0]
    if policy.options == 1:  # nothing to weigh
        choice = np.zeros(n, np.int64)
    else:
        choice = np.concatenate(
            [np.argmax(values(_part(tables, a, n), seeds[a : a + CHUNK]), axis=1) for a in range(0, n, CHUNK)]
        ).astype(np.int64)
    rows = np.zeros(n, np.int64) if tables.runs == 1 else np.arange(n)
    played = tables if tables.runs == n else tables.select(rows)
    return capped(played, policy.pressure[rows, choice], policy.rhetoric[rows, choice]), choice


def _part(tables: Tables, a: int, n: int) -> Tables:
    return tables if tables.runs == 1 else tables.select(np.arange(a, min(a + CHUNK, n)))
