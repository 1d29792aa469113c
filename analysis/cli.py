"""The `dipsim` command line: run, compare and check scenarios, sweep them, and
understand and show the results.

Results go to standard output: text, or with ``--json`` one JSON document
(analysis.presentation.documents) and nothing else. Notes and progress go to standard
error, a progress bar only where standard error is a terminal; ``--quiet`` silences them.
Bad input ends with one line, ``dipsim: error: ...``, exit status 2, and nothing written.
"""

from __future__ import annotations

import sys
import tomllib
import typing
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from dipsim import __version__
from dipsim.analysis.experiments.output import OutputError, check_target, check_writable, fresh_folder
from dipsim.analysis.experiments.sweep import SweepError
from dipsim.analysis.experiments.sweep_spec import DesignSpec, SweepSpec
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import ExpectedUtilityScenario, Scenario, ScenarioError

# The allowed values that live in the files, as the code that reads the files lists them.
DESIGNS = typing.get_args(DesignSpec.model_fields["kind"].annotation)
STRATEGY_KINDS = typing.get_args(scenario_mod.Strategy.model_fields["kind"].annotation)

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    help="dipsim: Russia, Japan and the USA negotiate over the southern Kurils (Mesa model).",
)


class Engine(StrEnum):
    """The engines of dipsim.sim.run.ENGINES."""

    batch = "batch"
    mesa = "mesa"


class Executor(StrEnum):
    local = "local"
    dask = "dask"


class Pool(StrEnum):
    """dipsim.analysis.experiments.sweep.POOLS."""

    auto = "auto"
    threads = "threads"
    processes = "processes"


ENGINE_HELP = (
    "batch: many runs at once, compiled (identical to the Mesa model run for run); mesa: the Mesa model itself"
)
SetOption = Annotated[
    list[str],
    typer.Option(
        "--set",
        help="Override a scenario field: key.path=value (repeatable), such as parties.japan.strategy.beta=3; "
        f"a strategy's kind is one of: {', '.join(STRATEGY_KINDS)}",
    ),
]
RunsOption = Annotated[
    int | None, typer.Option(min=1, max=10_000_000, help="Number of runs [default: the scenario's run.runs]")
]
SeedOption = Annotated[
    int | None, typer.Option(min=0, max=2**63 - 1, help="Root seed [default: the scenario's run.seed]")
]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the output folder if it exists")]
EngineOption = Annotated[Engine, typer.Option(help=ENGINE_HELP)]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress and no notes on standard error (results are still written and printed, errors still shown)",
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the results as one JSON document on standard output, "
        "and nothing else there (its shape: README, 'JSON output')",
    ),
]


def fail(message: str) -> None:
    typer.echo(f"dipsim: error: {message}", err=True)
    raise typer.Exit(code=2)


@contextmanager
def user_errors():
    """Bad input gets one clear message and exit status 2, never a traceback."""
    try:
        yield
    except (ScenarioError, OutputError, SweepError) as exc:
        fail(str(exc))


# --------------------------------------------------------------------------- notes and progress


class Rate(ProgressColumn):
    """Runs (or another unit) a second, once there is a rate to show."""

    def __init__(self, unit: str = "runs"):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else "", style="progress.data.speed")


@dataclass
class Bar:
    progress: Progress
    task: int

    def advance(self, k: int) -> None:
        self.progress.advance(self.task, k)

    def describe(self, text: str) -> None:
        self.progress.update(self.task, description=text)


