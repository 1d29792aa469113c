"""Sweeps: designs, seeds independent of workers/chunking/executor, resume after a real
kill, failures recorded, the batch engine equal to the Mesa model on sweep rows, and
clear errors for bad sweep files."""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from dipsim.analysis.experiments import sweep as sweep_mod
from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.experiments.design import Design
from dipsim.analysis.experiments.sweep import SweepError, run_sweep
from dipsim.sim import scenario as sc
from dipsim.sim.run import play
from dipsim.sim.scenario import ScenarioError

from .conftest import ROOT, SCENARIOS

DIPSIM = str(Path(sys.executable).parent / "dipsim")


def write_sweep(tmp_path, body: str, name="s.toml") -> Path:
    f = tmp_path / name
    f.write_text(f'scenario = "{SCENARIOS / "baseline.toml"}"\n' + body)
    return f


SMALL = """
name = "small"
title = "A small sweep"
description = "for tests"
seed = 3
replications = 7
chunk = 300
[design]
kind = "random"
samples = 260
[[parameters]]
key = "outside.usa.pressure.max"
bounds = [0.0, 1.0]
[[parameters]]
key = "parties.japan.strategy.beta"
bounds = [0.3, 4.0]
[[parameters]]
key = "parties.russia.utility.issues.economy.weight"
bounds = [0.05, 0.5]
[[parameters]]
key = "parties.russia.public.effects.territory.values"
scale = true
bounds = [0.0, 1.2]
"""


