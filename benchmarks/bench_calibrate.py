"""Calibration speed, beside the sweep speed it should approach, and the full
simulation-based calibration.

1. ``dipsim calibrate record --workers 2`` (ten free beliefs, six history steps, 100 runs
   a step per particle) in a child process: wall time (start-up, the predictions and the
   plots included), particles tried, negotiations played, and
   ``calibration_negotiations_per_second`` (the negotiations of the fit over the fit's own
   time, from calibration.json). The target: a million negotiations or more within ten
   minutes on two cores.
2. Beside it, in the same run: ``dipsim sweep sobol_preferences --workers 2`` cut to about
   the same number of runs, ``sweep_negotiations_per_second``. A calibration plays a
   history step's 100 runs per particle, so each call carries the cost of building its
   tables; the ratio says what that costs.
3. With ``--sbc N``: simulation-based calibration (Talts et al. 2018) with N replications
   on the two beliefs of tests/test_calibration.py's version (Japan's territory values
   and reservation) and the steps up to 2001, larger than the test's and tempered: each
   replication draws the beliefs from the prior, lets the model write the steps' record,
   calibrates on it (60 particles, 50 runs a step, temperatures 2 and 1), and ranks the
   truth among 99 posterior draws. Prints a line per replication, then the chi-square
   p-value of the ranks over ten bins and the coverage of the 50% and 90% intervals. A
   record the model wrote may be rare at every belief: a replication whose generation
   tries ``--cap`` particles (default 20,000) stops, is left out and is reported with
   its true quantiles, since leaving such records out can bias the ranks. (On all six
   steps a replication can take many minutes.)

The machine is shared: compare the figures of one run with each other. Usage:
    python benchmarks/bench_calibrate.py [--spec record] [--sbc 0] [--cap 20000] [--skip-speed]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

ROOT = Path(__file__).resolve().parents[1]
DIPSIM = str(Path(sys.executable).parent / "dipsim")


def calibration(spec: str, folder: Path) -> dict:
    out = folder / "calibration"
    t0 = time.perf_counter()
    r = subprocess.run(
        [DIPSIM, "calibrate", spec, "--workers", "2", "--out", str(out), "--quiet"], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(r.returncode)
    m = json.loads((out / "calibration.json").read_text())
    rate = m["negotiations"] / m["seconds"]
    print(f"calibration ({spec}): {m['evaluations']} particles tried, {m['negotiations']:,} negotiations")
    print(f"  fit {m['seconds']:.1f} s; wall time, start-up, predictions and plots included: {wall:.1f} s")
    print(f"calibration_negotiations_per_second: {rate:,.0f}")
    return {"negotiations": m["negotiations"], "rate": rate, "wall": wall}


def sweep(runs: int, folder: Path) -> float:
    source = ROOT / "scenarios" / "sweeps" / "sobol_preferences.toml"
    data = tomllib.loads(source.read_text())
    data["scenario"] = str((source.parent / data["scenario"]).resolve())
    params = 98  # sobol_preferences' parameters: N x (D + 2) runs without second order
    base = 2 ** max(1, int(np.ceil(np.log2(max(runs / (params + 2), 2)))))
    data["design"]["base_samples"] = base
    path = folder / "sobol.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    out = folder / "sweep"
    t0 = time.perf_counter()
    r = subprocess.run(
        [DIPSIM, "sweep", str(path), "--workers", "2", "--out", str(out), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    if r.returncode:
        sys.exit(r.returncode)
    n = json.loads((out / "manifest.json").read_text())["design"]["runs"]
    print(f"sweep (sobol_preferences, {n:,} runs, two workers): {wall:.1f} s, start-up included")
    print(f"sweep_negotiations_per_second: {n / wall:,.0f}")
    return n / wall


def sbc(replications: int, cap: int, folder: Path) -> None:
    from scipy import stats

    from dipsim.analysis.interpretation import calibration as calib

    spec = calib.CalibrationSpec(
        name="sbc",
        title="simulation-based calibration",
        free=["parties.japan.utility.issues.territory", "parties.japan.utility.reservation"],
        until=2001,
        runs=50,
        population=60,
        temperatures=[2.0, 1.0],
        max_evaluations=cap,  # per generation: a record rare at every belief stops there (reported below)
    )
    cal = calib.prepare(spec, ROOT / "scenarios" / "calibration" / "record.toml")
    truth, sample, tried, capped = [], [], [], []
    t0 = time.perf_counter()
    for k in range(replications):
        rng = np.random.default_rng([1, k])  # the replication's own draws: one stopped at the cap moves no other
        u = rng.uniform(size=len(cal.beliefs))
        record = calib.synthetic(cal, {b.key: float(x) for b, x in zip(cal.beliefs, u)}, seed=10_000 + k)
        record = calib.Calibration(spec.model_copy(update={"seed": k}), cal.path, record.steps, [], cal.beliefs)
        sub = folder / f"sbc{k}"
        sub.mkdir()
        started = time.perf_counter()
        try:
            fit = calib.calibrate(record, sub)
        except calib.CalibrationError:
            capped.append(u)
            print(f"  replication {k}: stopped at {cap} particles tried in a generation ({_truth(u)})", flush=True)
            continue
        post = fit.posterior
        tried.append(fit.evaluations)
        print(
            f"  replication {k}: {fit.evaluations} particles tried, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        w = post["weight"].to_numpy()
        rows = rng.choice(len(w), size=99, p=w / w.sum())
        sample.append(post[[f"quantile:{b.key}" for b in cal.beliefs]].to_numpy()[rows])
        truth.append(u)
    if not truth:
        print(f"SBC: every one of {replications} replications stopped at the cap")
        return
    t, s = np.array(truth), np.array(sample)
    ranks = np.concatenate([(s[:, :, j] < t[:, j][:, None]).sum(axis=1) for j in range(t.shape[1])])
    counts = np.bincount(ranks * 10 // 100, minlength=10)
    print(
        f"SBC: {len(truth)} of {replications} replications x {t.shape[1]} beliefs in {time.perf_counter() - t0:.0f} s"
    )
    print(f"  particles tried per replication: {np.mean(tried):.0f} (most {max(tried)})")
    if capped:
        left = np.array(capped)
        print(
            f"  left out at the cap ({cap} particles in a generation): {len(capped)} of {replications}, their true "
            f"quantiles averaging {np.round(left.mean(axis=0), 2).tolist()} (0.5 each if leaving them out biased "
            "nothing; ranks below are of the rest only)"
        )
    print(f"  rank counts over ten bins: {counts.tolist()}; chi-square p = {stats.chisquare(counts).pvalue:.3f}")
    for level in (0.5, 0.9):
        lo, hi = np.quantile(s, [(1 - level) / 2, (1 + level) / 2], axis=1)
        print(f"  {level:.0%} intervals hold the truth in {((lo <= t) & (t <= hi)).mean():.3f} of cases")


def _truth(u: np.ndarray) -> str:
    return "true quantiles " + ", ".join(f"{x:.2f}" for x in u)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="record", help="the calibration file (default: record)")
    parser.add_argument("--sbc", type=int, default=0, help="replications of simulation-based calibration (0: none)")
    parser.add_argument(
        "--cap",
        type=int,
        default=20_000,
        help="particles an SBC replication may try in one generation before it is left out and reported",
    )
    parser.add_argument("--skip-speed", action="store_true", help="only the SBC (with --sbc)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_speed:
            fit = calibration(args.spec, folder)
            rate = sweep(int(fit["negotiations"] // 4), folder)
            print(f"calibration_vs_sweep: {fit['rate'] / rate:.2f}")
        if args.sbc:
            sbc(args.sbc, args.cap, folder)


if __name__ == "__main__":
    main()
