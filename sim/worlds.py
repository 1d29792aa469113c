"""Worlds: the value each uncertain belief takes in a run, drawn from the run's seed.

A scenario may give any belief a distribution beside its value and source (the fields
are checked in sim.scenario): ``uniform`` (low, high), ``triangular`` (low, mode = the
value, high), ``beta`` from a poll (the value is the share, ``n`` the sample size: the
share's posterior under a flat prior, Beta(n v + 1, n (1 - v) + 1)), ``normal`` (mean =
the value, ``sd``, truncated to low and high, which default to the field's range), or
``fixed`` (the value itself, the default).

A run draws its world before it plays: each belief takes the quantile ``u`` of its
distribution, where ``u`` is a uniform number addressed by the run's seed and the
belief's key path (sim.draws.quantiles). The entries of a list of option values share
one quantile, the list's: its level is uncertain, not the order of its options. So the same seed gives the same world whatever
else is drawn, in either engine; and two scenarios that share a belief draw the same
quantile of it in run k (common random numbers): where they give it the same
distribution they play the same world, and where they give it different ones they
differ by their distributions, not by the dice.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np
from numba import vectorize

from .draws import quantiles

KINDS = ("fixed", "uniform", "triangular", "beta", "normal")
TINY = 2.0**-54  # the smallest quantile drawn (sim.draws.quantiles: k + 1/2 in units of 2^-53)


@functools.lru_cache(maxsize=4096)
def path_key(path: str) -> int:
    """A belief's 64-bit key: a hash of its key path (the same on every machine and in
    every Python process, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=8).digest(), "little")


def quantiles_of(seeds: np.ndarray, paths: list[str]) -> np.ndarray:
    """(runs, beliefs): each run's quantile of each belief, in (0, 1)."""
    keys = np.array([path_key(p) for p in paths], dtype=np.uint64)
    return quantiles(seeds, keys)


def inverse_cdf(kind: str, u: np.ndarray, value, low=None, high=None, sd=None, n=None) -> np.ndarray:
    """The quantile ``u`` of a belief's distribution (parameters: scalars or arrays that
    broadcast with ``u``). ``low`` and ``high`` bound a normal (truncated) and are the
    ends of a uniform or triangular one."""
    u = np.clip(np.asarray(u, dtype=float), TINY, 1.0 - TINY)
    value = np.asarray(value, dtype=float)
    if kind == "fixed":
        return np.broadcast_to(value, u.shape).astype(float)
    if kind == "uniform":
        return np.clip(low + u * (np.asarray(high) - low), low, high)
    if kind == "triangular":
        return _triangular(u, np.asarray(low, float), value, np.asarray(high, float))  # (a ufunc: it broadcasts)
    if kind == "beta":
        from scipy.special import betaincinv  # imported where used: a fifth of a second

        n = np.asarray(n, dtype=float)
        return betaincinv(n * value + 1.0, n * (1.0 - value) + 1.0, u)
    if kind == "normal":
        return _truncated_normal(u, value, np.asarray(sd, float), np.asarray(low, float), np.asarray(high, float))
    raise ValueError(f"unknown distribution {kind!r}; allowed: {', '.join(KINDS)}")


@vectorize(["float64(float64, float64, float64, float64)"], cache=True)
def _triangular(u, low, mode, high):
    """The quantile u of a triangular distribution from low to high with its mode at
    ``mode`` (compiled, element by element: a chunk of runs draws dozens of these)."""
    width = high - low
    if not width > 0:
        return mode
    if u * width < mode - low:  # below the mode: u < F(mode) = (mode - low) / width
        x = low + math.sqrt(u * width * (mode - low))
    else:
        x = high - math.sqrt((1.0 - u) * width * (high - mode))
    return min(max(x, low), high)


def _truncated_normal(u, mean, sd, low, high):
    """Inversion on the side of the mean where the CDF has digits to spare: for a range
    above the mean the reflected CDF is used, so that tails far from the mean keep their
    precision."""
    from scipy.special import ndtr, ndtri

    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = (low - mean) / sd, (high - mean) / sd
        flip = a > 0  # the whole range above the mean
        lo, hi = np.where(flip, -b, a), np.where(flip, -a, b)
        uu = np.where(flip, 1.0 - u, u)
        z = ndtri(ndtr(lo) + uu * (ndtr(hi) - ndtr(lo)))
        x = mean + sd * np.where(flip, -z, z)
    x = np.where(sd > 0, x, mean)
    return np.clip(x, low, high)


