"""Oracle: the bargaining solutions against their closed forms on textbook problems.

On the frontier u1 = x, u2 = sqrt(1 - x), x in [0, 1], disagreement (0, 0):
- Nash (1950): maximise x sqrt(1 - x): x = 2/3;
- asymmetric Nash with power a for side 1 (Kalai 1977; Roth 1979): maximise
  x^a (1 - x)^((1 - a) / 2): x = 2a / (1 + a);
- Kalai and Smorodinsky (1975): ideal point (1, 1), so x = sqrt(1 - x): x = (sqrt 5 - 1) / 2;
- utilitarian: maximise x + sqrt(1 - x): x = 3/4.
The problem is a grid of 200,001 values of x, so the solutions hold within the grid's
step (5e-6) in x; the tolerance below is 1e-5.
"""

import numpy as np
import pytest

from dipsim.analysis.interpretation.solutions import kalai_smorodinsky, nash, pareto_frontier, utilitarian

X = np.linspace(0.0, 1.0, 200_001)
U1, U2 = X, np.sqrt(1.0 - X)
TOL = 1e-5


def test_nash_symmetric():
    assert abs(X[nash(U1, U2)] - 2 / 3) < TOL


@pytest.mark.parametrize("a", [0.2, 0.35, 0.5, 0.7, 0.9])
def test_nash_with_bargaining_power(a):
    assert abs(X[nash(U1, U2, power=a)] - 2 * a / (1 + a)) < TOL


def test_kalai_smorodinsky():
    assert abs(X[kalai_smorodinsky(U1, U2)] - (np.sqrt(5) - 1) / 2) < TOL


def test_utilitarian():
    assert abs(X[utilitarian(U1, U2)] - 0.75) < TOL


def test_linear_frontier_with_a_disagreement_point():
    """u1 = x, u2 = 2 (1 - x), disagreement (0.2, 0.1): rational x in [0.2, 0.95].
    Nash maximises (x - 0.2)(1.9 - 2x): x = 0.575. KS: ideal gains 0.75 and 1.5, equal
    shares of them where 1.5 (x - 0.2) = 0.75 (1.9 - 2x): x = 0.575 (on a straight
    frontier the two coincide). The utilitarian sum 2 - x is largest at x = 0.2."""
    x = np.linspace(0, 1, 100_001)
    u2 = 2 * (1 - x)
    d = (0.2, 0.1)
    assert abs(x[nash(x, u2, d)] - 0.575) < TOL
    assert abs(x[kalai_smorodinsky(x, u2, d)] - 0.575) < TOL
    assert x[utilitarian(x, u2, d)] == pytest.approx(0.2)


def test_pareto_frontier_of_a_finite_set():
    u1 = np.array([0.0, 1.0, 0.5, 0.4, 0.5, 1.0, 0.2])
    u2 = np.array([1.0, 0.0, 0.5, 0.4, 0.6, 0.0, 0.9])
    front = pareto_frontier(u1, u2)
    assert front.tolist() == [0, 6, 4, 1]  # 2 and 3 are dominated by 4; 5 repeats 1
    assert (np.diff(u1[front]) > 0).all() and (np.diff(u2[front]) < 0).all()


def test_solutions_lie_on_the_frontier():
    rng = np.random.default_rng(3)
    for _ in range(50):
        u1, u2 = rng.random(60), rng.random(60)
        front = set(pareto_frontier(u1, u2).tolist())
        for f in (nash, kalai_smorodinsky, utilitarian):
            assert f(u1, u2) in front, f.__name__


def test_no_rational_outcome_is_an_error():
    with pytest.raises(ValueError):
        nash(np.array([0.1]), np.array([0.1]), (0.5, 0.5))