class Voice:
    """What a command says besides its results, on standard error: notes, and progress
    where standard error is a terminal (elsewhere the note before the work says what it
    is); nothing at all with --quiet."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)

    @property
    def live(self) -> bool:
        return not self.quiet and self.console.is_terminal

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, markup=False)

    def compiling(self, *engines: str) -> None:
        """Say so when the compiled engine is not in numba's cache yet (its first use on
        this machine, or after its code changed)."""
        from dipsim.analysis.experiments.warmup import COMPILE_SECONDS, compiled

        if not self.quiet and any(compiled(e) is False for e in engines):
            self.note(
                f"compiling the engine once, about {COMPILE_SECONDS} (numba keeps it in its cache for later "
                "runs; `dipsim warmup` does this ahead of time)"
            )

    @contextmanager
    def progress(self, description: str, total: int, unit: str = "runs"):
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            Rate(unit),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.live,
        )
        with bar:
            yield Bar(bar, bar.add_task(description, total=total))

    @contextmanager
    def working(self, text: str):
        """A step of unknown length: a spinner with the time so far on a terminal, else
        the text as a note. Yields a function that names the current stage."""
        if not self.live:
            self.note(text)
            yield lambda stage: None
            return
        spinner = Progress(
            SpinnerColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
            console=self.console,
            transient=True,
            expand=True,
        )
        with spinner:
            task = spinner.add_task(text, total=None)
            yield lambda stage: spinner.update(task, description=f"{text}: {stage}")


# --------------------------------------------------------------------------- the files that ship


KINDS = {
    "": "standard",
    "expected_utility": "expected utility",
    "history": "history",
    "sweeps": "sweeps",
    "calibration": "calibration",
}
USED_BY = {
    "": "dipsim run, compare, check",
    "expected_utility": "dipsim run, check",
    "history": "dipsim backcast runs them in order; dipsim run, compare, check",
    "sweeps": "dipsim sweep",
    "calibration": "dipsim calibrate; dipsim backcast --blind",
}
WHERE = {"scenario": "scenarios/*.toml", "sweep": "scenarios/sweeps/*.toml"}
SCENARIO_FOLDERS = scenario_mod.SHIPPED_FOLDERS
BARGAINING_FOLDERS = ("", "history")


@dataclass(frozen=True)
class Shipped:
    folder: str
    argument: str  # what to type on the command line
    name: str  # the file's own name: its results folder
    title: str
    file: Path

    @property
    def kind(self) -> str:
        return KINDS[self.folder]


def shipped_files(folders: tuple[str, ...] = tuple(KINDS)) -> list[Shipped]:
    """The scenario and sweep files that ship with dipsim, with their names and titles."""
    out = []
    for folder, path in scenario_mod.catalog(folders):
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        searched = (folder,) if folder in ("sweeps", "calibration") else SCENARIO_FOLDERS
        found = scenario_mod.find_scenario(path.stem, searched)
        argument = path.stem if found.is_file() and found.samefile(path) else str(path)
        out.append(Shipped(folder, argument, raw.get("name", path.stem), raw.get("title", ""), path))
    return out


def completer(*folders: str):
    """Shell completion of a scenario or sweep argument: the shipped files' names, with
    their titles."""

    def complete(incomplete: str) -> list[tuple[str, str]]:
        return [(f.argument, f.title) for f in shipped_files(folders) if f.argument.startswith(incomplete)]

    return complete


def _keys(*models) -> set[str]:
    return set().union(*(m.model_fields for m in models))


SWEEP_ONLY = _keys(SweepSpec) - _keys(Scenario, ExpectedUtilityScenario)
SCENARIO_ONLY = _keys(Scenario, ExpectedUtilityScenario) - _keys(SweepSpec) | {"base"}


def expect(argument: str, wanted: str, command: str) -> None:
    """Stop, saying so, when a scenario file is given where a sweep file is expected or
    the reverse (told apart by their top-level keys)."""
    path = Path(argument)
    if not path.is_file():
        lookups = [SCENARIO_FOLDERS, ("sweeps",)]
        for folders in lookups if wanted == "scenario" else lookups[::-1]:
            path = scenario_mod.find_scenario(argument, folders)
            if path.is_file():
                break
        else:
            return
    try:
        keys = set(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the loader says what is wrong with it
    kind = (
        "sweep"
        if keys & SWEEP_ONLY and not keys & SCENARIO_ONLY
        else "scenario"
        if keys & SCENARIO_ONLY and not keys & SWEEP_ONLY
        else None
    )
    if kind and kind != wanted:
        fail(
            f"{argument} is a {kind} file; dipsim {command} takes a {wanted} file ({WHERE[wanted]}, or a name "
            "`dipsim scenarios` lists)"
        )


def scenario_argument(folders: tuple[str, ...], text: str = "A scenario file, or a name `dipsim scenarios` lists"):
    return typer.Argument(help=text, autocompletion=completer(*folders))


# --------------------------------------------------------------------------- commands


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dipsim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print dipsim's version and exit")
    ] = False,
) -> None:
    pass


def _load(name: str, overrides: list[str]):
    return scenario_mod.load(name, overrides)


def _simulate_all(scenarios, engine: str, say: Voice, folders: list[Path], posterior=None):
    """Play each scenario and write its tables into its folder."""
    from dipsim.analysis.experiments.jobs import simulate_scenario

    say.compiling(engine)
    results = []
    with say.progress("negotiations", sum(s.run.runs for s in scenarios)) as bar:
        for s, folder in zip(scenarios, folders):
            bar.describe(s.name)
            results.append(simulate_scenario(s, folder, engine=engine, progress=bar.advance, posterior=posterior))
    return results


PosteriorOption = Annotated[
    Path | None,
    typer.Option(
        help="A `dipsim calibrate` folder: each run takes the fitted beliefs of one particle of its posterior "
        "(picked by weight from the run's seed) in place of their prior draws"
    ),
]


def _posterior(folder: Path | None, scenarios, say: Voice):
    """The posterior of a calibration folder, and a note of what it fixes in each scenario."""
    if folder is None:
        return None
    from dipsim.analysis.interpretation.calibration import Posterior

    posterior = Posterior(folder)
    for s in scenarios:
        covered = posterior.covers(s)
        say.note(
            f"{s.name}: {len(covered)} of the {len(posterior.keys)} fitted beliefs from {folder}"
            + ("" if len(covered) == len(posterior.keys) else " (the others are fixed in this scenario)")
        )
    return posterior


@app.command()
def run(
    scenario: Annotated[str, scenario_argument(SCENARIO_FOLDERS)],
    runs: RunsOption = None,
    seed: SeedOption = None,
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/NAME]")] = None,
    set_: SetOption = [],
    force: ForceOption = False,
    engine: EngineOption = Engine.batch,
    posterior: PosteriorOption = None,
    quiet: QuietOption = False,
    json: JsonOption = False,
):
    """Simulate one scenario: print a summary; write runs.parquet, rounds.parquet,
    scenario.toml (fully resolved) and plots."""
    from dipsim.analysis.experiments.jobs import with_run_settings
    from dipsim.analysis.experiments.summary import summary_text
    from dipsim.analysis.presentation.documents import bargaining_entry, document, dumps
    from dipsim.analysis.presentation.figures import scenario_plots

    say = Voice(quiet)
    with user_errors():
        expect(scenario, "scenario", "run")
        loaded = _load(scenario, set_)
        if isinstance(loaded, ExpectedUtilityScenario):
            return _run_expected_utility(loaded, out, force, say, json)
        spec = with_run_settings(loaded, runs, seed)
        target = out or Path("results") / spec.name
        check_target(target, force)
        say.note(f"engine: {engine.value}; {spec.run.runs} runs of {spec.name} from seed {spec.run.seed}")
        fitted = _posterior(posterior, [spec], say)
        with fresh_folder(target, force) as tmp:
            (result,) = _simulate_all([spec], engine.value, say, [tmp], fitted)
            scenario_plots(result, tmp)
        labels = dict(result.tables.labels)
        if json:
            typer.echo(
                dumps(
                    document(
                        "run",
                        engine=engine.value,
                        out=target,
                        scenarios=[bargaining_entry(spec, result.summary(), labels)],
                    )
                )
            )
            return
        typer.echo(summary_text(spec.title, result.summary(), labels))
        typer.echo(
            f"written: {target}/ (runs.parquet, rounds.parquet, scenario.toml; plots: offers, actions, terms, "
            "reasons, outcome_space, as PNG and SVG)"
        )


def _run_expected_utility(spec, out: Path | None, force: bool, say: Voice, json: bool) -> None:
    from dipsim.analysis.experiments.jobs import (
        expected_utility_text,
        run_expected_utility,
        write_expected_utility_tables,
    )
    from dipsim.analysis.presentation.documents import document, dumps, expected_utility_entry
    from dipsim.analysis.presentation.figures import expected_utility_plots

    target = out or Path("results") / spec.name
    check_target(target, force)
    say.note(f"model: Bueno de Mesquita's expected utility model (Mesa), {spec.settings.rounds} rounds")
    table = run_expected_utility(spec)
    with fresh_folder(target, force) as tmp:
        write_expected_utility_tables(spec, table, tmp)
        expected_utility_plots(spec, table, tmp)
    if json:
        typer.echo(dumps(document("run", engine="mesa", out=target, scenarios=[expected_utility_entry(spec, table)])))
        return
    typer.echo(expected_utility_text(spec, table))
    typer.echo(f"written: {target}/ (rounds.parquet, rounds.csv, scenario.toml, positions.png)")


@app.command()
def compare(
    scenarios: Annotated[
        list[str], scenario_argument(BARGAINING_FOLDERS, "Scenario files, or names `dipsim scenarios` lists")
    ],
    runs: RunsOption = None,
    seed: SeedOption = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("results/compare"),
    set_: SetOption = [],
    force: ForceOption = False,
    engine: EngineOption = Engine.batch,
    posterior: PosteriorOption = None,
    quiet: QuietOption = False,
    json: JsonOption = False,
    crn: Annotated[
        bool,
        typer.Option(
            "--crn/--no-crn",
            help=(
                "Common random numbers: run k of every scenario draws the same quantiles of the beliefs the scenarios "
                "share, and the same moods and votes, so that the differences are the scenarios' and not the dice's. "
                "--no-crn gives each scenario seeds of its own (from the root seed and its name)"
            ),
        ),
    ] = True,
):
    """Simulate several scenarios and plot them side by side (same seeds for all unless
    their files say otherwise, or --no-crn)."""
    from dipsim.analysis.experiments.jobs import with_run_settings, write_comparison_table
    from dipsim.analysis.experiments.summary import summary_text
    from dipsim.analysis.presentation.documents import bargaining_entry, document, dumps
    from dipsim.analysis.presentation.figures import comparison_plots, scenario_plots
    from dipsim.sim import draws

    say = Voice(quiet)
    with user_errors():
        for name in scenarios:
            expect(name, "scenario", "compare")
        loaded = [_load(name, set_) for name in scenarios]
        for name, spec in zip(scenarios, loaded):
            if isinstance(spec, ExpectedUtilityScenario):
                fail(
                    f"{name}: an expected utility scenario; allowed in compare: bargaining scenarios (run it with dipsim run)"
                )
        specs = [with_run_settings(spec, runs, seed) for spec in loaded]
        if not crn:
            specs = [with_run_settings(s, None, draws.scenario_seed(s.run.seed, s.name)) for s in specs]
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            fail(f"scenario name {dup!r} given twice; allowed: each scenario once (names come from the files' 'name')")
        shape = (specs[0].party_ids, {k: v.options for k, v in specs[0].issues.items()})
        for s, name in zip(specs[1:], scenarios[1:]):
            if (s.party_ids, {k: v.options for k, v in s.issues.items()}) != shape:
                fail(
                    f"{name}: parties or issues differ from {scenarios[0]}'s; allowed: scenarios with the same parties and issues"
                )
        check_target(out, force)
        say.note(f"engine: {engine.value}; {len(specs)} scenarios")
        fitted = _posterior(posterior, specs, say)
        with fresh_folder(out, force) as tmp:
            results = _simulate_all(specs, engine.value, say, [tmp / s.name for s in specs], fitted)
            for r in results:
                scenario_plots(r, tmp / r.scenario.name)
            write_comparison_table(results, tmp)
            comparison_plots(results, tmp)
        if json:
            entries = [bargaining_entry(r.scenario, r.summary(), dict(r.tables.labels)) for r in results]
            typer.echo(dumps(document("compare", engine=engine.value, out=out, scenarios=entries)))
            return
        for r in results:
            typer.echo(summary_text(r.scenario.title, r.summary(), dict(r.tables.labels)))
            typer.echo("")
        typer.echo(
            f"written: {out}/ (summary.csv, treaty_probability.png, terms_*.png, utilities.png, and a folder per scenario)"
        )


@app.command()
def check(
    scenario: Annotated[str, scenario_argument(SCENARIO_FOLDERS)],
    set_: SetOption = [],
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the resolved scenario, every belief with its source, and the sources, as one JSON document",
        ),
    ] = False,
):
    """Validate a scenario and print its resolved preferences with their sources."""
    from dipsim.analysis.presentation.describe import describe
    from dipsim.analysis.presentation.documents import check_document, dumps

    with user_errors():
        expect(scenario, "scenario", "check")
        spec = _load(scenario, set_)
        typer.echo(dumps(check_document(spec, scenario_mod.find_scenario(scenario))) if json else describe(spec))


@app.command(
    help=f"""Run a parameter sweep with the batch engine: results stream to OUT/runs/ as
