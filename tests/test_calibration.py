"""Calibration on history: observations in the history steps, `dipsim calibrate` (ABC-SMC
with a pseudo-marginal likelihood), its determinism across workers and after kill -9,
simulation-based calibration, `run --posterior` and `backcast --blind`."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dipsim.analysis.interpretation import calibration as calib
from dipsim.sim import scenario as sc

from .conftest import ROOT, SCENARIOS

pytest.importorskip("pyabc")

DIPSIM = str(Path(sys.executable).parent / "dipsim")
HISTORY = SCENARIOS / "history"


def dipsim(*args, cwd=ROOT):
    return subprocess.run([DIPSIM, *map(str, args)], capture_output=True, text=True, cwd=cwd)


def spec_file(folder: Path, name: str = "tiny", **settings) -> Path:
    """A calibration file in ``folder``; ``settings`` override a small default."""
    data = {
        "name": name,
        "title": "A small calibration",
        "history": str(HISTORY),
        "free": ["parties.japan.utility.treaty", "parties.japan.utility.reservation"],
        "seed": 11,
        "runs": 20,
        "population": 30,
        "temperatures": [2.0, 1.0],
        **settings,
    }
    import tomli_w

    path = folder / f"{name}.toml"
    path.write_text(tomli_w.dumps(data))
    return path


# --------------------------------------------------------------------------- observations


def test_every_history_step_observes_with_a_source():
    from dipsim.analysis.interpretation.backcast import load_history

    for s in load_history(HISTORY):
        o = s.history.observed
        assert o is not None and o.source.strip() and o.treaty is False, s.history.year  # no treaty, ever
        assert o.talks in ("held", "suspended")


@pytest.mark.parametrize(
    ("override", "key", "allowed"),
    [
        ('history.observed.offered.party="china"', "history.observed.offered.party", "'russia', 'japan'"),
        ('history.observed.offered.issue="fisheries"', "history.observed.offered.issue", "'territory'"),
        ('history.observed.offered.most="Iturup"', "history.observed.offered.most", "'Habomai+Shikotan'"),
        ('history.observed.talks="frozen"', "history.observed.talks", "'held' or 'suspended'"),
    ],
)
def test_bad_observations_are_told(override, key, allowed):
    with pytest.raises(sc.ScenarioError) as err:
        sc.load(HISTORY / "2018.toml", [override])
    assert err.value.key == key and allowed in err.value.problem, str(err.value)
    assert err.value.file.startswith("--set history.observed")  # the override that set it


def test_what_a_run_reproduces_is_read_from_its_record(tmp_path):
    """The most islands Russia offered in each run, recomputed from the round record's own
    columns, and the other observations from the outcomes' reasons."""
    cal = calib.load(spec_file(tmp_path))
    step = next(s for s in cal.steps if s.year == 1960)
    seeds = calib.step_seeds(5, step, 300)
    tables, outcomes, record = calib.play(step, seeds, {b.key: 0.3 for b in cal.beliefs})
    seen = calib.observations(step, tables, outcomes, record)
    rounds = pd.DataFrame({"run": record["run"], "offer": record["offer_russia"]})
    territory = list(step.scenario.issues).index("territory")
    rounds = rounds[rounds["offer"] >= 0]
    most = rounds.groupby("run")["offer"].agg(lambda p: tables.space.choice[p.to_numpy(), territory].max())
    expected = np.zeros(300, int)
    expected[most.index.to_numpy()] = most.to_numpy()
    assert (seen["offered"] == (expected == 0)).all()  # 1960 observed "none"
    assert 0 < seen["offered"].mean() < 1  # both happen: the test reads both branches
    broke_off = np.isin(outcomes.reason, [1, 3, 4])
    assert (seen["talks"] == broke_off).all()
    assert (seen["signed"] == (outcomes.agreed < 0)).all() and (seen["treaty"] == ~outcomes.treaty).all()


