"""Oracle: Zeuthen's strategy on both sides ends at the Nash bargaining solution.

With no outside power, ratification always passing and both sides using Zeuthen's
strategy, the agreed package maximises the Nash product (gains over the status quo)
over the whole outcome space: Harsanyi (1956) showed Zeuthen's concession rule leads
to Nash's (1950) solution, and on a finite outcome space the monotonic concession
protocol with that rule ends at a product-maximising deal (Rosenschein and Zlotkin
1994). The check is by brute force over all 120 packages, on many random utility
tables. Tolerance: none. Each offer a side makes gives it at least its gain at a
product-maximising package, so the package accepted gives both sides at least their
gains there; float multiplication is monotone, so its product equals the maximum
exactly. Where several packages tie for the maximum, any of them passes. (The engine
compares gains and products up to sim.kernels.TIE, 1e-9, so in general the argument
holds up to about TIE; on these tables no product lies within 1e-6 of the maximum
without equalling it, and no gain within 1e-6 of zero, so the check stays exact.)
"""

import numpy as np

from dipsim.sim import protocol
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import make, random_preferences


def oracle_scenarios(raw, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        data = random_preferences(raw, rng)
        data["outside"]["usa"]["active"] = False
        data["negotiation"]["ratification"] = False
        data["negotiation"]["deadline"] = 600  # more than enough for every concession
        out.append(make(data))
    return out


def check_nash(tables, outcomes):
    gains = [p.utility - p.reservation[:, None] for p in tables.parties]
    both = (gains[0] > 0) & (gains[1] > 0)
    nash = np.where(both, gains[0] * gains[1], -np.inf)
    rows = np.arange(tables.runs)
    possible = both.any(axis=1)
    assert np.array_equal(outcomes.reason[~possible], np.full((~possible).sum(), protocol.NO_ACCEPTABLE_PACKAGE))
    assert (outcomes.reason[possible] == protocol.TREATY).all()
    agreed = outcomes.package[possible]
    assert np.array_equal(nash[rows[possible], agreed], nash[possible].max(axis=1))
    return int(possible.sum())


def test_zeuthen_reaches_the_nash_product_maximum_batch(baseline_raw):
    scenarios = oracle_scenarios(baseline_raw, 2000, seed=1956)
    tables = Tables.from_scenarios(scenarios)
    outcomes, _ = simulate(tables, np.arange(tables.runs), engine="batch", rounds=False)
    agreed = check_nash(tables, outcomes)
    assert agreed > 1000  # most random tables have a package both prefer to no agreement


def test_zeuthen_reaches_the_nash_product_maximum_mesa(baseline_raw):
    scenarios = oracle_scenarios(baseline_raw, 60, seed=1950)
    tables = Tables.from_scenarios(scenarios)
    outcomes, _ = simulate(tables, np.arange(tables.runs), engine="mesa", rounds=False)
    assert check_nash(tables, outcomes) > 20


def test_time_dependent_strategies_do_not_in_general(baseline_raw):
    """The oracle can fail: Boulware against a Conceder does not land on the Nash point."""
    rng = np.random.default_rng(7)
    scenarios = []
    for _ in range(300):
        data = random_preferences(baseline_raw, rng, strategies=("time_dependent", "time_dependent"))
        data["parties"]["russia"]["strategy"]["beta"] = 0.2
        data["parties"]["japan"]["strategy"]["beta"] = 5.0
        data["outside"]["usa"]["active"] = False
        data["negotiation"]["ratification"] = False
        scenarios.append(make(data))
    tables = Tables.from_scenarios(scenarios)
    outcomes, _ = simulate(tables, np.arange(tables.runs), engine="batch", rounds=False)
    gains = [p.utility - p.reservation[:, None] for p in tables.parties]
    nash = np.where((gains[0] > 0) & (gains[1] > 0), gains[0] * gains[1], -np.inf)
    done = outcomes.treaty
    rows = np.flatnonzero(done)
    assert (nash[rows, outcomes.package[done]] < nash[done].max(axis=1)).mean() > 0.5
