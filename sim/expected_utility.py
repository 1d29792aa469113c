"""Bueno de Mesquita's expected utility model, as formalised by Scholz, Calbert and Smith
(2011, Journal of Theoretical Politics 23(4), "Unravelling Bueno De Mesquita's group
decision model"). Pure functions over arrays of stakeholders; the Mesa model in
sim.eu_model calls them.

Each stakeholder i has a position x_i on one dimension, a capability c_i, a salience
s_i (0 to 1) and a risk exponent r_i. Positions are compared on the issue's range R.

- Vote of k for position a over b: v_k(a, b) = c_k s_k ((|x_k - b| / R)^r - (|x_k - a| / R)^r).
- Forecast: the position that wins every pairwise vote among the stakeholders' positions
  (with r = 1); also the capability-and-salience weighted mean and median.
- Probability that i prevails against j: the votes for x_i over x_j, over the sum of
  |votes| of every stakeholder on every pair of positions. Replications of Scholz's code
  found that this denominator, summed over all pairs, matches the published run; the
  formula as printed sums over the pair (i, j) only. ``probability(..., all_pairs=False)``
  gives the printed version.
- Utilities, as perceived with risk exponent r: success 2 - 4 (0.5 - 0.5 |x_i - x_j| / R)^r,
  failure 2 - 4 (0.5 + 0.5 |x_i - x_j| / R)^r, status quo 2 - 4 (0.5)^r.
- Expected utility of i challenging j: s_j (P U_s + (1 - P) U_f) + (1 - s_j) U_s - Q U_sq,
  with Q = 1 (the status quo persists if not challenged), as in Scholz's runs.
- Risk: a stakeholder's danger is the sum of the others' expected utilities of
  challenging it (all with r = 1); scaled to R_i in [-1, 1] across stakeholders, its risk
  exponent is (1 - R_i / 3) / (1 + R_i / 3).
- Offers, each stakeholder seen from its own side with its own risk exponent: against j,
  with E_ij = EU of i challenging j and E_ji = EU of j challenging i:
    confrontation (E_ji > E_ij > 0): i expects to lose and moves to x_j;
    compromise (E_ji > 0 > E_ij, E_ji > |E_ij|): i moves toward x_j by |E_ij / E_ji|;
    capitulation (E_ji > 0 > E_ij, E_ji < |E_ij|): i moves to x_j.
  A stakeholder takes the closest confrontation if it has any, else the compromise
  nearest its position, else the closest capitulation (the lowest-numbered stakeholder's
  offer among equally near ones); all move at once.

Same results on every machine. The sums and powers above are computed by numpy, whose
last bits differ between CPUs (its SIMD code sums in another order, and its ``**`` is
not correctly rounded), and positions that converge make near-ties of them. So the
model takes no decision on a bare comparison of two computed numbers:

- Positions are kept on a grid of ``GRID`` (a million) steps across the issue's range
  (:meth:`Stakeholders.on_grid`), the scenario's positions included, after every move. Equal
  positions are then exactly equal, distances to offers are compared in whole steps
  (exactly; a tie goes to the lowest-numbered stakeholder), and every round starts from
  a state that is the same on every machine. A millionth of the range is far below any
  position a source gives, and far above the rounding of a computed position (about
  1e-15 of it); a computed position can still land on the other side of a half step, but
  only when it falls within about 1e-15 of one.
- Every other decision compares with :func:`exceeds`: a quantity exceeds another when
  it is larger by more than ``TIE`` (1e-9), on a dimensionless scale: expected
  utilities as they are (utilities run from -2 to 2), vote margins and weights as shares
  of the total capability-and-salience weight. So a zero expected utility is one within
  1e-9 of zero (no offer follows from it); confrontation needs E_ji > E_ij > 0 by more
  than TIE each; compromise needs E_ji to exceed |E_ij| by more than TIE (else the move
  is a capitulation, all the way to x_j); the pairwise winner must beat every other
  position by a margin of more than TIE (failing that, the largest total margin wins,
  the lowest position among those within TIE of it); the weighted median is the lowest
  position with at least half the weight, less TIE, at or below it; and stakeholders
  whose dangers spread by no more than TIE all take risk exponent 1.
- The weighted mean is summed with ``math.fsum`` (correctly rounded in any order).

Reported figures (mean, median, forecast, positions) are therefore the same on every
machine, not merely close; only the probabilities, expected utilities and risk
exponents, which the written tables leave out, may differ in their last bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFRONTATION, COMPROMISE, CAPITULATION = "confrontation", "compromise", "capitulation"

# Steps of the grid positions are kept on, across the range (module docstring).
GRID = 1_000_000
# Dimensionless quantities closer than this are equal (module docstring; :func:`exceeds`).
TIE = 1e-9


def exceeds(a, b):
    """Whether ``a`` is larger than ``b`` by more than TIE: every comparison of computed
    values the model decides on (elementwise for arrays)."""
    return a - b > TIE


@dataclass(frozen=True)
class Stakeholders:
    names: tuple[str, ...]
    position: np.ndarray  # (n,)
    capability: np.ndarray  # (n,)
    salience: np.ndarray  # (n,) 0..1
    span: float  # R: the range distances are measured against
    low: float  # the low end of the range, where the grid of positions starts

    @property
    def weight(self) -> np.ndarray:
        """Each stakeholder's capability times salience."""
        return self.capability * self.salience

    def steps(self, position) -> np.ndarray:
        """Positions as whole steps of the grid from the low end (:data:`GRID` across the range)."""
        return np.rint((np.asarray(position) - self.low) * GRID / self.span).astype(np.int64)

    def on_grid(self, position) -> np.ndarray:
        """Positions moved to the nearest point of the grid (the same float on every machine)."""
        return self.low + self.steps(position) * self.span / GRID