# --------------------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    ("settings", "key", "says"),
    [
        ({"colour": "red"}, "colour", "unknown key"),
        ({"free": ["parties.japan.utility.issues.fisheries"]}, "free.0", "no fitted step gives a distribution"),
        ({"free": ["negotiation.deadline"]}, "free.0", "allowed: one of"),
        ({"temperatures": [4.0, 2.0]}, "temperatures", "ends at 1"),
        ({"temperatures": [1.0, 2.0, 1.0]}, "temperatures", "does not increase"),
        ({"until": 1900}, "until", "a year at or after the first step's"),
        ({"runs": 0}, "runs", "greater than or equal to 1"),
    ],
)
def test_bad_calibration_files_are_told(tmp_path, settings, key, says):
    path = spec_file(tmp_path, **settings)
    out = tmp_path / "out"
    r = dipsim("calibrate", path, "--out", out)
    assert r.returncode == 2, r.stderr
    assert str(path) in r.stderr and key in r.stderr and says in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and not out.exists()


def test_a_missing_file_and_a_foreign_folder_are_told(tmp_path):
    r = dipsim("calibrate", tmp_path / "missing.toml")
    assert r.returncode == 2 and "no such calibration file" in r.stderr
    path = spec_file(tmp_path)
    (tmp_path / "other").mkdir()
    r = dipsim("calibrate", path, "--out", tmp_path / "other", "--resume")
    assert r.returncode == 2 and "no calibration to resume here" in r.stderr


# --------------------------------------------------------------------------- one answer


def test_workers_and_a_resumed_kill_give_the_same_posterior(tmp_path):
    """The posterior of an uninterrupted run in this process equals that of two worker
    processes, and that of a run killed (SIGKILL) after its first generation and resumed."""
    path = spec_file(tmp_path, population=60, runs=30, temperatures=[4.0, 2.0, 1.0])
    cal = calib.load(path)
    one = tmp_path / "one"
    calib.start_folder(cal, one, resume=False, force=False)
    calib.write_outputs(cal, calib.calibrate(cal, one, workers=1))
    reference = pd.read_parquet(one / calib.POSTERIOR)

    r = dipsim("calibrate", path, "--out", tmp_path / "two", "--workers", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "two" / calib.POSTERIOR), reference)

    killed = tmp_path / "killed"
    p = subprocess.Popen([DIPSIM, "calibrate", str(path), "--out", str(killed), "--quiet"], cwd=ROOT)
    stored = 0
    while p.poll() is None and stored < 1:
        time.sleep(0.05)
        stored = calib._stored_generations(killed)
    assert p.poll() is None, "the run ended before it could be killed: give it more work"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert not (killed / calib.POSTERIOR).exists()
    r = dipsim("calibrate", path, "--out", killed, "--resume")
    assert r.returncode == 0, r.stderr
    assert "were already done" in r.stdout
    pd.testing.assert_frame_equal(pd.read_parquet(killed / calib.POSTERIOR), reference)


def test_a_dask_cluster_gives_the_same_posterior_and_the_report_reads_it(tmp_path):
    pytest.importorskip("dask.distributed")
    path = spec_file(tmp_path, until=1960)
    here, there = tmp_path / "here", tmp_path / "dask"
    assert dipsim("calibrate", path, "--out", here, "-q").returncode == 0
    r = dipsim("calibrate", path, "--out", there, "--executor", "dask", "--workers", "2", "-q")
    assert r.returncode == 0, r.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(there / calib.POSTERIOR), pd.read_parquet(here / calib.POSTERIOR))
    r = dipsim("report", there)
    assert r.returncode == 0, r.stderr
    html = (there / "report.html").read_text()
    for text in ("The beliefs: prior and posterior", "What the beliefs predict for each step", "held out: 2001"):
        assert text in html, text
    assert html.count("data:image/png;base64,") == 4  # posterior, pairs, generations, predicted