Parquet parts beside OUT/manifest.json; an interrupted sweep resumes with --resume.

The sweep file's design.kind is one of: {", ".join(DESIGNS)}."""
)
def sweep(
    spec: Annotated[
        str,
        typer.Argument(
            help="A sweep file (scenarios/sweeps/*.toml), or a name `dipsim scenarios` lists",
            autocompletion=completer("sweeps"),
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/sweeps/NAME]")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=1024,
            help="Parallel workers. local: threads of this process or "
            "worker processes, see --pool (1: this process alone); dask without "
            "--scheduler: the local cluster's worker processes",
        ),
    ] = 1,
    pool: Annotated[
        Pool,
        typer.Option(
            help="Local workers: threads, processes, or auto: threads unless processes are "
            "predicted to finish sooner (many cores and a large sweep)"
        ),
    ] = Pool.auto,
    executor: Annotated[Executor, typer.Option(help="local: this machine; dask: a Dask cluster")] = Executor.local,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: start a local cluster)")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted sweep in --out")] = False,
    force: ForceOption = False,
    quiet: QuietOption = False,
):
    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.summary import wilson
    from dipsim.analysis.experiments.sweep import run_sweep

    say = Voice(quiet)
    with user_errors():
        if scheduler and executor != Executor.dask:
            fail("--scheduler: allowed only with --executor dask")
        if resume and force:
            fail("--resume and --force: allowed: one of them")
        expect(spec, "sweep", "sweep")
        plan = sweep_spec.load(spec)
        target = out or Path("results") / "sweeps" / plan.spec.name
        if not resume:
            check_writable(target)
        where = f"{executor.value}, {workers} worker{'s' if workers > 1 else ''}" + (
            f" at {scheduler}" if scheduler else ""
        )
        say.note(
            f"engine: batch; {plan.runs} runs ({plan.points} points x {plan.spec.replications} replications, "
            f"{plan.spec.design.kind} design over {len(plan.parameters)} parameters) on {where}"
        )
        say.compiling("batch")
        try:
            with say.progress(plan.spec.name, plan.runs) as bar:
                result = run_sweep(
                    plan, target, workers, executor.value, scheduler, resume, force, pool.value, progress=bar.advance
                )
        except KeyboardInterrupt:
            typer.echo(
                f"dipsim: interrupted; the parts written are whole: run the same command with --resume to finish {target}",
                err=True,
            )
            raise typer.Exit(code=130) from None
        lo, hi = wilson(result.treaties, result.runs - result.failures)
        ok = result.runs - result.failures
        if result.played == 0:
            typer.echo(f"{plan.spec.title}: {result.runs} runs, all already done ({result.chunks_skipped} chunks)")
        else:
            done_before = f"; {result.runs - result.played} runs already done" if result.chunks_skipped else ""
            typer.echo(
                f"{plan.spec.title}: {result.played} runs in {result.seconds:.1f} s on {result.played_on} "
                f"({result.played / max(result.seconds, 1e-9):,.0f} runs/s{done_before})"
            )
        typer.echo(f"  treaty rate      {result.treaties / max(ok, 1):.3f}  (95% CI {lo:.3f} to {hi:.3f})")
        typer.echo(f"  failed runs      {result.failures}" + ("  (see the 'error' column)" if result.failures else ""))
        typer.echo(f"written: {target}/ (manifest.json, runs/part-*.parquet); plots: dipsim plot {target}")


