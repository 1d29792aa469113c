"""Calibration: the uncertain beliefs fitted to what history observed (ABC-SMC, pyabc).

A calibration spec (scenarios/calibration/) frees some of the beliefs the history steps
(scenarios/history/) give distributions. A free belief is a quantile ``u`` in (0, 1) of
its distribution, the same in every step: the world is at the same place within each
step's range (as in common random numbers, sim.worlds), and the prior on ``u`` is
uniform, which is the scenario's own distribution in every step. The beliefs left
uncertain but not freed are drawn per run, as in any run.

The data are the steps' observations ([history.observed]: whether the talks were held
or broke off, whether a package was signed, whether a treaty came, the most a party
offered). Given the free beliefs, a step's runs are independent, so the chance that a
run reproduces everything a step observed is estimated by the share of ``runs`` runs
that do, and the likelihood of the whole record by the product over steps. That
estimate is unbiased, so accepting a particle with probability equal to it gives
the exact posterior (a pseudo-marginal argument; Wilkinson 2013 for ABC). pyabc's
ABC-SMC with its stochastic acceptor does this, tempered: generation t accepts with
probability L^(1/T_t), over the spec's ``temperatures``, which end at 1.

Every particle is evaluated with numpy's global generator seeded from (seed,
generation, index), and a generation takes the first ``population`` particles accepted
in index order, so the posterior is the same for any number of workers, on Dask or
not, and a run resumed from the last generation it finished (the pyabc database in the
output folder) ends where an uninterrupted one does.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dipsim.sim import draws, protocol
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import MAX_PARTIES, Scenario, ScenarioError, Text, Uncertain

DATABASE = "abc.db"
POSTERIOR = "posterior.parquet"
GENERATIONS = "generations.csv"
BELIEFS = "beliefs.csv"
MANIFEST = "calibration.json"
SUSPENDED = (protocol.NO_ACCEPTABLE_PACKAGE, *(protocol.walked_away(k) for k in range(MAX_PARTIES)))
PARTICLE_KEY = "calibration.particle"  # the quantile that picks a run's particle (sim.draws)


class CalibrationSpec(BaseModel):
    """A calibration file (scenarios/calibration/*.toml)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(description="Short name: the output folder's.")
    title: Text = Field(description="One line on what is fitted.")
    description: str = Field("", description="What the calibration asks.")
    history: str | None = Field(
        None,
        description="The folder of history steps, relative to this file (default: the steps that ship with dipsim).",
    )
    until: Annotated[int, Field(ge=1800, le=2100)] | None = Field(
        None, description="Fit to the steps up to this year only (the later ones are held out: `backcast --blind`)."
    )
    free: Annotated[list[str], Field(min_length=1, max_length=32)] = Field(
        description=(
            "The beliefs fitted, by key path as `--set` writes it, without the trailing `.value` or `.values` (e.g. "
            "`parties.japan.utility.reservation`, `outside.usa.pressure.shift.territory`); each must have a "
            "distribution in at least one step."
        )
    )
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(1956, description="Root seed.")
    runs: Annotated[int, Field(ge=1, le=100_000)] = Field(
        100, description="Runs per step and particle: the likelihood is estimated from them."
    )
    population: Annotated[int, Field(ge=10, le=100_000)] = Field(200, description="Particles per generation.")
    temperatures: Annotated[list[Annotated[float, Field(ge=1.0, le=1e6)]], Field(min_length=1, max_length=50)] = Field(
        [1.0],
        description=(
            "The temperature of each generation, decreasing, ending at 1: generation t accepts a particle with "
            "probability L^(1/T_t), L the estimated likelihood; the last, at 1, gives the posterior. Default "
            "`[1.0]`: rejection from the prior, best when the record says little (`dipsim calibrate --reach`); "
            "a longer list, such as `[8.0, 4.0, 2.0, 1.0]`, when few particles would pass at once."
        ),
    )
    max_evaluations: Annotated[int, Field(ge=10, le=100_000_000)] | None = Field(
        None,
        description=(
            "The most particles a generation may try before the calibration stops with an error (default: 50 times "
            "`population`): a record the model reproduces at no belief tried would otherwise run for ever."
        ),
    )
    source: str = Field("", description="Why these beliefs, and where the settings come from.")

    @field_validator("temperatures")
    @classmethod
    def _decreasing_to_one(cls, values: list[float]) -> list[float]:
        if values[-1] != 1.0 or any(b > a for a, b in pairwise(values)):
            raise ValueError("a list that does not increase and ends at 1")
        return values


class CalibrationError(Exception):
    """A calibration that cannot go on (a record out of the model's reach, a folder that
    holds another calibration)."""


@dataclass
class Step:
    """One history step as the calibration plays it."""

    year: int
    scenario: Scenario
    numbers: list[Uncertain]
    observed: Any  # sim.scenario.Observed
    offered: tuple[int, int, int] | None  # (party, issue, option) indices


@dataclass
class Belief:
    """A free belief: its quantile key, a short name, and the numbers it moves."""

    key: str
    name: str
    numbers: dict[int, list[Uncertain]] = field(default_factory=dict)  # by step year


@dataclass
class Calibration:
    spec: CalibrationSpec
    path: Path
    steps: list[Step]
    held_out: list[Step]
    beliefs: list[Belief]

    def reference(self, belief: Belief) -> tuple[int, list[Uncertain]]:
        """The step whose range gives a free belief's values in the tables and plots: the
        last fitted step that gives it a distribution; its year and numbers."""
        year = max(s.year for s in self.steps if belief.numbers.get(s.year))
        return year, belief.numbers[year]


def load(path: str | Path) -> Calibration:
    """A calibration file by path or by the name of a shipped one; every problem is a
    ScenarioError naming the file and the key."""
    from dipsim.analysis.experiments.sweep_spec import read_spec

    path, spec = read_spec(path, CalibrationSpec, "calibration", "calibration")
    return prepare(spec, path)


def prepare(spec: CalibrationSpec, path: Path) -> Calibration:
    from dipsim.analysis.interpretation.backcast import load_history

    folder = None if spec.history is None else (path.parent / spec.history)
    if folder is not None and not folder.is_dir():
        raise ScenarioError(str(path), "history", f"found {spec.history!r}; allowed: a folder of history steps")
    everything = [_step(s) for s in load_history(folder)]
    for s in everything:
        if s.observed is None:
            raise ScenarioError(
                str(path), "history", f"the step of {s.year} observes nothing; allowed: steps with [history.observed]"
            )
    steps = [s for s in everything if spec.until is None or s.year <= spec.until]
    if not steps:
        raise ScenarioError(str(path), "until", f"found {spec.until}; allowed: a year at or after the first step's")
    held_out = [s for s in everything if s not in steps]
    beliefs = []
    known = list(dict.fromkeys(x.quantile_key for s in steps for x in s.numbers))
    for i, name in enumerate(spec.free):
        key = next((k for k in known if k in (name, f"{name}.value", f"{name}.values")), None)
        if key is None:
            raise ScenarioError(
                str(path),
                f"free.{i}",
                f"found {name!r}, which no fitted step gives a distribution; allowed: one of "
                + ", ".join(k.removesuffix(".values").removesuffix(".value") for k in known),
            )
        belief = Belief(key, name.removesuffix(".values").removesuffix(".value"))
        for s in everything:
            belief.numbers[s.year] = [x for x in s.numbers if x.quantile_key == key]
        beliefs.append(belief)
    if len({b.key for b in beliefs}) != len(beliefs):
        raise ScenarioError(str(path), "free", "a belief is named twice; allowed: each once")
    return Calibration(spec, path, steps, held_out, beliefs)


def _step(s: Scenario) -> Step:
    observed = s.history.observed
    offered = None
    if observed is not None and observed.offered is not None:
        o = observed.offered
        issues = list(s.issues)
        offered = (list(s.parties).index(o.party), issues.index(o.issue), s.issues[o.issue].options.index(o.most))
    return Step(s.history.year, s, scenario_mod.uncertain(s), observed, offered)


# --------------------------------------------------------------------------- runs against observations


def play(step: Step, seeds: np.ndarray, quantiles: dict[str, np.ndarray]):
    """A step's runs with the free beliefs at the given quantiles (one per run or one for all)."""
    from dipsim.sim.batch import simulate
    from dipsim.sim.preferences import Tables
    from dipsim.sim.worlds import draw

    n = seeds.shape[0]
    fixed = {k: np.broadcast_to(np.asarray(v, float), (n,)) for k, v in quantiles.items()}
    columns = draw(step.numbers, seeds, quantiles=fixed)
    tables = Tables.from_columns(step.scenario, columns, n) if columns else Tables.from_scenarios([step.scenario])
    outcomes, record = simulate(tables, seeds, rounds=step.offered is not None)
    return tables, outcomes, record


def observations(step: Step, tables, outcomes, record) -> dict[str, np.ndarray]:
    """Whether each run reproduces each thing the step observed, by observation."""
    o, n = step.observed, outcomes.seeds.shape[0]
    out: dict[str, np.ndarray] = {}
    if o.talks is not None:
        out["talks"] = np.isin(outcomes.reason, SUSPENDED) == (o.talks == "suspended")
    if o.signed is not None:
        out["signed"] = (outcomes.agreed >= 0) == o.signed
    if o.treaty is not None:
        out["treaty"] = outcomes.treaty == o.treaty
    if step.offered is not None:
        party, issue, option = step.offered
        offers = record[f"offer_{tables.party_ids[party]}"]
        made = offers >= 0
        most = np.zeros(n, np.int64)  # no offer: the issue's first option
        np.maximum.at(most, record["run"][made], tables.space.choice[offers[made], issue])
        out["offered"] = most == option
    return out


def matches(step: Step, seeds: np.ndarray, quantiles: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each run reproduces everything the step observed."""
    seen = observations(step, *play(step, seeds, quantiles))
    return np.logical_and.reduce(list(seen.values()))


def step_seeds(root: int, step: Step, runs: int) -> np.ndarray:
    return draws.run_seeds(root, step.year, np.arange(runs))


def log_likelihood(cal: Calibration, u: dict[str, float], root: int, steps: list[Step] | None = None) -> float:
    """The log of the estimated chance that runs reproduce each step's observations."""
    total = 0.0
    for step in cal.steps if steps is None else steps:
        share = float(matches(step, step_seeds(root, step, cal.spec.runs), u).mean())
        if share == 0.0:
            return -math.inf
        total += math.log(share)
    return total


# --------------------------------------------------------------------------- pyabc


class Model:
    """pyabc's model: a particle's free beliefs (by parameter name) to its log-likelihood
    estimate. The runs' root seed comes from numpy's global generator, which the sampler
    seeds for each particle."""

    def __init__(self, cal: Calibration):
        self.cal = cal

    def __call__(self, parameters) -> dict[str, float]:
        root = int(np.random.randint(0, 2**62))
        u = {b.key: float(parameters[f"b{i}"]) for i, b in enumerate(self.cal.beliefs)}
        return {"loglik": log_likelihood(self.cal, u, root)}


def _kernel_value(x, x_0, t, par) -> float:
    return float(x["loglik"])


def _evaluate(simulate_one, seed: int, t: int, indices: range) -> list:
    """Particles ``indices`` of generation ``t``, each from its own seed."""
    out = []
    for i in indices:
        np.random.seed(np.random.SeedSequence([seed, t + 1, i]).generate_state(4))
        out.append(simulate_one())
    return out


def _evaluate_pickled(payload: bytes, seed: int, t: int, indices: range) -> list:
    import cloudpickle

    return _evaluate(cloudpickle.loads(payload), seed, t, indices)


def _sampler_class():
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """pyabc sampler: particles evaluated in batches, each from a seed of its own
        (seed, generation, index), the first ``n`` accepted in index order kept; the
        batches go to this process, local worker processes or a Dask cluster."""

        def __init__(
            self,
            seed: int,
            workers: int,
            cap: int,
            client=None,
            on_particle: Callable[[bool], None] | None = None,
        ):
            super().__init__()
            self.seed, self.workers, self.cap, self.client, self.on_particle = seed, workers, cap, client, on_particle
            self.pool = None
            self.pickled: tuple[int, bytes] | None = None  # (generation, its particle maker pickled)
            self.scattered: tuple[int, Any] | None = None  # (generation, that on the Dask cluster)

        def _batches(self, simulate_one, t: int, start: int, size: int) -> list:
            pieces = [
                range(a, min(a + size // self.workers, start + size))
                for a in range(start, start + size, size // self.workers)
            ]
            if self.client is not None:
                if self.scattered is None or self.scattered[0] != t:  # once a generation, kept while it runs
                    self.scattered = (t, self.client.scatter(self._payload(simulate_one, t), broadcast=True))
                payload = self.scattered[1]
                futures = [self.client.submit(_evaluate_pickled, payload, self.seed, t, r, pure=False) for r in pieces]
                return [p for f in futures for p in f.result()]
            if self.workers > 1:
                payload = self._payload(simulate_one, t)
                futures = [self._pool().submit(_evaluate_pickled, payload, self.seed, t, r) for r in pieces]
                return [p for f in futures for p in f.result()]
            return _evaluate(simulate_one, self.seed, t, range(start, start + size))

        def _payload(self, simulate_one, t: int) -> bytes:
            """The generation's particle maker, pickled once for all its batches."""
            import cloudpickle

            if self.pickled is None or self.pickled[0] != t:
                self.pickled = (t, cloudpickle.dumps(simulate_one))
            return self.pickled[1]

        def _pool(self):
            if self.pool is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            return self.pool

        def close(self) -> None:
            if self.pool is not None:
                self.pool.shutdown()
                self.pool = None

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):
            sample = self._create_empty_sample()
            size = max(16 * self.workers, 32)
            start, evaluated = 0, 0
            while sample.n_accepted < n:
                if evaluated >= self.cap:
                    raise CalibrationError(
                        f"generation {t}: {sample.n_accepted} of {n} particles accepted in {evaluated} tries (the "
                        "spec's max_evaluations): the runs reproduce the record at almost none of the beliefs "
                        "tried. `dipsim calibrate --reach SPEC` shows which observations no run reproduces"
                    )
                for particle in self._batches(simulate_one, t, start, size):
                    sample.append(particle)
                    evaluated += 1
                    if self.on_particle:
                        self.on_particle(particle.accepted)
                    if sample.n_accepted >= n:
                        break
                start += size
            self.nr_evaluations_ = evaluated
            return sample

    return SeededSampler


@dataclass
class Result:
    folder: Path
    generations: pd.DataFrame
    beliefs: pd.DataFrame
    posterior: pd.DataFrame
    evaluations: int  # particles tried in every generation
    negotiations: int  # negotiations played by this call
    seconds: float
    resumed_from: int


def _abc(cal: Calibration, sampler):
    import pyabc
    from pyabc.acceptor import StochasticAcceptor, pdf_norm_from_kernel
    from pyabc.distance import SCALE_LOG, FunctionKernel

    quiet_pyabc()  # (pyabc sets its loggers' levels when imported)
    prior = pyabc.Distribution(**{f"b{i}": pyabc.RV("uniform", 0.0, 1.0) for i in range(len(cal.beliefs))})
    return pyabc.ABCSMC(
        Model(cal),
        prior,
        FunctionKernel(_kernel_value, ret_scale=SCALE_LOG, pdf_max=0.0),
        population_size=cal.spec.population,
        sampler=sampler,
        eps=pyabc.epsilon.ListTemperature(list(cal.spec.temperatures)),
        acceptor=StochasticAcceptor(pdf_norm_method=pdf_norm_from_kernel),
    )


def quiet_pyabc() -> None:
    for name in ("ABC", "pyabc", "Sampler", "Acceptor", "Epsilon", "Distance", "ABC.History", "ABC.Sampler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def calibrate(
    cal: Calibration,
    folder: Path,
    workers: int = 1,
    client=None,
    on_particle: Callable[[bool], None] | None = None,
) -> Result:
    """Run (or finish) the calibration with its pyabc database in ``folder``; returns
    the summaries, which the caller writes. A database holding finished generations is
    continued from the next one."""
    cap = cal.spec.max_evaluations or 50 * cal.spec.population
    sampler = _sampler_class()(cal.spec.seed, workers, cap, client, on_particle)
    abc = _abc(cal, sampler)
    db = f"sqlite:///{folder / DATABASE}"
    started = time.perf_counter()
    total = len(cal.spec.temperatures)
    done = 0
    try:
        if _stored_generations(folder) > 0:
            history = abc.load(db, 1)
            done = history.max_t + 1
        else:  # a new calibration, or one stopped before its first generation was stored
            (folder / DATABASE).unlink(missing_ok=True)
            abc.new(db, {"loglik": 0.0})
        if done < total:
            abc.run(max_nr_populations=total - done)
    finally:
        sampler.close()
    seconds = time.perf_counter() - started
    return summarise(cal, folder, seconds, done)


def _stored_generations(folder: Path) -> int:
    """How many generations the folder's database holds (0 without one)."""
    import sqlite3

    path = folder / DATABASE
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            (n,) = db.execute("select count(*) from populations where t >= 0").fetchone()
    except sqlite3.Error:
        return 0
    return int(n)


def generations_table(history, cal: Calibration) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].reset_index(drop=True)
    rows = []
    for _, p in pops.iterrows():
        t = int(p["t"])
        _, w = history.get_distribution(m=0, t=t)
        ess = float(1.0 / np.sum((w / w.sum()) ** 2))
        rows.append(
            {
                "generation": t,
                "temperature": float(cal.spec.temperatures[t]),
                "evaluations": int(p["samples"]),
                "acceptance_rate": cal.spec.population / float(p["samples"]),
                "effective_sample_size": ess,
            }
        )
    return pd.DataFrame(rows)


def posterior_frame(history, cal: Calibration, t: int | None = None) -> pd.DataFrame:
    """The last generation's particles: weight, each belief's quantile, and the values
    it gives the belief's numbers in its reference step (Calibration.reference)."""
    df, w = history.get_distribution(m=0, t=t)
    out = pd.DataFrame({"weight": np.asarray(w, float) / float(np.sum(w))})
    for i, b in enumerate(cal.beliefs):
        u = df[f"b{i}"].to_numpy(float)
        out[f"quantile:{b.key}"] = u
        for x in cal.reference(b)[1]:
            out[x.path] = value_at(x, u)
    return out.reset_index(drop=True)


def value_at(x: Uncertain, u: np.ndarray) -> np.ndarray:
    from dipsim.sim.worlds import inverse_cdf

    return inverse_cdf(x.dist, u, x.value, low=min(x.low, x.value), high=max(x.high, x.value), sd=x.sd, n=x.n)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: list[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    c = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return np.interp(q, c, v)


def beliefs_table(cal: Calibration, posterior: pd.DataFrame) -> pd.DataFrame:
    """Each free number, in its reference step: its prior's and posterior's mean and 90%
    range, and the share of the prior's 90% range the posterior's keeps."""
    w = posterior["weight"].to_numpy()
    grid = (np.arange(4000) + 0.5) / 4000  # the prior: the distribution itself, by its quantiles
    rows = []
    for b in cal.beliefs:
        u = posterior[f"quantile:{b.key}"].to_numpy()
        ulo, uhi = weighted_quantile(u, w, [0.05, 0.95])
        year, numbers = cal.reference(b)
        for x in numbers:
            v = posterior[x.path].to_numpy()
            prior = value_at(x, grid)
            plo, phi = np.quantile(prior, [0.05, 0.95])
            lo, hi = weighted_quantile(v, w, [0.05, 0.95])
            rows.append(
                {
                    "belief": b.name,
                    "number": x.path,
                    "step": year,
                    "prior_mean": float(prior.mean()),
                    "prior_p05": float(plo),
                    "prior_p95": float(phi),
                    "posterior_mean": float(np.sum(w * v)),
                    "posterior_p05": float(lo),
                    "posterior_p95": float(hi),
                    "quantile_mean": float(np.sum(w * u)),
                    "quantile_p05": float(ulo),
                    "quantile_p95": float(uhi),
                    "width_kept": float((hi - lo) / (phi - plo)) if phi > plo else float("nan"),
                }
            )
    return pd.DataFrame(rows)


def summarise(cal: Calibration, folder: Path, seconds: float, resumed_from: int) -> Result:
    import pyabc

    history = pyabc.History(f"sqlite:///{folder / DATABASE}")
    generations = generations_table(history, cal)
    posterior = posterior_frame(history, cal)
    beliefs = beliefs_table(cal, posterior)
    evaluations = int(history.total_nr_simulations)
    now = int(generations.loc[generations["generation"] >= resumed_from, "evaluations"].sum())
    negotiations = now * len(cal.steps) * cal.spec.runs  # played by this call (a resumed one: since resuming)
    return Result(folder, generations, beliefs, posterior, evaluations, negotiations, seconds, resumed_from)


# --------------------------------------------------------------------------- using a posterior


class Posterior:
    """A calibration's posterior, to run scenarios with: each run takes one particle,
    picked by weight with a quantile of the run's seed, and its free beliefs at that
    particle's quantiles."""

    def __init__(self, folder: Path):
        path = folder / POSTERIOR
        if not path.is_file():
            raise ScenarioError(
                str(folder), "--posterior", f"no {POSTERIOR} here; allowed: the --out folder of `dipsim calibrate`"
            )
        self.folder = folder
        frame = pd.read_parquet(path)
        self.keys = [c.removeprefix("quantile:") for c in frame.columns if c.startswith("quantile:")]
        self.u = frame[[f"quantile:{k}" for k in self.keys]].to_numpy(float)
        w = frame["weight"].to_numpy(float)
        self.cumulative = np.cumsum(w) / np.sum(w)

    def quantiles(self, seeds: np.ndarray) -> dict[str, np.ndarray]:
        from dipsim.sim.worlds import quantiles_of

        pick = np.searchsorted(self.cumulative, quantiles_of(seeds, [PARTICLE_KEY])[:, 0], side="right")
        rows = self.u[np.minimum(pick, len(self.u) - 1)]
        return {k: rows[:, j] for j, k in enumerate(self.keys)}

    def covers(self, scenario: Scenario) -> list[str]:
        """The free beliefs the scenario gives a distribution (the others it keeps fixed)."""
        present = {x.quantile_key for x in scenario_mod.uncertain(scenario)}
        return [k for k in self.keys if k in present]


# --------------------------------------------------------------------------- what the beliefs predict


def prior_sample(cal: Calibration, k: int, seed: int) -> np.ndarray:
    """(k, beliefs) quantiles drawn from the prior (uniform)."""
    return np.random.default_rng(np.random.SeedSequence([seed, 7])).uniform(size=(k, len(cal.beliefs)))


def posterior_sample(posterior: pd.DataFrame, cal: Calibration, k: int, seed: int) -> np.ndarray:
    """(k, beliefs) quantiles drawn from the posterior's particles by weight."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 8]))
    w = posterior["weight"].to_numpy(float)
    rows = rng.choice(len(w), size=k, p=w / w.sum())
    return posterior[[f"quantile:{b.key}" for b in cal.beliefs]].to_numpy(float)[rows]


def predictive(cal: Calibration, steps: list[Step], sample: np.ndarray, runs: int, seed: int) -> pd.DataFrame:
    """For each step and observation (and "all" of a step's together), the share of runs
    that reproduce it at each of the sampled beliefs: one row per (step, observation,
    draw)."""
    rows = []
    for d, u in enumerate(sample):
        quantiles = {b.key: float(u[i]) for i, b in enumerate(cal.beliefs)}
        for step in steps:
            seen = observations(
                step, *play(step, draws.run_seeds(seed, step.year * 1_000_000 + d, np.arange(runs)), quantiles)
            )
            seen["all"] = np.logical_and.reduce(list(seen.values()))
            for name, hits in seen.items():
                rows.append({"year": step.year, "observation": name, "draw": d, "share": float(hits.mean())})
    return pd.DataFrame(rows)


def predicted(table: pd.DataFrame) -> pd.DataFrame:
    """Each (step, observation): the chance a run reproduces it, averaged over the draws
    of beliefs, with the 5-95% range of the draws' chances."""
    g = table.groupby(["year", "observation"], sort=False)["share"]
    out = g.agg(
        probability="mean", p05=lambda x: float(np.quantile(x, 0.05)), p95=lambda x: float(np.quantile(x, 0.95))
    )
    return out.reset_index()


def scores(p: pd.DataFrame) -> pd.DataFrame:
    """Per step, from its :func:`predicted` chances: the log score of what was observed
    (the log of the predicted chance of everything the step observed) and the Brier score
    of its observations (the mean of (1 - p)^2 over them)."""
    rows = []
    for year, g in p.groupby("year", sort=False):
        every = float(g.loc[g["observation"] == "all", "probability"].iloc[0])
        each = g.loc[g["observation"] != "all", "probability"].to_numpy()
        rows.append(
            {
                "year": int(year),
                "log_score": math.log(every) if every > 0 else -math.inf,
                "brier": float(np.mean((1.0 - each) ** 2)),
            }
        )
    return pd.DataFrame(rows)


def reach(cal: Calibration, draws_: int = 50, runs: int = 100) -> pd.DataFrame:
    """How often runs reproduce each observation at beliefs drawn from the prior: an
    observation no run reproduces is out of the model's reach at these priors."""
    return predicted(
        predictive(cal, cal.steps + cal.held_out, prior_sample(cal, draws_, cal.spec.seed), runs, cal.spec.seed)
    )


# --------------------------------------------------------------------------- the folder


PREDICTIVE_DRAWS = 100  # beliefs drawn from the prior and from the posterior for the predictions


def spec_data(cal: Calibration) -> dict:
    return cal.spec.model_dump(mode="json", exclude_none=True)


def start_folder(cal: Calibration, folder: Path, resume: bool, force: bool) -> None:
    """Make the folder for a new calibration (replacing it with ``force``), or check that
    the one to resume holds this calibration."""
    import json
    import shutil

    from dipsim.analysis.experiments.output import OutputError, check_target

    stored = folder / "spec.json"
    if resume:
        if not stored.is_file():
            raise OutputError(f"{folder}: no calibration to resume here (no spec.json); run without --resume")
        if json.loads(stored.read_text()) != spec_data(cal):
            raise OutputError(
                f"{folder}: holds a calibration with other settings (spec.json); allowed with --resume: the same "
                "spec, unchanged; or --force to start again"
            )
        return
    check_target(folder, force)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    stored.write_text(json.dumps(spec_data(cal), indent=2) + "\n")


@dataclass
class Outputs:
    """What :func:`write_outputs` wrote besides the fit's own tables."""

    manifest: dict
    predicted: pd.DataFrame  # predicted.csv: prior and posterior chances of each observation
    scores: pd.DataFrame  # scores.csv
    prior: pd.DataFrame  # the prior's predicted chances (:func:`predicted`)
    posterior: pd.DataFrame  # the posterior's


def write_outputs(cal: Calibration, result: Result) -> Outputs:
    """Write the posterior, the tables and the predictions beside the database, and
    return what was written of the predictions (the manifest is calibration.json)."""
    import json

    from dipsim.analysis.experiments.environment import environment

    folder = result.folder
    _replace(folder / POSTERIOR, lambda p: result.posterior.to_parquet(p, index=False))
    _replace(folder / GENERATIONS, lambda p: result.generations.to_csv(p, index=False))
    _replace(folder / BELIEFS, lambda p: result.beliefs.to_csv(p, index=False))
    steps = cal.steps + cal.held_out
    k, runs = PREDICTIVE_DRAWS, cal.spec.runs
    prior = predicted(predictive(cal, steps, prior_sample(cal, k, cal.spec.seed), runs, cal.spec.seed))
    post = predicted(
        predictive(cal, steps, posterior_sample(result.posterior, cal, k, cal.spec.seed), runs, cal.spec.seed)
    )
    table = prior.merge(post, on=["year", "observation"], suffixes=("_prior", "_posterior"))
    table["fitted"] = table["year"].isin([s.year for s in cal.steps])
    _replace(folder / "predicted.csv", lambda p: table.to_csv(p, index=False))
    score = scores(prior).merge(scores(post), on="year", suffixes=("_prior", "_posterior"))
    score["fitted"] = score["year"].isin([s.year for s in cal.steps])
    _replace(folder / "scores.csv", lambda p: score.to_csv(p, index=False))
    manifest = {
        "spec": spec_data(cal),
        "file": str(cal.path),
        "fitted_years": [s.year for s in cal.steps],
        "held_out_years": [s.year for s in cal.held_out],
        "evaluations": result.evaluations,
        "negotiations": result.negotiations,
        "seconds": round(result.seconds, 3),
        "resumed_from_generation": result.resumed_from,
        "environment": environment(),
    }
    _replace(folder / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=2) + "\n"))
    return Outputs(manifest, table, score, prior, post)


def _replace(final: Path, write: Callable[[Path], object]) -> None:
    tmp = final.with_name(f".{final.name}.partial")
    write(tmp)
    tmp.replace(final)


def load_results(folder: Path) -> dict:
    """A finished calibration folder's tables, for the report and `backcast --blind`."""
    import json

    if not (folder / MANIFEST).is_file():
        raise ScenarioError(str(folder), "", "not a finished calibration folder (no calibration.json)")
    return {
        "manifest": json.loads((folder / MANIFEST).read_text()),
        "beliefs": pd.read_csv(folder / BELIEFS),
        "generations": pd.read_csv(folder / GENERATIONS),
        "predicted": pd.read_csv(folder / "predicted.csv"),
        "scores": pd.read_csv(folder / "scores.csv"),
    }


def beliefs_text(beliefs: pd.DataFrame) -> str:
    lines = [f"{'number':58s} {'prior mean (90%)':>24s}  {'posterior mean (90%)':>24s}  width kept"]
    for _, r in beliefs.iterrows():
        lines.append(
            f"{r['number']:58s} {r['prior_mean']:+.3f} ({r['prior_p05']:+.2f} {r['prior_p95']:+.2f})  "
            f"{r['posterior_mean']:+.3f} ({r['posterior_p05']:+.2f} {r['posterior_p95']:+.2f})  {r['width_kept']:6.2f}"
        )
    return "\n".join(lines)


def predicted_text(table: pd.DataFrame, fitted: bool | None = None) -> str:
    rows = table if fitted is None else table[table["fitted"] == fitted]
    lines = ["year  observation  prior p (5-95%)        posterior p (5-95%)"]
    for _, r in rows.iterrows():
        lines.append(
            f"{r['year']}  {r['observation']:11s}  {r['probability_prior']:.3f} ({r['p05_prior']:.2f}-{r['p95_prior']:.2f})"
            f"     {r['probability_posterior']:.3f} ({r['p05_posterior']:.2f}-{r['p95_posterior']:.2f})"
        )
    return "\n".join(lines)


def scores_text(score: pd.DataFrame, fitted: bool | None = None) -> str:
    rows = score if fitted is None else score[score["fitted"] == fitted]
    lines = ["year  log score prior  posterior   Brier prior  posterior"]
    for _, r in rows.iterrows():
        lines.append(
            f"{r['year']}  {r['log_score_prior']:15.3f}  {r['log_score_posterior']:9.3f}   "
            f"{r['brier_prior']:11.4f}  {r['brier_posterior']:9.4f}"
        )
    lines.append(
        f"sum   {rows['log_score_prior'].sum():15.3f}  {rows['log_score_posterior'].sum():9.3f}   "
        f"{rows['brier_prior'].mean():11.4f}  {rows['brier_posterior'].mean():9.4f}  (Brier: mean)"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- synthetic records


def synthetic(cal: Calibration, u: dict[str, float], seed: int) -> Calibration:
    """The calibration with each step's observations replaced by what one run of it does
    at the free beliefs ``u`` (a record the model itself wrote: simulation-based
    calibration draws ``u`` from the prior and checks that the posterior recovers it)."""
    from dipsim.sim.scenario import Observed, Offered

    def rewrite(step: Step, d: int) -> Step:
        seeds = draws.run_seeds(seed, d, np.arange(1))
        tables, outcomes, record = play(step, seeds, u)
        o = step.observed
        update: dict[str, Any] = {}
        if o.talks is not None:
            update["talks"] = "suspended" if bool(np.isin(outcomes.reason, SUSPENDED)[0]) else "held"
        if o.signed is not None:
            update["signed"] = bool(outcomes.agreed[0] >= 0)
        if o.treaty is not None:
            update["treaty"] = bool(outcomes.treaty[0])
        if step.offered is not None:
            party, issue, _ = step.offered
            offers = record[f"offer_{tables.party_ids[party]}"]
            made = offers[offers >= 0]
            most = int(tables.space.choice[made, issue].max()) if made.size else 0
            name = list(step.scenario.issues)[issue]
            option = step.scenario.issues[name].options[most]
            update["offered"] = Offered(party=o.offered.party, issue=name, most=option)
            step_offered: tuple[int, int, int] | None = (party, issue, most)
        else:
            step_offered = None
        observed = Observed(**{**o.model_dump(), **{k: v for k, v in update.items() if k != "offered"}}).model_copy(
            update={"offered": update.get("offered", o.offered)}
        )
        return Step(step.year, step.scenario, step.numbers, observed, step_offered)

    steps = [rewrite(s, i) for i, s in enumerate(cal.steps)]
    return Calibration(cal.spec, cal.path, steps, cal.held_out, cal.beliefs)