def test_another_cpus_code_paths_give_the_same_posterior(tmp_path):
    """A child process with numpy's AVX2 and AVX-512 paths turned off and numba compiling
    for a generic CPU: one generation at temperature 1 (the shipped files) gives the same
    files byte for byte; tempered generations accept the same particles, at values
    within 1e-12 (their proposals pass through a kernel density's covariance, whose last
    bits follow the CPU)."""
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL", "NUMBA_CPU_NAME": "generic"}
    for temperatures in ([1.0], [2.0, 1.0]):
        path = spec_file(tmp_path, until=1960, temperatures=temperatures)
        here, there = tmp_path / f"here{len(temperatures)}", tmp_path / f"there{len(temperatures)}"
        assert dipsim("calibrate", path, "--out", here, "-q").returncode == 0
        r = subprocess.run([DIPSIM, "calibrate", path, "--out", there, "-q"], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        a, b = pd.read_parquet(here / calib.POSTERIOR), pd.read_parquet(there / calib.POSTERIOR)
        if temperatures == [1.0]:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
            assert (here / "predicted.csv").read_bytes() == (there / "predicted.csv").read_bytes()
        else:
            assert a.shape == b.shape and np.allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=1e-12)


def test_resuming_with_other_settings_is_refused(tmp_path):
    path = spec_file(tmp_path, population=10, temperatures=[1.0])
    assert dipsim("calibrate", path, "--out", tmp_path / "c", "-q").returncode == 0
    spec_file(tmp_path, population=12, temperatures=[1.0])
    r = dipsim("calibrate", path, "--out", tmp_path / "c", "--resume")
    assert r.returncode == 2 and "other settings" in r.stderr


# --------------------------------------------------------------------------- simulation-based calibration


def _ranks(truth: np.ndarray, draws: np.ndarray) -> np.ndarray:
    return (draws < truth[:, None]).sum(axis=1)


def test_simulation_based_calibration(tmp_path):
    """Talts et al. (2018): draw the beliefs from the prior, let the model write a record
    of the steps up to 2001 with them, calibrate on that record; over the replications
    the true quantile's rank among posterior draws is uniform (chi-square on four bins,
    p > 0.001) and the central 50% and 90% intervals hold the truth as often as they say
    (within the binomial's 99.9% range). The beliefs are the two these steps inform most
    (Japan's territory values and reservation: their rank correlations with the chance of
    2001's record are -0.6 and +0.4 over the prior). One generation at temperature 1 keeps
    it short; the tempered path is checked against itself above, and the full version
    (100 replications, 60 particles, 50 runs a step, temperatures 2 and 1) is
    benchmarks/bench_calibrate.py --sbc 100. The same ranks against an overconfident
    posterior (draws pulled halfway to their mean) fail the check, so it can fail."""
    path = spec_file(
        tmp_path,
        free=["parties.japan.utility.issues.territory", "parties.japan.utility.reservation"],
        until=2001,
        runs=20,
        population=40,
        temperatures=[1.0],
        max_evaluations=20_000,
    )
    cal = calib.load(path)
    replications, draws_per = 30, 39
    rng = np.random.default_rng(2018)
    truths, samples = [], []
    for k in range(replications):
        u = rng.uniform(size=len(cal.beliefs))
        record = calib.synthetic(cal, {b.key: float(x) for b, x in zip(cal.beliefs, u)}, seed=1000 + k)
        record = calib.Calibration(
            cal.spec.model_copy(update={"seed": 500 + k}), cal.path, record.steps, [], cal.beliefs
        )
        folder = tmp_path / f"sbc{k}"
        folder.mkdir()
        post = calib.calibrate(record, folder).posterior
        w = post["weight"].to_numpy()
        rows = rng.choice(len(w), size=draws_per, p=w / w.sum())
        samples.append(post[[f"quantile:{b.key}" for b in cal.beliefs]].to_numpy()[rows])
        truths.append(u)
        shutil.rmtree(folder)
    truth, sample = np.array(truths), np.array(samples)  # (reps, beliefs), (reps, draws, beliefs)
    assert calibrated(truth, sample)
    centre = sample.mean(axis=1, keepdims=True)
    assert not calibrated(truth, centre + 0.5 * (sample - centre))  # overconfident: the check fails


