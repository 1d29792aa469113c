"""A run's random numbers, addressed by (run seed, round, slot).

Each draw is the SplitMix64 output for its address (Steele, Lea and Flood 2014,
"Fast splittable pseudorandom number generators"): the run's 64-bit seed keys the
stream and ``round * SLOTS + slot`` counts along it. Nothing is carried from one
draw to the next, so a draw is the same whether one run is simulated or a million
at once, in any order: this is what lets every engine see the same numbers.

The mix is written once, compiled (numba), for one number; the array functions loop
over it. Run seeds themselves come from numpy's SeedSequence (see :func:`run_seeds`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import LEAN

SLOTS = 4
MOOD = (0, 1)  # one slot per public
RATIFY = (2, 3)  # one slot per public; in round 0, which no round plays, each country's institution's threshold
LAST_ROUND = 0  # in round 0 (before the talks), slot 0: the run's last round, where the deadline is uncertain
# A third party at the table and beyond draws its public's mood and vote in a stream of its
# own (:func:`party_draw`), so that the first two draw as they always have; the table's own
# draws under the majority rule (who is recognised, which of the best proposals is made)
# come from the stream of party TABLE.
TABLE = 1 << 20
RECOGNISE, PROPOSE = 0, 1
_PARTIES = np.uint64(0xD1B5_4A32_D192_ED03)

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = (np.uint64(n) for n in (30, 27, 31, 11))
_ONE = np.uint64(1)
_TO_UNIT = 2.0**-53


@njit(**LEAN)
def mix(z):
    """SplitMix64's finaliser: a bijective, well-avalanched 64-bit mix (wrapping arithmetic)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(**LEAN)
def at(key, counter):
    """The uniform number in [0, 1) at position ``counter`` of the stream keyed by ``key``."""
    z = mix(np.uint64(key) + (np.uint64(counter) + _ONE) * _GAMMA)
    return np.float64(z >> _S11) * _TO_UNIT


@njit(**LEAN)
def draw(seed, round_, slot):
    """A run's uniform draw in [0, 1) for the given round and slot."""
    return at(seed, np.uint64(round_ * SLOTS + slot))


@njit(**LEAN)
def party_draw(seed, round_, slots, k):
    """Party k's draw for the given round in its slot of ``slots`` (MOOD or RATIFY): the
    run's own stream for the first two parties; for party k >= 2, slot 0 of ``slots`` in a
    stream keyed by the run's seed and k."""
    if k < 2:
        return draw(seed, round_, slots[k])
    return at(mix(np.uint64(seed) ^ (np.uint64(k) * _PARTIES)), np.uint64(round_ * SLOTS + slots[0]))


@njit(**LEAN)
def table_draw(seed, round_, slot):
    """The table's draw for the given round and slot (RECOGNISE, PROPOSE) under the majority rule."""
    return at(mix(np.uint64(seed) ^ (np.uint64(TABLE) * _PARTIES)), np.uint64(round_ * SLOTS + slot))


@njit(cache=True, nogil=True)
def _uniform(seeds, round_, slot):
    out = np.empty(seeds.shape[0])
    for i in range(seeds.shape[0]):
        out[i] = draw(seeds[i], round_, slot)
    return out


@njit(cache=True, nogil=True)
def _stream(key, counters):
    out = np.empty(counters.shape[0])
    for i in range(counters.shape[0]):
        out[i] = at(key, counters[i])
    return out


@njit(cache=True, nogil=True)
def _seeds(k0, k1, points, replicates):
    out = np.empty(points.shape[0], np.uint64)
    for i in range(points.shape[0]):
        per_point = mix(k0 ^ mix(points[i] * _GAMMA + k1))
        out[i] = mix(per_point + (replicates[i] + _ONE) * _GAMMA)
    return out


@njit(cache=True, nogil=True)
def _party_uniform(seeds, round_, slots, k):
    out = np.empty(seeds.shape[0])
    for i in range(seeds.shape[0]):
        out[i] = party_draw(seeds[i], round_, slots, k)
    return out


