"""The `dipsim` command line: run, compare and check scenarios."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from dipsim.sim import scenario as scenario_mod
from dipsim.sim.scenario import ExpectedUtilityScenario, ScenarioError

from dipsim.analysis.experiments.output import OutputError, check_target, check_writable, fresh_folder
from dipsim.analysis.experiments.sweep import SweepError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    help="dipsim: Russia, Japan and the USA negotiate over the southern Kurils (Mesa model).",
)

ENGINE_HELP = "batch: many runs at once with numpy (identical to the Mesa model run for run); mesa: the Mesa model itself"
SetOption = Annotated[list[str], typer.Option("--set", help="Override a scenario field: key.path=value (repeatable)")]
RunsOption = Annotated[int | None, typer.Option(min=1, max=10_000_000, help="Number of runs [default: the scenario's run.runs]")]
SeedOption = Annotated[int | None, typer.Option(min=0, max=2**63 - 1, help="Root seed [default: the scenario's run.seed]")]
ForceOption = Annotated[bool, typer.Option("--force", help="Replace the output folder if it exists")]
EngineOption = Annotated[str, typer.Option(help=ENGINE_HELP)]


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


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.speed} runs/s"),
        TimeElapsedColumn(), TimeRemainingColumn(),
        console=None, transient=False, disable=not sys.stderr.isatty(),
    )


def _load(name: str, overrides: list[str]):
    return scenario_mod.load(name, overrides)


def _engine(engine: str) -> str:
    from dipsim.sim.run import ENGINES

    if engine not in ENGINES:
        fail(f"--engine: found {engine!r}; allowed: {', '.join(ENGINES)}")
    return engine


def _simulate_all(scenarios, engine: str):
    from dipsim.analysis.experiments.jobs import simulate_scenario

    total = sum(s.run.runs for s in scenarios)
    results = []
    with progress_bar() as bar:
        task = bar.add_task("negotiations", total=total)
        for s in scenarios:
            bar.update(task, description=f"{s.name}")
            results.append(simulate_scenario(s, engine=engine, progress=lambda k: bar.advance(task, k)))
    return results


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name in scenarios/")],
    runs: RunsOption = None,
    seed: SeedOption = None,
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/NAME]")] = None,
    set_: SetOption = [],
    force: ForceOption = False,
    engine: EngineOption = "batch",
):
    """Simulate one scenario: print a summary; write runs.parquet, rounds.parquet,
    scenario.toml (fully resolved) and plots."""
    from dipsim.analysis.experiments.jobs import with_run_settings, write_tables
    from dipsim.analysis.presentation.figures import scenario_plots
    from dipsim.analysis.experiments.summary import summary_text

    with user_errors():
        engine = _engine(engine)
        loaded = _load(scenario, set_)
        if isinstance(loaded, ExpectedUtilityScenario):
            return _run_expected_utility(loaded, out, force)
        spec = with_run_settings(loaded, runs, seed)
        target = out or Path("results") / spec.name
        check_target(target, force)
        typer.echo(f"engine: {engine}; {spec.run.runs} runs of {spec.name} from seed {spec.run.seed}", err=True)
        (result,) = _simulate_all([spec], engine)
        with fresh_folder(target, force) as tmp:
            write_tables(result, tmp)
            scenario_plots(result, tmp)
        typer.echo(summary_text(spec.title, result.summary(), dict(result.tables.labels)))
        typer.echo(f"written: {target}/ (runs.parquet, rounds.parquet, scenario.toml; plots: offers, actions, terms, "
                   "reasons, outcome_space, as PNG and SVG)")


def _run_expected_utility(spec, out: Path | None, force: bool) -> None:
    from dipsim.analysis.experiments.jobs import expected_utility_text, run_expected_utility, write_expected_utility_tables
    from dipsim.analysis.presentation.figures import expected_utility_plots

    target = out or Path("results") / spec.name
    check_target(target, force)
    typer.echo(f"model: Bueno de Mesquita's expected utility model (Mesa), {spec.settings.rounds} rounds", err=True)
    table = run_expected_utility(spec)
    with fresh_folder(target, force) as tmp:
        write_expected_utility_tables(spec, table, tmp)
        expected_utility_plots(spec, table, tmp)
    typer.echo(expected_utility_text(spec, table))
    typer.echo(f"written: {target}/ (rounds.parquet, rounds.csv, scenario.toml, positions.png)")


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario files or names in scenarios/")],
    runs: RunsOption = None,
    seed: SeedOption = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("results/compare"),
    set_: SetOption = [],
    force: ForceOption = False,
    engine: EngineOption = "batch",
):
    """Simulate several scenarios and plot them side by side (same seeds for all unless
    their files say otherwise)."""
    from dipsim.analysis.experiments.jobs import with_run_settings, write_comparison_table, write_tables
    from dipsim.analysis.presentation.figures import comparison_plots, scenario_plots
    from dipsim.analysis.experiments.summary import summary_text

    with user_errors():
        engine = _engine(engine)
        loaded = [_load(name, set_) for name in scenarios]
        for name, spec in zip(scenarios, loaded):
            if isinstance(spec, ExpectedUtilityScenario):
                fail(f"{name}: an expected utility scenario; allowed in compare: bargaining scenarios (run it with dipsim run)")
        specs = [with_run_settings(spec, runs, seed) for spec in loaded]
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            fail(f"scenario name {dup!r} given twice; allowed: each scenario once (names come from the files' 'name')")
        shape = (specs[0].party_ids, {k: v.options for k, v in specs[0].issues.items()})
        for s, name in zip(specs[1:], scenarios[1:]):
            if (s.party_ids, {k: v.options for k, v in s.issues.items()}) != shape:
                fail(f"{name}: parties or issues differ from {scenarios[0]}'s; allowed: scenarios with the same parties and issues")
        check_target(out, force)
        typer.echo(f"engine: {engine}; {len(specs)} scenarios", err=True)
        results = _simulate_all(specs, engine)
        with fresh_folder(out, force) as tmp:
            for r in results:
                write_tables(r, tmp / r.scenario.name)
                scenario_plots(r, tmp / r.scenario.name)
            write_comparison_table(results, tmp)
            comparison_plots(results, tmp)
        for r in results:
            typer.echo(summary_text(r.scenario.title, r.summary(), dict(r.tables.labels)))
            typer.echo("")
        typer.echo(f"written: {out}/ (summary.csv, treaty_probability.png, terms_*.png, utilities.png, and a folder per scenario)")


@app.command()
def check(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a name in scenarios/")],
    set_: SetOption = [],
):
    """Validate a scenario and print its resolved preferences with their sources."""
    from dipsim.analysis.presentation.describe import describe

    with user_errors():
        spec = _load(scenario, set_)
        typer.echo(describe(spec))


@app.command()
def sweep(
    spec: Annotated[str, typer.Argument(help="A sweep file (scenarios/sweeps/*.toml)")],
    out: Annotated[Path | None, typer.Option(help="Output folder [default: results/sweeps/NAME]")] = None,
    workers: Annotated[int, typer.Option(min=1, max=1024, help="Parallel workers. local: threads of this process for "
                                         "small sweeps, worker processes for large ones (1: this process alone); dask "
                                         "without --scheduler: the local cluster's worker processes")] = 1,
    executor: Annotated[str, typer.Option(help="local: this machine; dask: a Dask cluster")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (default: start a local cluster)")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted sweep in --out")] = False,
    force: ForceOption = False,
):
    """Run a parameter sweep with the batch engine: results stream to OUT/runs/ as
    Parquet parts beside OUT/manifest.json; an interrupted sweep resumes with --resume."""
    from dipsim.analysis.experiments import sweep_spec
    from dipsim.analysis.experiments.sweep import run_sweep
    from dipsim.analysis.experiments.summary import wilson

    with user_errors():
        if executor not in ("local", "dask"):
            fail(f"--executor: found {executor!r}; allowed: local, dask")
        if scheduler and executor != "dask":
            fail("--scheduler: allowed only with --executor dask")
        if resume and force:
            fail("--resume and --force: allowed: one of them")
        plan = sweep_spec.load(spec)
        target = out or Path("results") / "sweeps" / plan.spec.name
        if not resume:
            check_writable(target)
        where = f"{executor}, {workers} worker{'s' if workers > 1 else ''}" + (f" at {scheduler}" if scheduler else "")
        typer.echo(f"engine: batch; {plan.runs} runs ({plan.points} points x {plan.spec.replications} replications, "
                   f"{plan.spec.design.kind} design over {len(plan.parameters)} parameters) on {where}", err=True)
        try:
            with progress_bar() as bar:
                task = bar.add_task(plan.spec.name, total=plan.runs)
                result = run_sweep(plan, target, workers, executor, scheduler, resume, force,
                                   progress=lambda k: bar.advance(task, k))
        except KeyboardInterrupt:
            typer.echo(f"dipsim: interrupted; the parts written are whole: run the same command with --resume to finish {target}",
                       err=True)
            raise typer.Exit(code=130)
        lo, hi = wilson(result.treaties, result.runs - result.failures)
        ok = result.runs - result.failures
        if result.played == 0:
            typer.echo(f"{plan.spec.title}: {result.runs} runs, all already done ({result.chunks_skipped} chunks)")
        else:
            done_before = f"; {result.runs - result.played} runs already done" if result.chunks_skipped else ""
            typer.echo(f"{plan.spec.title}: {result.played} runs in {result.seconds:.1f} s on {result.played_on} "
                       f"({result.played / max(result.seconds, 1e-9):,.0f} runs/s{done_before})")
        typer.echo(f"  treaty rate      {result.treaties / max(ok, 1):.3f}  (95% CI {lo:.3f} to {hi:.3f})")
        typer.echo(f"  failed runs      {result.failures}" + ("  (see the 'error' column)" if result.failures else ""))
        typer.echo(f"written: {target}/ (manifest.json, runs/part-*.parquet); plots: dipsim plot {target}")


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
    cutoff: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Chance of a treaty at which a point counts as 'treaty likely' for PRIM [default: the design's 90th percentile]")] = None,
):
    """Which assumptions decide the outcome: Sobol indices (Sobol sweeps) or Morris
    screening (Morris sweeps) of the chance of a treaty and each actor's utility, and
    PRIM scenario discovery of where a treaty is likely. Writes tables and plots into
    the sweep folder."""
    from dipsim.analysis.presentation.sweep_plots import write_analysis

    with user_errors():
        typer.echo(write_analysis(folder, cutoff))


@app.command()
def report(folder: Annotated[Path, typer.Argument(help="A results folder: dipsim run, compare, sweep or backcast")]):
    """Write FOLDER/report.html: one self-contained page with the scenario or sweep, the
    preferences and their sources, the summary tables, every plot, and for sweeps the
    sensitivity and scenario-discovery results."""
    from dipsim.analysis.presentation.report import write_report

    with user_errors():
        typer.echo(f"written: {write_report(folder)}")


@app.command()
def explain(
    folder: Annotated[Path, typer.Argument(help="A `dipsim run` folder")],
    run: Annotated[int, typer.Option("--run", help="Which run (its number in runs.parquet)")] = 0,
):
    """Tell one run's story: the offers, the USA's moves, the votes, why it ended; and,
    where there was no treaty, the smallest change to one belief that gives one."""
    from dipsim.analysis.interpretation.explain import explain as tell

    with user_errors():
        typer.echo(tell(folder, run))


@app.command()
def backcast(
    runs: Annotated[int, typer.Option(min=10, max=1_000_000, help="Runs per historical scenario")] = 20_000,
    seed: SeedOption = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("results/backcast"),
    force: ForceOption = False,
):
    """Run the historical scenarios (scenarios/history/) in order and compare the direction
    the model takes at each step with the direction history took."""
    from dipsim.analysis.interpretation.backcast import backcast as run_backcast, backcast_text
    from dipsim.analysis.presentation.plots import backcast_plot

    with user_errors():
        check_target(out, force)
        typer.echo(f"engine: batch; {runs} runs per year", err=True)
        table = run_backcast(runs, 1956 if seed is None else seed)
        with fresh_folder(out, force) as tmp:
            table.to_csv(tmp / "backcast.csv", index=False)
            backcast_plot(table, tmp / "backcast.png")
        typer.echo(backcast_text(table))
        typer.echo(f"written: {out}/ (backcast.csv, backcast.png)")


@app.command("app")
def app_command(
    scenario: Annotated[str | None, typer.Argument(help="A scenario file, or a name in scenarios/ [default: baseline]")] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
):
    """Serve the live Mesa app (SolaraViz) of one negotiation at http://HOST:PORT/: sliders
    for the main assumptions, step and play buttons, plots that follow the rounds."""
    from dipsim.analysis.presentation.app import serve

    with user_errors():
        if scenario is not None:
            _load(scenario, [])          # a bad scenario gets the usual message before serving
        try:
            code = serve(scenario, host=host, port=port)
        except ModuleNotFoundError as exc:
            fail(f"{exc}; the app needs its extra: pip install -e '.[app]'")
    raise typer.Exit(code=code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
