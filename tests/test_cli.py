"""The command line as a user meets it: outputs, summaries, and bad input (exit 2, one
clear message, no traceback, nothing written)."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from typer.testing import CliRunner

from analysis.cli import app

from .conftest import ROOT, SCENARIOS

runner = CliRunner()
DIPSIM = str(Path(sys.executable).parent / "dipsim")


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_run_writes_everything_and_summarises(tmp_path):
    out = tmp_path / "base"
    r = invoke("run", SCENARIOS / "baseline.toml", "--runs", 200, "--out", out)
    assert r.exit_code == 0, r.output
    for name in ("runs.parquet", "rounds.parquet", "scenario.toml", "offers.png", "actions.png", "terms.png",
                 "reasons.png"):
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
    assert invoke("run", "baseline", "--runs", 120, "--seed", 7, "--out", a,
                  "--set", "parties.japan.strategy.beta=2").exit_code == 0
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
    for name in ("summary.csv", "treaty_probability.png", "terms_territory.png", "terms_sanctions.png",
                 "utilities.png", "baseline/runs.parquet", "us_disengages/offers.png"):
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
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary folders left


def bad_scenario(tmp_path, change):
    data = {"base": str(SCENARIOS / "baseline.toml"), "name": "bad", **change}
    f = tmp_path / "bad.toml"
    f.write_bytes(tomli_w.dumps(data).encode())
    return f


BAD = {
    "unknown key": ({"negotiation": {"rounds": 3, "deadline": 9, "opener": "japan", "source": "t"}}, [], "negotiation.rounds", "unknown key"),
    "wrong type": ({"negotiation": {"deadline": 2.5, "opener": "japan", "source": "t"}}, [], "negotiation.deadline", "found 2.5"),
    "out of range": ({"parties": {"japan": {"autonomy": {"value": 1.5}}}}, [], "parties.japan.autonomy.value", "less than or equal to 1"),
    "weights": ({"parties": {"russia": {"utility": {"issues": {"territory": {"weight": 0.9, "values": [1, .7, .6, 0, 0], "source": "t"}}}}}}, [], "weights sum to", "must sum to 1"),
    "cycle": ({"base": "bad.toml"}, [], "base", "cycle"),
    "bad set": ({}, ["--set", "parties.russia.strategy.beta=zero"], "parties.russia.strategy.beta", "found 'zero'"),
    "bad set form": ({}, ["--set", "justakey"], "KEY=VALUE", "justakey"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_one_clear_message_and_exit_2(tmp_path, case):
    change, extra, key, what = BAD[case]
    f = bad_scenario(tmp_path, change)
    out = tmp_path / "out"
    r = subprocess.run([DIPSIM, "run", str(f), "--runs", "10", "--out", str(out), *extra],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert r.stderr.startswith("dipsim: error: ") and r.stderr.count("\n") == 1
    assert key in r.stderr and what in r.stderr
    assert not out.exists()


def test_missing_file_and_unknown_engine(tmp_path):
    out = tmp_path / "o"
    r = invoke("run", tmp_path / "nope.toml", "--out", out)
    assert r.exit_code == 2 and "no such scenario file" in r.output and not out.exists()
    r = invoke("run", "baseline", "--engine", "gpu", "--out", out)
    assert r.exit_code == 2 and "allowed: batch, mesa" in r.output and not out.exists()
    r = invoke("run", "baseline", "--runs", 0, "--out", out)
    assert r.exit_code == 2 and not out.exists()


def test_compare_refuses_bad_input_before_writing(tmp_path):
    out = tmp_path / "o"
    r = invoke("compare", "baseline", "baseline", "--out", out)
    assert r.exit_code == 2 and "given twice" in r.output and not out.exists()
    r = invoke("compare", "baseline", tmp_path / "missing.toml", "--out", out)
    assert r.exit_code == 2 and "missing.toml" in r.output and not out.exists()


def test_an_output_folder_that_cannot_be_made_is_one_message_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    cases = {"/proc/dipsim-test": "/proc", str(blocker / "out"): "is a file", str(blocker / "deeper" / "out"): "is a file"}
    if os.geteuid() != 0:          # root may write anywhere; a folder without write permission stops others
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        cases[str(locked / "out")] = "permission denied"
    for out, why in cases.items():
        for command in (["run", "baseline", "--runs", 20], ["compare", "baseline", "us_disengages", "--runs", 20],
                        ["backcast", "--runs", 20], ["sweep", "pressure_vs_opposition"]):
            r = invoke(*command, "--out", out)
            assert r.exit_code == 2, (command, out, r.stderr)
            assert r.stderr == r.stderr.splitlines()[0] + "\n" and r.stderr.startswith(f"dipsim: error: {out}: cannot be created")
            assert why in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    assert blocker.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a-file", *(["locked"] if os.geteuid() != 0 else [])])
