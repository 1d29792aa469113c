"""Designs: the parameter values of each point of a sweep, computed for any slice of
points without the others, so that a sweep of a million points never holds them all.

- grid: every combination of the levels, the last parameter varying fastest;
- random: independent uniform draws, point p's value for parameter d addressed by
  (sweep seed, d, p) as in sim.draws;
- latin: scipy's Latin hypercube (McKay, Beckman and Conover 1979), whole design at once;
- morris: Morris (1991) trajectories from SALib, whole design at once;
- sobol: Saltelli's scheme (Saltelli 2002) on scipy's scrambled Sobol' sequence, row for
  row the matrix of ``SALib.sample.sobol.sample`` (which builds it in a Python loop;
  here each row comes from its base row directly). SALib's analysers read the result.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from dipsim.analysis.experiments.sweep_spec import Sweep


class Design:
    def __init__(self, sweep: Sweep):
        self.sweep = sweep
        self.kind = sweep.spec.design.kind
        self.parameters = sweep.parameters
        self.seed = sweep.spec.seed

    @property
    def problem(self) -> dict:
        """SALib's problem definition for continuous designs."""
        return {
            "num_vars": len(self.parameters),
            "names": [p.key for p in self.parameters],
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def base_rows(self, points: np.ndarray) -> np.ndarray | None:
        """For a sobol design, the rows of the Sobol' sequence the points are made from
        (for :meth:`values`); None for other designs. The process that hands out chunks
        makes them, so that workers need not import scipy.stats (a second each)."""
        if self.kind != "sobol":
            return None
        first, last = self._base_span(np.asarray(points, dtype=np.int64))
        sobol = _sobol(2 * len(self.parameters), self.seed)
        sobol.reset()
        if first:
            sobol.fast_forward(first)
        with warnings.catch_warnings():
            # the full design has a power-of-2 number of base rows; a slice of it need not
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            return sobol.random(last - first + 1)

    def values(self, points: np.ndarray, base_rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Each parameter's value at the given points (numbers as floats, other levels as
        objects); ``base_rows`` from :meth:`base_rows` of the same points, if at hand."""
        points = np.asarray(points, dtype=np.int64)
        if self.kind == "grid":
            sizes = [len(p.levels) for p in self.parameters]
            digits = np.unravel_index(points, sizes)
            out = {}
            for p, d in zip(self.parameters, digits):
                levels = np.array(
                    p.levels,
                    dtype=(np.int64 if all(isinstance(v, int) for v in p.levels) else float) if p.numeric else object,
                )
                out[p.key] = levels[d]
            return out
        unit = self._unit(points, base_rows)
        out = {}
        for j, p in enumerate(self.parameters):
            value = p.low + unit[:, j] * (p.high - p.low)
            out[p.key] = np.rint(value) if p.whole else value  # whole-number settings are rounded
        return out

    def _unit(self, points: np.ndarray, base_rows: np.ndarray | None = None) -> np.ndarray:
        """Points in the unit hypercube, (len(points), parameters)."""
        k = len(self.parameters)
        if self.kind == "random":
            from dipsim.sim import draws  # compiled: imported where points are made, not where chunks are handed out

            keys = np.random.SeedSequence(self.seed, spawn_key=(7,)).generate_state(k, np.uint64)
            return np.stack([draws.stream(int(key), points) for key in keys], axis=1)
        if self.kind == "latin":
            return _latin(self.seed, self.sweep.spec.design.samples, k)[points]
        if self.kind == "morris":
            d = self.sweep.spec.design
            return _morris(self.seed, d.trajectories, d.levels, k)[points]
        return self._saltelli(points, self.base_rows(points) if base_rows is None else base_rows)

    @property
    def _per_base(self) -> int:
        k = len(self.parameters)
        return 2 * k + 2 if self.sweep.spec.design.second_order else k + 2

    def _base_span(self, points: np.ndarray) -> tuple[int, int]:
        base_row = points // self._per_base
        return int(base_row.min()), int(base_row.max())

    def _saltelli(self, points: np.ndarray, base: np.ndarray) -> np.ndarray:
        k = len(self.parameters)
        second = self.sweep.spec.design.second_order
        per_base = self._per_base
        base_row, within = np.divmod(points, per_base)
        first = self._base_span(points)[0]
        a, b = np.ascontiguousarray(base[:, :k]), np.ascontiguousarray(base[:, k:])
        block = base_row - first
        # row 0 of a block: A; rows 1..k: A with column j from B; rows k+1..2k (second
        # order): B with column j from A; the last row: B
        ba = (within > k) & (within < per_base - 1) if second else np.zeros(points.size, bool)
        from_b = (within == per_base - 1) | ba
        out = a[block]
        out[from_b] = b[block[from_b]]
        ab = np.flatnonzero((within >= 1) & (within <= k))
        out[ab, within[ab] - 1] = b[block[ab], within[ab] - 1]
        ba = np.flatnonzero(ba)
        out[ba, within[ba] - k - 1] = a[block[ba], within[ba] - k - 1]
        return out


@functools.lru_cache(maxsize=1)
def _latin(seed: int, samples: int, dims: int) -> np.ndarray:
    """The whole Latin hypercube, made once per process (every chunk reads rows of it)."""
    from scipy.stats import qmc  # imported here: scipy.stats takes a second to import

    cube = qmc.LatinHypercube(d=dims, rng=np.random.default_rng(seed)).random(samples)
    cube.setflags(write=False)
    return cube


@functools.lru_cache(maxsize=1)
def _morris(seed: int, trajectories: int, levels: int, dims: int) -> np.ndarray:
    """Morris (1991) elementary-effect trajectories in the unit cube, from SALib, made once
    per process; SALib.analyze.morris reads the results with these points."""
    from SALib.sample import morris

    problem = {"num_vars": dims, "names": [f"x{i}" for i in range(dims)], "bounds": [[0.0, 1.0]] * dims}
    cube = morris.sample(problem, trajectories, num_levels=levels, seed=seed)
    cube.setflags(write=False)
    return cube


@functools.lru_cache(maxsize=1)
def _sobol(dims: int, seed: int):
    """The scrambled Sobol' generator SALib uses for a seed (scipy names the argument
    `seed` in older releases and `rng` in newer ones; both mean the same here)."""
    from scipy.stats import qmc  # imported here: scipy.stats takes a second to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return qmc.Sobol(d=dims, scramble=True, seed=seed)
        except TypeError:
            return qmc.Sobol(d=dims, scramble=True, rng=seed)