def _need_pyabc() -> None:
    try:
        import pyabc  # noqa: F401
    except ImportError:
        fail("calibration needs pyabc, which is not installed: pip install -e '.[calibrate]'")


@app.command()
def calibrate(
    spec: Annotated[
        str,
        typer.Argument(
            help="A calibration file (scenarios/calibration/*.toml), or a name `dipsim scenarios` lists",
            autocompletion=completer("calibration"),
        ),
    ],
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/calibration/NAME]")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=1024, help="Worker processes (1: this process); with --executor dask, the local cluster's"
        ),
    ] = 1,
    executor: Annotated[Executor, typer.Option(help="local: this machine; dask: a Dask cluster")] = Executor.local,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: start a local cluster)")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish an interrupted calibration in --out from its last generation")
    ] = False,
    reach: Annotated[
        bool,
        typer.Option(
            "--reach",
            help="Fit nothing: print how often runs reproduce each observation at beliefs drawn from the prior",
        ),
    ] = False,
    force: ForceOption = False,
    quiet: QuietOption = False,
):
    """Fit the uncertain beliefs a calibration file frees to what the history steps
    observed (ABC-SMC): write the posterior, its tables and plots, and what prior and
    posterior predict for each step, fitted or held out."""
    from dipsim.analysis.interpretation import calibration as calib

    say = Voice(quiet)
    with user_errors():
        _need_pyabc()
        if scheduler and executor != Executor.dask:
            fail("--scheduler: allowed only with --executor dask")
        if resume and force:
            fail("--resume and --force: allowed: one of them")
        cal = calib.load(spec)
        if reach:
            say.compiling("batch")
            with say.working("running 50 draws of the prior's beliefs, 100 runs a step"):
                table = calib.reach(cal)
            typer.echo("year  observation  share of runs reproducing it (mean, 5-95% over the prior's beliefs)")
            for _, r in table.iterrows():
                typer.echo(
                    f"{r['year']}  {r['observation']:11s}  {r['probability']:.3f} ({r['p05']:.2f}-{r['p95']:.2f})"
                )
            return
        target = out or Path("results") / "calibration" / cal.spec.name
        result, written = _run_calibration(cal, target, workers, executor, scheduler, resume, force, say)
        typer.echo(calib.beliefs_text(result.beliefs))
        typer.echo("")
        typer.echo(calib.predicted_text(written.predicted))
        typer.echo("")
        typer.echo(calib.scores_text(written.scores))
        typer.echo(
            f"written: {target}/ (posterior.parquet, beliefs.csv, generations.csv, predicted.csv, scores.csv, "
            f"calibration.json, abc.db; plots: posterior, pairs, generations, predicted)"
        )