def moments(kind: str, value: float, low=None, high=None, sd=None, n=None) -> tuple[float, float]:
    """Mean and variance of a distribution in closed form (tests and `dipsim check`)."""
    if kind == "fixed":
        return float(value), 0.0
    if kind == "uniform":
        return (low + high) / 2, (high - low) ** 2 / 12
    if kind == "triangular":
        mean = (low + value + high) / 3
        return mean, (low**2 + value**2 + high**2 - low * value - low * high - value * high) / 18
    if kind == "beta":
        a, b = n * value + 1.0, n * (1.0 - value) + 1.0
        return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    if kind == "normal":
        from scipy.stats import truncnorm

        dist = truncnorm((low - value) / sd, (high - value) / sd, loc=value, scale=sd)
        return float(dist.mean()), float(dist.var())
    raise ValueError(f"unknown distribution {kind!r}; allowed: {', '.join(KINDS)}")


def draw(
    numbers: list,
    seeds: np.ndarray,
    columns: dict[str, np.ndarray] | None = None,
    quantiles: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Each run's value of each uncertain number (sim.scenario.uncertain), by key path.

    ``columns`` (a sweep's values per run, by key path) may set a number's value, which
    then fixes it (it is not drawn), or its distribution's parameters (``...low``,
    ``...high.2``, ``...sd``, ``...n``), which then change run by run. ``quantiles`` (by
    quantile key: a belief's path, or a list's) gives some beliefs their quantile in each
    run instead of the seed's (the particles of a calibration's posterior)."""
    columns = columns or {}
    numbers = [x for x in numbers if x.path not in columns]
    if not numbers:
        return {}
    keys = list(dict.fromkeys(x.quantile_key for x in numbers))
    u = quantiles_of(seeds, keys)
    for j, key in enumerate(keys):
        if quantiles and key in quantiles:
            u[:, j] = quantiles[key]
    column = {k: j for j, k in enumerate(keys)}
    out = {}
    for x in numbers:
        j = column[x.quantile_key]
        get = _parameters(x.path, columns)
        low, high = get("low", x.low), get("high", x.high)
        out[x.path] = inverse_cdf(
            x.dist,
            u[:, j],
            x.value,
            low=np.minimum(low, x.value),
            high=np.maximum(high, x.value),
            sd=get("sd", x.sd),
            n=get("n", x.n),
        )
    return out


def _parameters(path: str, columns: dict[str, np.ndarray]):
    """A lookup of a number's distribution parameter in ``columns`` (by the key path
    ``--set`` would use), falling back to the file's."""
    if path.endswith(".value"):
        where = lambda name: f"{path[: -len('value')]}{name}"  # noqa: E731
    else:
        table, _, k = path.rpartition(".values.")
        where = lambda name: f"{table}.{name}.{k}" if name != "n" else f"{table}.n"  # noqa: E731
    return lambda name, default: columns.get(where(name), default)


def world_of(scenario, seed: int):
    """The scenario as the run with this seed plays it: every uncertain number fixed at the
    value the run drew (its source says so, and what the file's point was). Returns the
    scenario and the drawn values by key path; a scenario without uncertain beliefs comes
    back as it is."""
    from .scenario import DISTRIBUTION_KEYS, set_value, uncertain, validate

    numbers = uncertain(scenario)
    if not numbers:
        return scenario, {}
    drawn = {path: float(v[0]) for path, v in draw(numbers, np.array([seed], dtype=np.uint64)).items()}
    raw, origin = scenario.resolved(), dict[tuple, str]()
    for path, value in drawn.items():
        set_value(raw, origin, path.split("."), value, f"the world of the run with seed {seed}")

    def fixed(node):
        if isinstance(node, dict):
            if "dist" in node:
                for key in DISTRIBUTION_KEYS:
                    node.pop(key, None)
            for value in node.values():
                fixed(value)

    fixed(raw)
    return validate(raw, origin, f"<the world of seed {seed}>"), drawn