def test_sobol_design_is_salibs_matrix_in_any_slice():
    from SALib.sample import sobol as salib_sobol

    s = sweep_spec.load(SCENARIOS / "sweeps" / "sobol_preferences.toml")
    d = Design(s)
    for second in (False, True):
        s2 = sweep_spec.Sweep(
            s.spec.model_copy(update={"design": s.spec.design.model_copy(update={"second_order": second})}),
            s.file,
            s.base,
            s.parameters,
        )
        d = Design(s2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = salib_sobol.sample(d.problem, 8, calc_second_order=second, seed=s.spec.seed)
        mine = np.stack([d.values(np.arange(x.shape[0]))[p.key] for p in s.parameters], axis=1)
        assert np.array_equal(mine, x)
        cut = np.arange(x.shape[0] // 3, x.shape[0])
        part = np.stack([d.values(cut)[p.key] for p in s.parameters], axis=1)
        assert np.array_equal(part, x[cut])


def test_grid_and_random_designs(tmp_path):
    s = sweep_spec.load(SCENARIOS / "sweeps" / "pressure_vs_opposition.toml")
    assert s.points == 30 and s.runs == 6000
    v = Design(s).values(np.arange(30))
    assert list(v["outside.usa.pressure.max.value"][:7]) == [0, 0, 0, 0, 0, 0, 0.25]
    assert list(v["parties.russia.public.effects.territory.values"][:7]) == [0, 0.25, 0.5, 0.75, 1, 1.25, 0]
    r = sweep_spec.load(write_sweep(tmp_path, SMALL))
    d = Design(r)
    whole = d.values(np.arange(260))
    some = d.values(np.array([259, 3]))
    for k in whole:
        assert (whole[k] >= min(p.low for p in r.parameters if p.key == k)).all()
        assert some[k][0] == whole[k][259] and some[k][1] == whole[k][3]


def frame(out):
    return pq.read_table(out / "runs").to_pandas()


def test_sobol_rows_made_by_the_parent_give_the_workers_data(tmp_path):
    """With workers (threads or processes), the thread handing out chunks makes their
    Sobol' rows; the data equal those of one worker that makes its own."""
    body = SMALL.replace('kind = "random"\nsamples = 260', 'kind = "sobol"\nbase_samples = 8').replace(
        "replications = 7", "replications = 20"
    )
    spec = sweep_spec.load(write_sweep(tmp_path, body))
    assert spec.spec.design.kind == "sobol" and spec.runs == 1600  # six chunks of at most 300
    run_sweep(spec, tmp_path / "one", workers=1)
    run_sweep(spec, tmp_path / "threads", workers=2, pool="threads")
    run_sweep(spec, tmp_path / "processes", workers=2, pool="processes")
    for other in ("threads", "processes"):
        assert frame(tmp_path / other).equals(frame(tmp_path / "one")), other


def test_same_data_whatever_the_workers_chunking_executor_and_pool(tmp_path):
    f = write_sweep(tmp_path, SMALL)
    spec = sweep_spec.load(f)
    one = run_sweep(spec, tmp_path / "one", workers=1)
    assert one.runs == 1820 and one.failures == 0 and one.played_on == "this process"
    reference = frame(tmp_path / "one")
    auto = run_sweep(spec, tmp_path / "threads", workers=3)  # a small sweep: threads of this process
    assert auto.played_on == "3 threads of this process"
    rechunked = sweep_spec.load(write_sweep(tmp_path, SMALL.replace("chunk = 300", "chunk = 1000"), "r.toml"))
    run_sweep(rechunked, tmp_path / "big", workers=1)
    run_sweep(spec, tmp_path / "dask", workers=2, executor="dask")
    forced = run_sweep(spec, tmp_path / "processes", workers=2, pool="processes")
    assert forced.played_on == "2 worker processes"
    r = subprocess.run(
        [DIPSIM, "sweep", str(f), "--out", str(tmp_path / "cli"), "--workers", "2", "--pool", "processes"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0 and "on 2 worker processes" in r.stdout, r.stderr
    for other in ("threads", "processes", "big", "dask", "cli"):
        assert frame(tmp_path / other).equals(reference), other
    assert reference["run"].tolist() == list(range(1820))
    assert reference["seed"].nunique() == 1820
    # the renormalised weights: every run's Russian weights sum to one
    from dipsim.analysis.experiments.sweep import scenario_columns

    cols = scenario_columns(spec, Design(spec).values(np.arange(260)), 260)
    total = sum(
        cols[f"parties.russia.utility.issues.{i}.weight"] for i in ("territory", "sanctions", "economy", "security")
    )
    assert np.allclose(total, 1.0)


def test_the_pool_rule_picks_what_its_costs_predict_to_finish_first():
    from dipsim.analysis.experiments.sweep import choose_pool, predicted_seconds

    # up to 1 / PYTHON_SHARE workers Python's lock does not hold threads back: threads,
    # which start at once, whatever the size
    for workers in range(2, int(1 / sweep_mod.PYTHON_SHARE) + 1):
        assert choose_pool(workers, 10**9, cores=64) == "threads"
    # with many cores, threads for small sweeps, processes for large ones
    assert choose_pool(16, 100_000, cores=16) == "threads"
    assert choose_pool(16, 2_000_000, cores=16) == "processes"
    # workers beyond the cores play no faster: 16 workers on 2 cores count as 2
    assert choose_pool(16, 2_000_000, cores=2) == "threads"
    # the crossover is where the two predictions meet
    share = sweep_mod.PYTHON_SHARE - 1 / 16
    crossover = sweep_mod.PROCESS_START_SECONDS / (sweep_mod.RUN_SECONDS * share)
    for runs in (int(crossover * 0.99), int(crossover * 1.01)):
        fastest = min(("threads", "processes"), key=lambda p: predicted_seconds(p, 16, runs))
        assert choose_pool(16, runs, cores=16) == fastest == ("threads" if runs < crossover else "processes")
    with pytest.raises(SweepError, match="allowed: auto, threads, processes"):
        run_sweep(sweep_spec.load(SCENARIOS / "sweeps" / "pressure_vs_opposition.toml"), Path("unused"), pool="gpu")


def test_resume_after_a_real_kill_gives_the_uninterrupted_data(tmp_path):
    body = SMALL.replace("samples = 260", "samples = 3000").replace("chunk = 300", "chunk = 700")
    f = write_sweep(tmp_path, body)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [DIPSIM, "sweep", str(f), "--out", str(out)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("part-*.parquet"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    parts_before = len(list((out / "runs").glob("part-*.parquet")))
    assert 3 <= parts_before < 30, "the sweep should be killed part-way"
    summary = run_sweep(sweep_spec.load(f), out, workers=2, resume=True)
    assert summary.chunks_skipped == parts_before and summary.runs == 21000
    run_sweep(sweep_spec.load(f), tmp_path / "whole", workers=1)
    assert frame(out).equals(frame(tmp_path / "whole"))
    assert not list((out / "runs").glob("*.tmp"))


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    spec = sweep_spec.load(write_sweep(tmp_path, SMALL))
    bad_seed = int(frame_for(spec, tmp_path)["seed"].iloc[100])
    real = sweep_mod.simulate

    def flaky(tables, seeds, **kw):
        if bad_seed in seeds.tolist():
            raise FloatingPointError("a run went wrong")
        return real(tables, seeds, **kw)

    monkeypatch.setattr(sweep_mod, "simulate", flaky)
    summary = run_sweep(spec, tmp_path / "flaky", workers=1)
    assert summary.failures == 1 and summary.runs == 1820
    f = frame(tmp_path / "flaky")
    bad = f[f["error"].notna()]
    assert bad["seed"].tolist() == [bad_seed] and "a run went wrong" in bad["error"].iloc[0]
    assert bad["treaty"].isna().all()
    assert np.isfinite(bad["outside.usa.pressure.max.value"]).all()  # its parameters are kept
    good = frame(tmp_path / "ok")
    keep = f["error"].isna()
    import pandas as pd  # a column with a failure holds nulls, so its dtype differs; the values do not

    pd.testing.assert_frame_equal(f[keep].drop(columns="error"), good[keep].drop(columns="error"), check_dtype=False)


def frame_for(spec, tmp_path):
    run_sweep(spec, tmp_path / "ok", workers=1)
    return frame(tmp_path / "ok")


def test_sweep_rows_equal_the_mesa_model(tmp_path):
    spec = sweep_spec.load(write_sweep(tmp_path, SMALL))
    f = frame_for(spec, tmp_path)
    rows = f.sample(60, random_state=1)
    for _, row in rows.iterrows():
        overrides = []
        for p in spec.parameters:
            overrides += sweep_spec.overrides_for(p, row[p.key])
        data = spec.base.resolved()
        origin = {}
        for text in overrides:
            sc.apply_override(data, origin, text)
        sweep_spec.normalise_weights(data)
        model = play(sc.validate(data), int(row["seed"]))
        st = model.state
        assert st.end_round == row["end_round"]
        assert st.package == row["agreed_package"]
        assert (st.reason == 0) == row["treaty"]


BAD = {
    "unknown key": (
        "seeds = 3\n[design]\nkind='random'\nsamples=5\n[[parameters]]\nkey='outside.usa.pressure.max'\nbounds=[0, 1]\n",
        "seeds",
    ),
    "bad level": (
        "[design]\nkind='grid'\n[[parameters]]\nkey='outside.usa.pressure.max'\nlevels=[0.5, 2.0]\n",
        "parameters.0",
    ),
    "reversed bounds": (
        "[design]\nkind='random'\nsamples=5\n[[parameters]]\nkey='outside.usa.pressure.max'\nbounds=[0.9, 0.1]\n",
        "parameters.0.bounds",
    ),
    "no such key": (
        "[design]\nkind='random'\nsamples=5\n[[parameters]]\nkey='outside.usa.pressure.maximum'\nbounds=[0, 1]\n",
        "parameters.0.key",
    ),
    "pattern matches nothing": (
        "[design]\nkind='sobol'\nbase_samples=8\n[[parameters]]\nkeys='parties.*.nothing*'\nspread=0.1\n",
        "parameters.0.keys",
    ),
    "not a power of two": (
        "[design]\nkind='sobol'\nbase_samples=10\n[[parameters]]\nkey='outside.usa.pressure.max'\nbounds=[0, 1]\n",
        "design.base_samples",
    ),
    "grid with bounds": (
        "[design]\nkind='grid'\n[[parameters]]\nkey='outside.usa.pressure.max'\nbounds=[0, 1]\n",
        "parameters.0",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_sweep_files_give_one_clear_message(tmp_path, case):
    body, key = BAD[case]
    head = 'name = "bad"\ntitle = "t"\ndescription = "d"\n'
    f = write_sweep(tmp_path, head + body)
    with pytest.raises(ScenarioError) as err:
        sweep_spec.load(f)
    assert err.value.file == str(f) and err.value.key.startswith(key), str(err.value)
    out = tmp_path / "out"
    r = subprocess.run([DIPSIM, "sweep", str(f), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and r.stderr.startswith("dipsim: error: ") and "Traceback" not in r.stderr
    assert not out.exists()


def test_existing_folder_needs_resume_or_force_and_resume_needs_the_same_sweep(tmp_path):
    f = write_sweep(tmp_path, SMALL)
    spec = sweep_spec.load(f)
    run_sweep(spec, tmp_path / "s", workers=1)
    with pytest.raises(SweepError, match="--resume"):
        run_sweep(spec, tmp_path / "s", workers=1)
    other = sweep_spec.load(write_sweep(tmp_path, SMALL.replace("seed = 3", "seed = 4"), "o.toml"))
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(other, tmp_path / "s", workers=1, resume=True)
    again = run_sweep(spec, tmp_path / "s", workers=1, resume=True)
    assert again.chunks_run == 0 and again.runs == 1820


def test_plot_a_sweep(tmp_path):
    spec = sweep_spec.load(SCENARIOS / "sweeps" / "pressure_vs_opposition.toml")
    run_sweep(spec, tmp_path / "g", workers=1)
    r = subprocess.run([DIPSIM, "plot", str(tmp_path / "g")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    for name in ("heatmap_1.png", "response_1.png"):
        assert (tmp_path / "g" / name).stat().st_size > 10_000
    r = subprocess.run([DIPSIM, "plot", str(tmp_path / "g"), "--pair", "nope,other"], capture_output=True, text=True)
    assert r.returncode == 2 and "allowed: two of the swept keys" in r.stderr


def test_chunking_does_not_change_heterogeneous_runs(tmp_path):
    """Runs that differ from each other and go on after failed ratifications, cut into
    chunks of different sizes: equal data."""
    body = SMALL.replace("scenario = ", "scenario = ").replace(
        "[design]",
        'set = ["negotiation.after_failed_ratification=continue", "outside.usa.active=false", "negotiation.deadline=60"]\n[design]',
    )
    a = sweep_spec.load(write_sweep(tmp_path, body.replace("chunk = 300", "chunk = 97"), "a.toml"))
    b = sweep_spec.load(write_sweep(tmp_path, body.replace("chunk = 300", "chunk = 1820"), "b.toml"))
    run_sweep(a, tmp_path / "a", workers=1)
    run_sweep(b, tmp_path / "b", workers=1)
    fa, fb = frame(tmp_path / "a"), frame(tmp_path / "b")
    assert fa.equals(fb)
    assert (fa["ratification_attempts"] >= 2).sum() > 30