def _run_calibration(cal, target: Path, workers: int, executor, scheduler, resume: bool, force: bool, say: Voice):
    """Calibrate into ``target`` (new, or resumed), write its tables and plots, and say
    what it played; the result."""
    from dipsim.analysis.interpretation import calibration as calib
    from dipsim.analysis.presentation.calibration_plots import calibration_plots

    if not resume:
        check_writable(target)
    calib.start_folder(cal, target, resume, force)
    s = cal.spec
    say.note(
        f"engine: batch; {len(s.free)} free beliefs, {len(cal.steps)} steps "
        f"({', '.join(str(x.year) for x in cal.steps)}), {s.runs} runs a step per particle, "
        f"{s.population} particles x {len(s.temperatures)} generations, on "
        + (
            f"a Dask cluster{' at ' + scheduler if scheduler else ''}"
            if executor == Executor.dask
            else f"{workers} worker(s)"
        )
    )
    say.compiling("batch")
    cluster = None
    if executor == Executor.dask:
        from dipsim.analysis.experiments.sweep import _connect

        cluster = _connect(scheduler, workers)
    try:
        with say.progress("particles accepted", s.population * len(s.temperatures), "particles") as bar:

            def accepted(ok: bool) -> None:
                if ok:
                    bar.advance(1)

            result = calib.calibrate(
                cal, target, workers=workers, client=cluster.client if cluster else None, on_particle=accepted
            )
    except KeyboardInterrupt:
        typer.echo(
            f"dipsim: interrupted; the generations finished are kept: run the same command with --resume to finish {target}",
            err=True,
        )
        raise typer.Exit(code=130) from None
    except calib.CalibrationError as exc:
        typer.echo(f"dipsim: calibration stopped: {exc}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        if cluster is not None:
            cluster.close()
    with say.working("predicting each observation from the prior and the posterior"):
        written = calib.write_outputs(cal, result)
        calibration_plots(cal, result, written.prior, written.posterior, target)
    done = f"; generations before {result.resumed_from} were already done" if result.resumed_from else ""
    typer.echo(
        f"{s.title}: {result.evaluations} particles tried; {result.negotiations:,} negotiations in "
        f"{result.seconds:.1f} s ({result.negotiations / max(result.seconds, 1e-9):,.0f} a second{done})"
    )
    return result, written


@app.command()
def plot(
    folder: Annotated[Path, typer.Argument(help="A sweep folder (or a run folder)")],
    pair: Annotated[list[str], typer.Option(help="Two swept keys for a heat map, as KEY_X,KEY_Y (repeatable)")] = [],
):
    """Plot a sweep: treaty probability over two swept parameters (heat maps) and a
    response curve with its confidence band for each swept parameter."""
    from dipsim.analysis.presentation.sweep_plots import plot_sweep

    with user_errors():
        written = plot_sweep(folder, [tuple(p.split(",", 1)) for p in pair])
        typer.echo("written: " + ", ".join(str(p) for p in written))


@app.command()
def analyze(
    folder: Annotated[Path, typer.Argument(help="A sweep folder")],
    cutoff: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Chance of a treaty at which a point counts as 'treaty likely' for PRIM [default: the design's 90th percentile]",
        ),
    ] = None,
    quiet: QuietOption = False,
):
    """Which assumptions decide the outcome: Sobol indices (Sobol sweeps) or Morris
    screening (Morris sweeps) of the chance of a treaty and each actor's utility, and
    PRIM scenario discovery of where a treaty is likely. Writes tables and plots into
    the sweep folder."""
    from dipsim.analysis.experiments.sweep import load_manifest
    from dipsim.analysis.presentation.sweep_plots import write_analysis

    with user_errors():
        load_manifest(folder)  # a folder that is not a sweep's is told before the work starts
        with Voice(quiet).working(f"analysing {folder}: sensitivity indices, PRIM scenario discovery, plots"):
            text = write_analysis(folder, cutoff)
    typer.echo(text)