def party_uniform(seeds: np.ndarray, round_: int, slots: tuple[int, int], k: int) -> np.ndarray:
    """Party k's draw (:func:`party_draw`) per run, for the given round in its slot of ``slots`` (MOOD or RATIFY)."""
    return _party_uniform(np.ascontiguousarray(seeds, dtype=np.uint64), int(round_), slots, int(k))


def uniform(seeds: np.ndarray, round_: int, slot: int) -> np.ndarray:
    """One uniform draw in [0, 1) per run, for the given round and slot."""
    return _uniform(np.ascontiguousarray(seeds, dtype=np.uint64), int(round_), int(slot))


def stream(key: int, counters: np.ndarray) -> np.ndarray:
    """Uniform draws in [0, 1) at the given positions of the stream keyed by ``key``."""
    return _stream(np.uint64(key), np.ascontiguousarray(counters, dtype=np.uint64))


def scenario_seed(root: int, name: str) -> int:
    """A root seed of a scenario's own, from a root seed and the scenario's name: scenarios
    compared without common random numbers draw independent worlds, moods and votes."""
    import hashlib

    salt = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
    return int(np.random.SeedSequence([int(root), salt]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def run_seeds(root: int, points: np.ndarray | int, replicates: np.ndarray | int) -> np.ndarray:
    """The seed of each run, a pure function of (root seed, point, replicate).

    numpy's SeedSequence turns the root seed into two 64-bit keys; the point and the
    replicate are then mixed in with SplitMix64's finaliser. (A SeedSequence per run
    would cost more than the negotiation itself.) Adding points or replicates to a
    design never changes the seeds of the others.
    """
    k0, k1 = (np.uint64(w) for w in np.random.SeedSequence(root).generate_state(2, np.uint64))
    points, replicates = np.broadcast_arrays(
        np.asarray(points, dtype=np.uint64), np.asarray(replicates, dtype=np.uint64)
    )
    shape = points.shape
    flat = _seeds(k0, k1, points.ravel().copy(), replicates.ravel().copy())  # writeable, contiguous
    return flat.reshape(shape)


_FORESIGHT = np.uint64(0x5F3C_9A1E_7B42_D615)  # keys the forward runs' seeds apart from the runs' own


@njit(cache=True, nogil=True)
def _forward_seeds(seeds, samples):
    out = np.empty((seeds.shape[0], samples), np.uint64)
    for i in range(seeds.shape[0]):
        key = mix(seeds[i] ^ _FORESIGHT)
        for s in range(samples):
            out[i, s] = mix(key + (np.uint64(s) + _ONE) * _GAMMA)
    return out


def forward_seeds(seeds: np.ndarray, samples: int) -> np.ndarray:
    """(runs, samples): the seeds of the forward runs an outside power plays before each
    run to choose its policy (sim.strategic), a pure function of the run's seed and the
    sample's number, the same for every option it weighs. They draw moods, votes and an
    uncertain last round of their own: the power does not foresee the run's."""
    return _forward_seeds(np.ascontiguousarray(seeds, dtype=np.uint64), int(samples))


@njit(cache=True, nogil=True)
def _quantiles(seeds, keys):
    out = np.empty((seeds.shape[0], keys.shape[0]))
    for i in range(seeds.shape[0]):
        for j in range(keys.shape[0]):
            z = mix(seeds[i] ^ keys[j])
            out[i, j] = (np.float64(z >> _S11) + 0.5) * _TO_UNIT
    return out


def quantiles(seeds: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """(runs, keys): a uniform number in (0, 1), never 0 or 1, for each run seed and key.
    Keyed apart from the rounds' draws (a key is a hash of a belief's key path, see
    sim.worlds), it is a pure function of the pair: the same in every run that shares the
    seed, whatever else is drawn."""
    return _quantiles(np.ascontiguousarray(seeds, dtype=np.uint64), np.ascontiguousarray(keys, dtype=np.uint64))