def votes(st: Stakeholders, a: np.ndarray, b: np.ndarray, risk: np.ndarray | float = 1.0) -> np.ndarray:
    """v_k(a, b) for every stakeholder k: (n, *shape of a and b)."""
    x = st.position.reshape(-1, *([1] * np.ndim(a)))
    w = st.weight.reshape(x.shape)
    r = np.broadcast_to(np.asarray(risk, dtype=float), st.position.shape).reshape(x.shape)
    return w * ((np.abs(x - b) / st.span) ** r - (np.abs(x - a) / st.span) ** r)


def weighted_mean(st: Stakeholders) -> float:
    w = st.weight
    return math.fsum(w * st.position) / math.fsum(w)


def weighted_median(st: Stakeholders) -> float:
    """The lowest position with at least half the capability-and-salience weight at or below it."""
    w = st.weight
    order = np.argsort(st.position, kind="stable")
    share = np.cumsum(w[order]) / math.fsum(w)
    return float(st.position[order][np.argmax(~exceeds(0.5, share))])


def pairwise_winner(st: Stakeholders) -> float:
    """The stakeholders' position that wins every pairwise vote (r = 1); if none does, the
    one with the largest total margin over the others (the lowest of those within TIE)."""
    candidates = np.unique(st.position)
    margin = votes(st, candidates[:, None], candidates[None, :]).sum(axis=0) / math.fsum(st.weight)
    np.fill_diagonal(margin, 0.0)  # (a, b): a's share of the vote over b
    beats_all = exceeds(margin, 0.0).sum(axis=1) == candidates.size - 1
    if beats_all.any():
        return float(candidates[np.argmax(beats_all)])
    total = margin.sum(axis=1)
    return float(candidates[np.argmax(~exceeds(total.max(), total))])


def probability(st: Stakeholders, all_pairs: bool = True) -> np.ndarray:
    """P[i, j]: chance that i prevails against j (0 on the diagonal)."""
    x = st.position
    v = votes(st, x[:, None], x[None, :])  # (k, i, j): k's vote for x_i over x_j
    support = np.maximum(v, 0.0).sum(axis=0)
    if all_pairs:
        total = np.abs(v).sum()
        p = support / total if total > 0 else np.zeros_like(support)
    else:
        total = np.abs(v).sum(axis=0)
        p = np.divide(support, total, out=np.zeros_like(support), where=total > 0)
    np.fill_diagonal(p, 0.0)
    return p


def expected_challenge(st: Stakeholders, prob: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """E[k, i, j]: the expected utility of i challenging j, as k perceives it (k's risk)."""
    d = np.abs(st.position[:, None] - st.position[None, :]) / st.span  # (i, j)
    r = risk[:, None, None]
    success = 2.0 - 4.0 * (0.5 - 0.5 * d[None]) ** r
    failure = 2.0 - 4.0 * (0.5 + 0.5 * d[None]) ** r
    status_quo = 2.0 - 4.0 * 0.5**r
    s_j = st.salience[None, None, :]
    p = prob[None]
    return s_j * (p * success + (1.0 - p) * failure) + (1.0 - s_j) * success - status_quo


def risk_exponents(st: Stakeholders, prob: np.ndarray) -> np.ndarray:
    """Each stakeholder's risk exponent from how dangerous the others find it."""
    n = st.position.size
    e = expected_challenge(st, prob, np.ones(n))[0]  # with r = 1 everyone perceives alike
    np.fill_diagonal(e, 0.0)
    danger = e.sum(axis=0)  # danger[i] = sum over j of E(j challenges i)
    spread = danger.max() - danger.min()
    if not exceeds(spread, 0.0):
        return np.ones(n)
    acceptance = (2.0 * danger - danger.max() - danger.min()) / spread
    return (1.0 - acceptance / 3.0) / (1.0 + acceptance / 3.0)


@dataclass(frozen=True)
class Move:
    kind: str | None  # confrontation, compromise, capitulation, or None (stays)
    towards: int | None  # the stakeholder whose offer it takes
    position: float


def best_moves(st: Stakeholders, prob: np.ndarray, risk: np.ndarray) -> list[Move]:
    """Each stakeholder's move this round, from the offers it receives (positions on the grid)."""
    e = expected_challenge(st, prob, risk)  # e[i] as i perceives
    x, at = st.position, st.steps(st.position)
    moves = []
    for i in range(x.size):
        offers: dict[str, list[tuple[int, float]]] = {CONFRONTATION: [], COMPROMISE: [], CAPITULATION: []}
        for j in range(x.size):
            if at[j] == at[i]:
                continue
            e_ij, e_ji = e[i, i, j], e[i, j, i]
            if exceeds(e_ji, e_ij) and exceeds(e_ij, 0.0):
                offers[CONFRONTATION].append((j, float(x[j])))
            elif exceeds(e_ji, 0.0) and exceeds(0.0, e_ij):
                if exceeds(e_ji, -e_ij):
                    offers[COMPROMISE].append((j, float(st.on_grid(x[i] + (x[j] - x[i]) * (-e_ij / e_ji)))))
                else:
                    offers[CAPITULATION].append((j, float(x[j])))
        for kind in (CONFRONTATION, COMPROMISE, CAPITULATION):
            if offers[kind]:
                j, pos = min(offers[kind], key=lambda o: (abs(st.steps(o[1]) - at[i]), o[0]))
                moves.append(Move(kind, j, float(pos)))
                break
        else:
            moves.append(Move(None, None, float(x[i])))
    return moves