@app.command()
def report(
    folder: Annotated[Path, typer.Argument(help="A results folder: dipsim run, compare, sweep or backcast")],
    quiet: QuietOption = False,
):
    """Write FOLDER/report.html: one self-contained page with the scenario or sweep, the
    preferences and their sources, the summary tables, every plot, and for sweeps the
    sensitivity and scenario-discovery results."""
    from dipsim.analysis.presentation.report import results_kind, write_report

    with user_errors():
        results_kind(folder)  # a folder that is not a results folder is told before the work starts
        with Voice(quiet).working(f"writing {folder}/report.html") as stage:
            written = write_report(folder, stage)
    typer.echo(f"written: {written}")


@app.command()
def explain(
    folder: Annotated[Path, typer.Argument(help="A `dipsim run` folder")],
    run: Annotated[int, typer.Option("--run", help="Which run (its number in runs.parquet)")] = 0,
    quiet: QuietOption = False,
):
    """Tell one run's story: the offers, the USA's moves, the votes, why it ended; and,
    where there was no treaty, the smallest change to one belief that gives one."""
    from dipsim.analysis.interpretation.explain import explain as tell
    from dipsim.analysis.interpretation.explain import load_run

    say = Voice(quiet)
    with user_errors():
        load_run(folder, run)  # a wrong folder or run number is told before the work starts
        say.compiling("mesa", "batch")
        with say.working(
            f"replaying run {run} of {folder} in the Mesa model; without a treaty, replaying it with "
            "each belief moved to find the smallest change that gives one"
        ):
            text = tell(folder, run)
    typer.echo(text)