def calibrated(truth: np.ndarray, sample: np.ndarray) -> bool:
    """Uniform ranks (chi-square over four bins, p > 0.001) and central 50% and 90%
    intervals that hold the truth as often as they say (the binomial's 99.9% range)."""
    draws = sample.shape[1]
    ranks = np.concatenate([_ranks(truth[:, j], sample[:, :, j]) for j in range(truth.shape[1])])
    if stats.chisquare(np.bincount(ranks * 4 // (draws + 1), minlength=4)).pvalue <= 0.001:
        return False
    for level in (0.5, 0.9):
        lo, hi = np.quantile(sample, [(1 - level) / 2, (1 + level) / 2], axis=1)  # (reps, beliefs) each
        inside = int(((lo <= truth) & (truth <= hi)).sum())
        low, high = stats.binom.ppf([0.0005, 0.9995], ranks.size, level)
        if not low <= inside <= high:
            return False
    return True


# --------------------------------------------------------------------------- using the posterior


def test_run_with_a_posterior_takes_its_particles(tmp_path):
    path = spec_file(tmp_path, population=20, temperatures=[1.0])
    cal_out = tmp_path / "cal"
    assert dipsim("calibrate", path, "--out", cal_out, "-q").returncode == 0
    post = pd.read_parquet(cal_out / calib.POSTERIOR)
    r = dipsim("run", "baseline", "--runs", "300", "--out", tmp_path / "run", "--posterior", cal_out)
    assert r.returncode == 0, r.stderr
    assert "2 of the 2 fitted beliefs" in r.stderr
    runs = pd.read_parquet(tmp_path / "run" / "runs.parquet")
    baseline = sc.load(SCENARIOS / "baseline.toml")
    number = next(x for x in sc.uncertain(baseline) if x.path == "parties.japan.utility.reservation.value")
    allowed = calib.value_at(number, post["quantile:parties.japan.utility.reservation.value"].to_numpy())
    drawn = runs["parties.japan.utility.reservation.value"].to_numpy()
    assert np.isin(drawn, allowed).all()  # every run at one particle's quantile, in the baseline's range
    assert len(np.unique(drawn)) > 5  # and not all at one
    r = dipsim("run", "baseline", "--runs", "10", "--out", tmp_path / "x", "--posterior", tmp_path)
    assert r.returncode == 2 and "--posterior" in r.stderr and not (tmp_path / "x").exists()


def test_a_record_out_of_reach_stops_with_the_reason(tmp_path):
    folder = tmp_path / "scenarios" / "history"
    shutil.copytree(HISTORY, folder)
    shutil.copy(SCENARIOS / "baseline.toml", tmp_path / "scenarios")  # what the steps build on
    text = (folder / "2022.toml").read_text()
    (folder / "2022.toml").write_text(text.replace("treaty = false", "treaty = true", 1))
    path = spec_file(tmp_path, history=str(folder), population=10, temperatures=[1.0], max_evaluations=40)
    r = dipsim("calibrate", path, "--out", tmp_path / "c")
    assert r.returncode == 1 and "max_evaluations" in r.stderr and "--reach" in r.stderr, r.stderr
    r = dipsim("calibrate", path, "--reach")
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("2022  treaty"))
    assert "0.000 (0.00-0.00)" in line


def test_blind_backcast_scores_the_held_out_steps(tmp_path):
    path = spec_file(tmp_path, "early", until=1960, population=20, temperatures=[1.0])
    out = tmp_path / "blind"
    r = dipsim("backcast", "--blind", "--calibration", path, "--out", out)
    assert r.returncode == 0, r.stderr
    assert "held out: 2001, 2018, 2020, 2022" in r.stdout
    scores = pd.read_csv(out / "scores.csv")
    assert scores.loc[~scores["fitted"], "year"].tolist() == [2001, 2018, 2020, 2022]
    assert np.isfinite(scores["brier_prior"]).all() and np.isfinite(scores["brier_posterior"]).all()
    assert "by the log score" in r.stdout
    r = dipsim("backcast", "--blind", "--calibration", spec_file(tmp_path, "all"), "--out", tmp_path / "b2")
    assert r.returncode == 2 and "until" in r.stderr
