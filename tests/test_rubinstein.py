"""Oracle: Rubinstein (1982). One divisible issue, alternating offers, discount factors
d1 (the first proposer) and d2: in equilibrium the first proposer gets
(1 - d2) / (1 - d1 d2) and the other accepts at once.

Tolerance. The model's equilibrium strategy works on a grid of shares with step
h = 1/n. Each proposer's value is the largest grid share meeting the other's demand,
so it falls short of the exact value by some e < h; at the fixed point
W1 = 1 - d2 (1 - d1 W1 - e2) - e1, so W1 - W1* = (d2 e2 - e1) / (1 - d1 d2), less than
h / (1 - d1 d2) in size. Patient players (d1 d2 near 1) magnify the grid's error; it
vanishes as the grid gets finer, which the last test shows."""

import numpy as np
import pytest

from dipsim.sim import scenario as sc
from dipsim.sim.run import simulate


def split_scenario(baseline_raw, n: int, d1: float, d2: float):
    import copy

    data = copy.deepcopy(baseline_raw)
    shares = np.linspace(0, 1, n + 1)
    data["issues"] = {"share": {"label": "Russia's share", "options": [f"{s:.6f}" for s in shares], "source": "test"}}
    for pid, values, d in (("russia", shares, d1), ("japan", 1 - shares, d2)):
        p = data["parties"][pid]
        p["utility"] = {
            "treaty": {"value": 0.0, "source": "test"},
            "reservation": {"value": 0.0, "source": "disagreement is worth nothing"},
            "issues": {"share": {"weight": 1.0, "values": values.tolist(), "source": "linear utility"}},
        }
        p["strategy"] = {"kind": "rubinstein", "discount": d, "source": "Rubinstein 1982"}
        p["public"]["effects"] = {}
    data["outside"]["usa"]["active"] = False
    data["outside"]["usa"]["utility"]["issues"] = {"share": {"weight": 1.0, "values": [0.5] * (n + 1), "source": "t"}}
    data["outside"]["usa"]["pressure"]["shift"] = {}
    data["outside"]["usa"]["rhetoric"]["effects"] = {}
    data["negotiation"].update(ratification=False, opener="russia", deadline=1000)
    return sc.validate(data)


def first_share(baseline_raw, n, d1, d2):
    o, _ = simulate(split_scenario(baseline_raw, n, d1, d2), np.array([1]), rounds=False)
    assert o.treaty[0] and o.end_round[0] == 2  # offered in round 1, accepted in round 2
    return o.agreed[0] / n


TABLE = [(0.9, 0.9), (0.9, 0.5), (0.5, 0.9), (0.99, 0.95), (0.6, 0.8), (0.3, 0.3), (0.95, 0.7)]


@pytest.mark.parametrize("d1,d2", TABLE)
def test_first_mover_gets_rubinsteins_share(baseline_raw, d1, d2):
    n = 1000
    error = abs(first_share(baseline_raw, n, d1, d2) - (1 - d2) / (1 - d1 * d2))
    assert error < (1 / n) / (1 - d1 * d2)


def test_the_error_shrinks_as_the_grid_gets_finer(baseline_raw):
    d1, d2 = 0.8, 0.7
    exact = (1 - d2) / (1 - d1 * d2)
    errors = [abs(first_share(baseline_raw, n, d1, d2) - exact) for n in (10, 100, 1000)]
    bound = [(1 / n) / (1 - d1 * d2) for n in (10, 100, 1000)]
    assert all(e < b for e, b in zip(errors, bound))
    assert errors[2] < errors[0] and errors[2] < 0.003