@app.command()
def backcast(
    runs: Annotated[int, typer.Option(min=10, max=1_000_000, help="Runs per historical scenario")] = 20_000,
    seed: SeedOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: results/backcast, with --blind results/backcast_blind]")
    ] = None,
    blind: Annotated[
        bool,
        typer.Option(
            "--blind",
            help="Calibrate on the early steps only (--calibration) and score what prior and posterior predict for "
            "the steps held out",
        ),
    ] = False,
    calibration: Annotated[
        str, typer.Option(help="With --blind: the calibration file, which must hold steps out (`until`)")
    ] = "blind",
    workers: Annotated[int, typer.Option(min=1, max=1024, help="With --blind: worker processes")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="With --blind: finish an interrupted calibration")] = False,
    force: ForceOption = False,
    quiet: QuietOption = False,
    json: JsonOption = False,
):
    """Run the historical scenarios (scenarios/history/) in order and compare the direction
    the model takes at each step with the direction history took; with --blind, fit the
    beliefs to the early steps and predict the later ones."""
    from dipsim.analysis.experiments.environment import write_environment
    from dipsim.analysis.interpretation.backcast import backcast as run_backcast
    from dipsim.analysis.interpretation.backcast import backcast_text, load_history
    from dipsim.analysis.presentation.documents import backcast_document, dumps
    from dipsim.analysis.presentation.plots import backcast_plot

    say = Voice(quiet)
    seed = 1956 if seed is None else seed
    if blind:
        return _blind_backcast(calibration, out or Path("results/backcast_blind"), workers, resume, force, say)
    out = out or Path("results/backcast")
    with user_errors():
        check_target(out, force)
        years = len(load_history())
        say.note(f"engine: batch; {runs} runs per year, {years} years")
        say.compiling("batch")
        with say.progress("backcast", runs * years) as bar:
            table = run_backcast(runs, seed, progress=bar.advance)
        with fresh_folder(out, force) as tmp:
            table.to_csv(tmp / "backcast.csv", index=False)
            write_environment(tmp)
            backcast_plot(table, tmp / "backcast.png")
        if json:
            typer.echo(dumps(backcast_document(table, runs, seed, out)))
            return
        typer.echo(backcast_text(table))
        typer.echo(f"written: {out}/ (backcast.csv, backcast.png)")


def _blind_backcast(name: str, out: Path, workers: int, resume: bool, force: bool, say: Voice) -> None:
    """Calibrate on the steps a calibration file keeps, and print what prior and posterior
    predict for the steps it holds out, with their scores."""
    from dipsim.analysis.interpretation import calibration as calib

    with user_errors():
        _need_pyabc()
        if resume and force:
            fail("--resume and --force: allowed: one of them")
        cal = calib.load(name)
        if not cal.held_out:
            fail(f"--calibration {name}: fits every history step; allowed with --blind: a calibration with `until`")
        _, written = _run_calibration(cal, out, workers, Executor.local, None, resume, force, say)
        held = ", ".join(str(s.year) for s in cal.held_out)
        typer.echo(f"fitted to {', '.join(str(s.year) for s in cal.steps)}; held out: {held}")
        typer.echo("")
        typer.echo(
            "What prior and posterior predict for the held-out steps (the chance a run reproduces each observation):"
        )
        typer.echo(calib.predicted_text(written.predicted, fitted=False))
        typer.echo("")
        typer.echo("Scores on the held-out steps (log score: higher is better; Brier: lower is better):")
        typer.echo(calib.scores_text(written.scores, fitted=False))
        score = written.scores[~written.scores["fitted"]]
        better = score["log_score_posterior"].sum() > score["log_score_prior"].sum()
        typer.echo(
            "the calibrated model predicts the held-out steps "
            + ("better than the prior" if better else "NO better than the prior")
            + " by the log score"
        )
        typer.echo(f"written: {out}/ (the calibration's files; predicted.csv and scores.csv mark the held-out steps)")


