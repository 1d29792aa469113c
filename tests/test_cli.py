"""The command line as a user meets it: outputs, summaries, and bad input (exit 2, one
clear message, no traceback, nothing written)."""

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from dipsim import __version__
from dipsim.analysis.cli import DESIGNS, STRATEGY_KINDS, Engine, Executor, app
from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.interpretation import calibration
from dipsim.sim import scenario as scenario_mod

from .conftest import ROOT, SCENARIOS

runner = CliRunner()
DIPSIM = str(Path(sys.executable).parent / "dipsim")
WIDE = {"COLUMNS": "200"}  # help and usage errors on one line each, for the tests to read


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_run_writes_everything_and_summarises(tmp_path):
    out = tmp_path / "base"
    r = invoke("run", SCENARIOS / "baseline.toml", "--runs", 200, "--out", out)
    assert r.exit_code == 0, r.output
    for name in (
        "runs.parquet",
        "rounds.parquet",
        "scenario.toml",
        "offers.png",
        "actions.png",
        "terms.png",
        "reasons.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert "treaty rate" in r.output and "95% CI" in r.output and "how the runs ended" in r.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 200 and runs["run"].tolist() == list(range(200))
    rounds = pd.read_parquet(out / "rounds.parquet")
    assert (rounds.groupby("run")["round"].max().to_numpy() == runs["end_round"].to_numpy()).all()
    assert {"usa_pressure", "offer_russia_utility_japan", "public_japan_accepts_russia_offer"} <= set(rounds)
    first = runs.iloc[0]
    assert len(first["usa_pressure_path"]) == first["end_round"]
    assert len(first["ratifications"]) == first["ratification_attempts"]


def test_rerunning_the_resolved_scenario_gives_identical_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert (
        invoke(
            "run", "baseline", "--runs", 120, "--seed", 7, "--out", a, "--set", "parties.japan.strategy.beta=2"
        ).exit_code
        == 0
    )
    assert invoke("run", a / "scenario.toml", "--out", b).exit_code == 0
    for name in ("runs.parquet", "rounds.parquet", "scenario.toml"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_mesa_engine_writes_the_same_data(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert invoke("run", "baseline", "--runs", 40, "--out", a).exit_code == 0
    assert invoke("run", "baseline", "--runs", 40, "--out", b, "--engine", "mesa").exit_code == 0
    for name in ("runs.parquet", "rounds.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_compare(tmp_path):
    out = tmp_path / "cmp"
    r = invoke("compare", "baseline", "us_disengages", "russian_hardline_public", "--runs", 150, "--out", out)
    assert r.exit_code == 0, r.output
    for name in (
        "summary.csv",
        "treaty_probability.png",
        "terms_territory.png",
        "terms_sanctions.png",
        "utilities.png",
        "baseline/runs.parquet",
        "us_disengages/offers.png",
    ):
        assert (out / name).exists(), name
    summary = pd.read_csv(out / "summary.csv").set_index("scenario")
    assert summary.loc["russian_hardline_public", "treaty_rate"] == 0.0


def test_check_prints_preferences_with_sources():
    r = invoke("check", "baseline")
    assert r.exit_code == 0
    assert "valid" in r.output and "source: A L25" in r.output and "levada2018" in r.output
    assert "weight 0.55" in r.output


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "mine.txt").write_text("precious")
    r = invoke("run", "baseline", "--runs", 20, "--out", out)
    assert r.exit_code == 2 and "--force" in r.output
    assert (out / "mine.txt").read_text() == "precious"
    r = invoke("run", "baseline", "--runs", 20, "--out", out, "--force")
    assert r.exit_code == 0 and (out / "runs.parquet").exists() and not (out / "mine.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def bad_scenario(tmp_path, change):
    data = {"base": str(SCENARIOS / "baseline.toml"), "name": "bad", **change}
    f = tmp_path / "bad.toml"
    f.write_bytes(tomli_w.dumps(data).encode())
    return f


BAD = {
    "unknown key": (
        {"negotiation": {"rounds": 3, "deadline": 9, "opener": "japan", "source": "t"}},
        [],
        "negotiation.rounds",
        "unknown key",
    ),
    "wrong type": (
        {"negotiation": {"deadline": 2.5, "opener": "japan", "source": "t"}},
        [],
        "negotiation.deadline",
        "found 2.5",
    ),
    "out of range": (
        {"parties": {"japan": {"autonomy": {"value": 1.5}}}},
        [],
        "parties.japan.autonomy.value",
        "less than or equal to 1",
    ),
    "weights": (
        {
            "parties": {
                "russia": {
                    "utility": {"issues": {"territory": {"weight": 0.9, "values": [1, 0.7, 0.6, 0, 0], "source": "t"}}}
                }
            }
        },
        [],
        "weights sum to",
        "must sum to 1",
    ),
    "cycle": ({"base": "bad.toml"}, [], "base", "cycle"),
    "bad set": ({}, ["--set", "parties.russia.strategy.beta=zero"], "parties.russia.strategy.beta", "found 'zero'"),
    "bad set form": ({}, ["--set", "justakey"], "KEY=VALUE", "justakey"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_one_clear_message_and_exit_2(tmp_path, case):
    change, extra, key, what = BAD[case]
    f = bad_scenario(tmp_path, change)
    out = tmp_path / "out"
    r = subprocess.run(
        [DIPSIM, "run", str(f), "--runs", "10", "--out", str(out), *extra], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.startswith("dipsim: error: ") and r.stderr.count("\n") == 1
    assert key in r.stderr and what in r.stderr
    assert not out.exists()


def test_missing_file_and_unknown_engine(tmp_path):
    out = tmp_path / "o"
    r = invoke("run", tmp_path / "nope.toml", "--out", out)
    assert r.exit_code == 2 and "no such scenario file" in r.output and not out.exists()
    r = runner.invoke(app, ["run", "baseline", "--engine", "gpu", "--out", str(out)], env=WIDE)
    assert r.exit_code == 2 and "'gpu' is not one of 'batch', 'mesa'" in r.output and not out.exists()
    r = invoke("run", "baseline", "--runs", 0, "--out", out)
    assert r.exit_code == 2 and not out.exists()


def test_compare_refuses_bad_input_before_writing(tmp_path):
    out = tmp_path / "o"
    r = invoke("compare", "baseline", "baseline", "--out", out)
    assert r.exit_code == 2 and "given twice" in r.output and not out.exists()
    r = invoke("compare", "baseline", tmp_path / "missing.toml", "--out", out)
    assert r.exit_code == 2 and "missing.toml" in r.output and not out.exists()


# --------------------------------------------------------------------------- output streams, --quiet, --json


def dipsim(*args, env=None, cwd=ROOT, **kwargs):
    """The installed command in a new process, as a user runs it (standard error is not a
    terminal here)."""
    return subprocess.run(
        [DIPSIM, *map(str, args)], capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, **kwargs
    )


def on_a_terminal(args, stdout_file):
    """Run dipsim with standard error on a pseudo-terminal and standard output to a file, as
    `dipsim run ... > f.txt` typed in a terminal; what the terminal showed."""
    master, slave = pty.openpty()
    with open(stdout_file, "w") as out:
        p = subprocess.Popen([DIPSIM, *map(str, args)], stdout=out, stderr=slave, stdin=subprocess.DEVNULL, cwd=ROOT)
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        shown += data
    p.wait()
    os.close(master)
    assert p.returncode == 0, shown
    return shown.decode()


def test_progress_goes_to_the_terminal_and_results_to_standard_output(tmp_path):
    shown = on_a_terminal(["run", "baseline", "--runs", 5000, "--out", tmp_path / "r"], tmp_path / "f.txt")
    assert "runs/s" in shown and "5000/5000" in shown and "None" not in shown
    text = (tmp_path / "f.txt").read_text()
    assert text.startswith("Baseline: the article's view, about 2018: 5000 runs\n")
    assert "runs/s" not in text and "\x1b" not in text and "engine: batch" not in text


def test_without_a_terminal_a_note_says_what_runs_and_quiet_says_nothing(tmp_path):
    r = dipsim("run", "baseline", "--runs", 40, "--out", tmp_path / "a")
    assert r.returncode == 0 and r.stderr == "engine: batch; 40 runs of baseline from seed 20181114\n"
    r = dipsim("run", "baseline", "--runs", 40, "--out", tmp_path / "b", "--quiet")
    assert r.returncode == 0 and r.stderr == "" and "treaty rate" in r.stdout
    assert (tmp_path / "b" / "runs.parquet").exists()
    r = dipsim("run", "baseline", "--runs", 40, "--out", tmp_path / "b", "--quiet")  # errors still shown
    assert r.returncode == 2 and r.stderr.startswith("dipsim: error: ") and "--force" in r.stderr


def test_json_of_run_parses_and_carries_the_numbers_the_text_shows(tmp_path):
    args = ["run", "japan_accepts_1956", "--runs", 400, "--seed", 3]
    text = dipsim(*args, "--out", tmp_path / "t").stdout
    r = dipsim(*args, "--out", tmp_path / "j", "--json")
    assert r.returncode == 0
    doc = json.loads(r.stdout)  # standard output holds the document alone
    assert doc["command"] == "run" and doc["dipsim"] == __version__ and doc["engine"] == "batch"
    assert doc["out"] == str(tmp_path / "j")
    (s,) = doc["scenarios"]
    assert (s["name"], s["runs"], s["seed"], s["protocol"]) == ("japan_accepts_1956", 400, 3, "bargaining")
    low, high = s["treaty_rate_ci"]
    assert (
        f"  treaty rate      {s['treaty_rate']:.3f}  (95% CI {low:.3f} to {high:.3f}; {s['treaties']} treaties)\n"
        in text
    )
    assert s["treaties"] > 0 and s["treaty_packages"] and s["agreed_packages"]
    assert f"  mean end round   {s['mean_end_round']:.1f}\n" in text
    for p in s["treaty_packages"] + s["agreed_packages"]:
        assert f"{p['runs']:6d}  {p['package']}" in text
    for u in s["utilities"].values():
        assert f"{u['label']:10s} {u['mean']:+.3f}  ({u['ci_low']:+.3f} to {u['ci_high']:+.3f})" in text
    assert sum(x["runs"] for x in s["reasons"]) == 400
    for x in s["reasons"]:
        assert f"{x['runs']:6d}  {x['reason']}" in text


def test_json_of_compare_matches_its_summary_table(tmp_path):
    out = tmp_path / "c"
    r = dipsim("compare", "baseline", "us_disengages", "--runs", 300, "--out", out, "--json", "--quiet")
    assert r.returncode == 0 and r.stderr == ""
    doc = json.loads(r.stdout)
    table = pd.read_csv(out / "summary.csv").set_index("scenario")
    assert [s["name"] for s in doc["scenarios"]] == ["baseline", "us_disengages"]
    for s in doc["scenarios"]:
        assert s["treaty_rate"] == pytest.approx(table.loc[s["name"], "treaty_rate"])
        assert s["treaty_rate_ci"] == pytest.approx([table.loc[s["name"], "ci_low"], table.loc[s["name"], "ci_high"]])
        assert s["utilities"]["usa"]["mean"] == pytest.approx(table.loc[s["name"], "utility_usa"])


def test_json_of_an_expected_utility_run(tmp_path):
    r = dipsim("run", "eu_car_emissions", "--out", tmp_path / "eu", "--json")
    assert r.returncode == 0
    (s,) = json.loads(r.stdout)["scenarios"]
    rounds = pd.read_csv(tmp_path / "eu" / "rounds.csv")
    assert s["protocol"] == "expected_utility" and len(s["rounds"]) == len(rounds)
    assert [x["forecast"] for x in s["rounds"]] == pytest.approx(rounds["forecast"].tolist())
    assert s["rounds"][0]["mean"] == pytest.approx(7.39, abs=0.005)  # the published round 0


def test_json_of_check_is_the_resolved_scenario_with_every_belief_and_its_source(baseline):
    change = "parties.japan.autonomy.value=0.4"
    r = invoke("check", "baseline", "--json", "--set", change)
    doc = json.loads(r.stdout)
    assert doc["command"] == "check" and doc["valid"] is True and Path(doc["file"]).name == "baseline.toml"
    assert doc["scenario"] == scenario_mod.load("baseline", [change]).resolved()
    beliefs = {b["key"]: b for b in doc["beliefs"]}
    autonomy = beliefs["parties.japan.autonomy"]
    assert autonomy["value"] == 0.4 and "set on the command line: was 0.3" in autonomy["source"]
    territory = beliefs["parties.russia.utility.issues.territory"]
    assert territory["weight"] == baseline.parties["russia"].utility.issues["territory"].weight
    assert len(territory["values"]) == len(baseline.issues["territory"].options)
    assert all(b["source"].strip() for b in doc["beliefs"])
    assert doc["sources"] == baseline.sources and "levada2018" in doc["sources"]
    r = invoke("check", "eu_car_emissions", "--json")
    assert {b["key"] for b in json.loads(r.stdout)["beliefs"]} >= {"dimension", "settings"}


def test_json_of_backcast(tmp_path):
    args = ["backcast", "--runs", 300, "--seed", 5]
    text = dipsim(*args, "--out", tmp_path / "t").stdout
    r = dipsim(*args, "--out", tmp_path / "j", "--json")
    doc = json.loads(r.stdout)
    assert [s["year"] for s in doc["steps"]] == [1956, 1960, 2001, 2018, 2020, 2022]
    assert f"directions agreeing with history: {doc['agreeing']} of {doc['compared']}" in text
    assert doc["compared"] == 5 and doc["steps"][0]["agrees"] is None
    table = pd.read_csv(tmp_path / "j" / "backcast.csv")
    assert [s["treaty_probability"] for s in doc["steps"]] == pytest.approx(table["treaty_probability"].tolist())
    for s in doc["steps"]:
        assert (
            f"{s['year']}  {s['history_direction']:7s}  {s['model_direction']:5s}  {s['treaty_probability']:.3f}"
            in text
        )


def test_bad_input_with_json_leaves_standard_output_empty(tmp_path):
    r = dipsim("run", tmp_path / "missing.toml", "--json", "--out", tmp_path / "o")
    assert r.returncode == 2 and r.stdout == "" and r.stderr.startswith("dipsim: error: ")
    assert r.stderr.count("\n") == 1 and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- long commands say what they do


def test_explain_and_report_say_what_they_do_unless_quiet(tmp_path):
    run = tmp_path / "run"
    assert invoke("run", "baseline", "--runs", 20, "--out", run).exit_code == 0
    r = dipsim("explain", run, "--run", 2)
    assert r.returncode == 0 and "replaying run 2 of" in r.stderr and r.stderr.count("\n") == 1
    assert "replayed in the Mesa model" in r.stdout
    r = dipsim("report", run)
    assert r.returncode == 0 and r.stderr == f"writing {run}/report.html\n"
    for command in (["explain", run, "--run", 2], ["report", run]):
        r = dipsim(*command, "--quiet")
        assert r.returncode == 0 and r.stderr == "" and r.stdout


# --------------------------------------------------------------------------- version, scenarios, completion, choices


def test_version():
    assert dipsim("--version").stdout == f"dipsim {__version__}\n"
    r = subprocess.run([sys.executable, "-m", "dipsim", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout == f"dipsim {__version__}\n"


def test_scenarios_lists_what_ships_by_kind_and_every_name_works():
    doc = json.loads(invoke("scenarios", "--json").stdout)
    files = doc["files"]
    assert {Path(f["file"]) for f in files} == {p for _, p in scenario_mod.catalog()}
    assert {f["kind"] for f in files} == {"standard", "expected utility", "history", "sweeps", "calibration"}
    for f in files:
        if f["kind"] == "sweeps":
            assert Path(sweep_spec.load(f["argument"]).file).samefile(f["file"])
        elif f["kind"] == "calibration":
            cal = calibration.load(f["argument"])
            assert cal.path.samefile(f["file"]) and cal.spec.title == f["title"]
        else:
            assert scenario_mod.find_scenario(f["argument"]).samefile(f["file"])
            assert scenario_mod.load(f["argument"]).title == f["title"]
            assert scenario_mod.load(f["argument"]).name == f["name"]
    text = invoke("scenarios").stdout
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert [h.split(" (")[0] for h in headings[:5]] == [
        "standard",
        "expected utility",
        "history",
        "sweeps",
        "calibration",
    ]
    for f in files:
        assert re.search(rf"^  {re.escape(f['argument'])} +{re.escape(f['title'])}", text, re.M), f
    assert "1956: the Joint Declaration  [name: history_1956]" in text


def complete(words: str) -> list[str]:
    """What the shell gets for `words<TAB>`, through typer's completion protocol for bash."""
    parts = words.split(" ")
    r = dipsim(env={"_DIPSIM_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)})
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def test_shell_completion_offers_the_choices_and_the_shipped_names():
    assert complete("dipsim run --engine ") == ["batch", "mesa"]
    assert complete("dipsim sweep x --executor ") == ["local", "dask"]
    assert complete("dipsim run ja") == ["japan_accepts_1956"]
    assert complete("dipsim compare baseline us_") == ["us_disengages"]
    assert complete("dipsim compare baseline usa") == ["usa_reassures_japan"]
    assert complete("dipsim sweep ") == ["pressure_vs_opposition", "sobol_preferences"]
    assert "warmup" in complete("dipsim w") and "scenarios" in complete("dipsim sc")
    # typer names the shell by looking for one among the process's ancestors: run it from
    # bash (a compound command, so that bash stays its parent), as a user does, not from a
    # test runner whose parent may be no shell at all
    command = f"'{DIPSIM}' --show-completion bash; exit $?"
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=ROOT)
    script = r.stdout
    assert (
        "_DIPSIM_COMPLETE=complete_bash" in script and "complete -o default -F _dipsim_completion dipsim" in script
    ), (
        r.returncode,
        r.stderr,
    )


def test_help_lists_the_allowed_values_from_the_code():
    from dipsim.sim.run import ENGINES
    from dipsim.sim.strategies import STRATEGIES

    assert tuple(e.value for e in Engine) == ENGINES
    assert tuple(e.value for e in Executor) == ("local", "dask")
    assert list(STRATEGY_KINDS) == [s.name for s in STRATEGIES]  # what the files may say is what runs
    assert DESIGNS == ("grid", "random", "latin", "sobol", "morris")
    run_help = help_text("run")
    assert "<batch|mesa>" in run_help and "--quiet" in run_help and "--json" in run_help
    assert f"a strategy's kind is one of: {', '.join(STRATEGY_KINDS)}" in run_help
    sweep_help = help_text("sweep")
    assert "<local|dask>" in sweep_help and f"design.kind is one of: {', '.join(DESIGNS)}." in sweep_help


def help_text(command: str) -> str:
    """A command's --help as running text: without the boxes' lines and the wrapping."""
    shown = runner.invoke(app, [command, "--help"], env=WIDE).output
    return " ".join(re.sub("[│╭╮╰╯─]", " ", shown).split())


# --------------------------------------------------------------------------- output folders and kinds of file


def test_an_output_folder_that_cannot_be_made_is_one_message_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    cases = {
        "/proc/dipsim-test": "/proc",
        str(blocker / "out"): "is a file",
        str(blocker / "deeper" / "out"): "is a file",
    }
    if os.geteuid() != 0:  # root may write anywhere; a folder without write permission stops others
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases[str(locked / "out")] = "permission denied"
    for out, why in cases.items():
        for command in (
            ["run", "baseline", "--runs", 20],
            ["compare", "baseline", "us_disengages", "--runs", 20],
            ["backcast", "--runs", 20],
            ["sweep", "pressure_vs_opposition"],
        ):
            r = invoke(*command, "--out", out)
            assert r.exit_code == 2, (command, out, r.stderr)
            assert r.stderr == r.stderr.splitlines()[0] + "\n" and r.stderr.startswith(
                f"dipsim: error: {out}: cannot be created"
            )
            assert why in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    assert blocker.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a-file", *(["locked"] if os.geteuid() != 0 else [])]
    )


def test_a_scenario_where_a_sweep_is_expected_and_the_reverse(tmp_path):
    out = tmp_path / "o"
    cases = [
        (["sweep", SCENARIOS / "baseline.toml"], "is a scenario file; dipsim sweep takes a sweep file"),
        (["sweep", "baseline"], "baseline is a scenario file; dipsim sweep takes a sweep file"),
        (
            ["run", SCENARIOS / "sweeps" / "pressure_vs_opposition.toml"],
            "is a sweep file; dipsim run takes a scenario file",
        ),
        (["run", "sobol_preferences"], "sobol_preferences is a sweep file; dipsim run takes a scenario file"),
        (["compare", "baseline", "sobol_preferences"], "dipsim compare takes a scenario file"),
        (["check", "pressure_vs_opposition"], "dipsim check takes a scenario file"),
    ]
    for args, message in cases:
        r = invoke(*args, *(["--out", out] if args[0] != "check" else []))
        assert r.exit_code == 2 and message in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
        assert "`dipsim scenarios` lists" in r.stderr and not out.exists()


def test_bad_options_get_one_line_and_exit_2_like_bad_files(tmp_path):
    """A mistyped option, value, argument or command: one line naming it and what is
    allowed (or where to look), exit 2, nothing on stdout, nothing written."""
    cases = [
        (["scenarios", "extra"], "extra"),
        (["scenarios", "--jsn"], "--jsn"),
        (["warmup", "now"], "now"),
        (["warmup", "--force"], "--force"),
        (["run", "baseline", "--engine", "gpu"], "'batch', 'mesa'"),
        (["run", "baseline", "--runs", "0"], "--runs"),
        (["run"], "scenario"),
        (["nosuch"], "nosuch"),
        (["sweep", "pressure_vs_opposition", "--pool", "many"], "threads"),
    ]
    for args, named in cases:
        r = dipsim(*args, cwd=tmp_path, env=WIDE)
        assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr, args
        assert r.stderr.startswith("dipsim: error: ") and r.stderr.count("\n") == 1 and named in r.stderr, r.stderr
        assert "--help" in r.stderr
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- the compiled engine's first use


def test_first_use_says_it_compiles_and_warmup_compiles_what_the_commands_use(tmp_path):
    cold = {"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}  # a machine that has compiled nothing
    r = dipsim("run", "baseline", "--runs", 20, "--out", tmp_path / "a", env=cold)
    assert r.returncode == 0 and "compiling the engine once, about" in r.stderr
    r = dipsim("run", "baseline", "--runs", 20, "--out", tmp_path / "b", env=cold)
    assert r.returncode == 0 and "compiling" not in r.stderr
    r = dipsim("warmup", env=cold)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("batch engine (run, compare, backcast, sweep, explain): already compiled")
    assert lines[1].startswith("Mesa model (run --engine mesa, explain, app): compiled ")
    assert lines[2].startswith("done in ") and str(tmp_path / "numba-cache") in lines[2]
    # after the warm-up no command compiles anything: numba saves nothing new to its cache
    watch = {**cold, "NUMBA_DEBUG_CACHE": "1"}
    for args in (
        ["run", "us_disengages", "--runs", 100, "--engine", "mesa", "--out", tmp_path / "m"],
        ["backcast", "--runs", 50, "--out", tmp_path / "bc"],
        ["explain", tmp_path / "a", "--run", 1],
    ):
        r = dipsim(*args, env=watch)
        assert r.returncode == 0 and "data saved" not in r.stdout and "compiling the engine" not in r.stderr, args
