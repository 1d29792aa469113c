"""A run's random numbers, addressed by (run seed, round, slot).

Each draw is the SplitMix64 output for its address (Steele, Lea and Flood 2014,
"Fast splittable pseudorandom number generators"): the run's 64-bit seed keys the
stream and ``round * SLOTS + slot`` counts along it. Nothing is carried from one
draw to the next, so a draw is the same whether one run is simulated or a million
at once, in any order: this is what lets every engine see the same numbers.

Run seeds themselves come from numpy's SeedSequence (see :func:`run_seeds`).
"""

from __future__ import annotations

import numpy as np

SLOTS = 4
MOOD = (0, 1)          # one slot per public
RATIFY = (2, 3)        # one slot per public

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(n) for n in (30, 27, 31, 11))
_TO_UNIT = 2.0**-53


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective, well-avalanched 64-bit mix."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _to_unit(z: np.ndarray) -> np.ndarray:
    return (z >> _S11).astype(np.float64) * _TO_UNIT


def uniform(seeds: np.ndarray, round_: int, slot: int) -> np.ndarray:
    """One uniform draw in [0, 1) per run, for the given round and slot."""
    counter = np.uint64(round_ * SLOTS + slot + 1)
    with np.errstate(over="ignore"):
        z = np.asarray(seeds, dtype=np.uint64) + counter * _GAMMA
    return _to_unit(_mix(z))


def stream(key: int, counters: np.ndarray) -> np.ndarray:
    """Uniform draws in [0, 1) at the given positions of the stream keyed by ``key``."""
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * _GAMMA
    return _to_unit(_mix(z))


def run_seeds(root: int, points: np.ndarray | int, replicates: np.ndarray | int) -> np.ndarray:
    """The seed of each run, a pure function of (root seed, point, replicate).

    numpy's SeedSequence turns the root seed into two 64-bit keys; the point and the
    replicate are then mixed in with SplitMix64's finaliser. (A SeedSequence per run
    would cost more than the negotiation itself.) Adding points or replicates to a
    design never changes the seeds of the others.
    """
    k0, k1 = (np.uint64(w) for w in np.random.SeedSequence(root).generate_state(2, np.uint64))
    points = np.asarray(points, dtype=np.uint64)
    replicates = np.asarray(replicates, dtype=np.uint64)
    with np.errstate(over="ignore"):
        per_point = _mix(k0 ^ _mix(points * _GAMMA + k1))
        return _mix(per_point + (replicates + np.uint64(1)) * _GAMMA)