@app.command()
def scenarios(json: Annotated[bool, typer.Option("--json", help="Print the list as one JSON document")] = False):
    """List the scenario and sweep files that ship with dipsim, by kind, with the name to
    type (dipsim run NAME), the file's own name where it differs, and its title."""
    from dipsim.analysis.presentation.documents import document, dumps

    files = shipped_files()
    if json:
        typer.echo(
            dumps(
                document(
                    "scenarios",
                    files=[
                        {"kind": f.kind, "argument": f.argument, "name": f.name, "title": f.title, "file": f.file}
                        for f in files
                    ],
                )
            )
        )
        return
    width = max(len(f.argument) for f in files)
    for folder in KINDS:
        group = [f for f in files if f.folder == folder]
        if group:
            typer.echo(f"{KINDS[folder]} ({USED_BY[folder]}):")
            for f in group:
                named = "" if f.name == f.argument else f"  [name: {f.name}]"
                typer.echo(f"  {f.argument:{width}s}  {f.title}{named}")
            typer.echo("")
    typer.echo(f"(files in {scenario_mod.shipped()})")


@app.command()
def warmup(quiet: QuietOption = False):
    """Compile the engine now and keep it in numba's cache, so that no later command
    waits for it (for images and CI; the first use on a machine otherwise compiles it,
    10 to 20 s). Prints what it compiled and how long it took."""
    import time

    from dipsim.analysis.experiments.warmup import STEPS, cache_folder, measure

    say = Voice(quiet)
    start = time.perf_counter()
    compiled = 0
    for what, work in STEPS:
        with say.working(f"{what}: compiling, or loading from numba's cache"):
            step = measure(what, work)
        compiled += step.compiled
        done = (f"compiled {step.compiled} functions" if step.compiled else "already compiled") + (
            f", loaded {step.loaded} from the cache" if step.loaded else ""
        )
        typer.echo(f"{what}: {done} ({step.seconds:.1f} s)")
    typer.echo(
        f"done in {time.perf_counter() - start:.1f} s; {compiled} functions compiled; numba's cache: {cache_folder()}"
    )


@app.command("schema")
def schema_command(
    out: Annotated[Path, typer.Option(help="Folder for the schema files")] = Path("scenarios/schema"),
    force: Annotated[bool, typer.Option("--force", help="Replace schema files that exist")] = False,
    readme: Annotated[
        Path | None, typer.Option(help="Also rewrite the reference tables of this scenarios/README.md")
    ] = None,
):
    """Write the JSON Schemas of scenario and sweep files (scenario.schema.json,
    expected_utility.schema.json, sweep.schema.json) for editors that check TOML against a
    schema (Taplo, as in VS Code's Even Better TOML): name one on a file's first line,
    `#:schema schema/scenario.schema.json`."""
    from dipsim.analysis.presentation import reference

    with user_errors():
        try:
            written = reference.write(out, force, readme)
        except reference.ReadmeError as exc:
            fail(str(exc))
        typer.echo("written: " + ", ".join(str(p) for p in written))


@app.command("app")
def app_command(
    scenario: Annotated[
        str | None,
        scenario_argument(
            BARGAINING_FOLDERS, "A scenario file, or a name `dipsim scenarios` lists [default: baseline]"
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
):
    """Serve the live Mesa app (SolaraViz) of one negotiation at http://HOST:PORT/: sliders
    for the main assumptions, step and play buttons, plots that follow the rounds."""
    from dipsim.analysis.presentation.app import serve

    with user_errors():
        if scenario is not None:
            spec = _load(scenario, [])  # a bad scenario gets the usual message before serving
            seated = getattr(spec, "party_ids", ())
            if len(seated) > 2:
                fail(
                    f"{scenario}: {len(seated)} governments at the table; allowed in the app: two (its sliders and "
                    "plane are two governments'; run, explain and compare take more)"
                )
        try:
            code = serve(scenario, host=host, port=port)
        except ModuleNotFoundError as exc:
            fail(f"{exc}; the app needs its extra: pip install -e '.[app]'")
    raise typer.Exit(code=code)


def main() -> None:
    """The command line, with the project's convention for bad options too: one line on
    standard error, exit status 2 (rather than click's boxed usage message)."""
    try:
        from typer._click import exceptions as click  # typer 0.2x carries its own click
    except ImportError:
        from click import exceptions as click

    try:
        code = app(prog_name="dipsim", standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        sys.exit(2)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "dipsim"
        message = " ".join(exc.format_message().replace("Value error, ", "").split())
        typer.echo(f"dipsim: error: {message} (see: {where} --help)", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("dipsim: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        typer.echo(f"dipsim: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
