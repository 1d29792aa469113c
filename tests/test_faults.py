"""Faults a user meets: a full disk, a run or sweep killed with kill -9, two processes
writing one folder; and `dipsim run` streaming its tables, so that memory does not grow
with --runs, with the same tables, summary and (within a stated error) plots as when it
held them in memory.

The full-disk tests run twice where they can: on a small tmpfs the test mounts (which
needs root; skipped otherwise, with the reason) and with the error injected into the
Parquet writer (always)."""

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dipsim.analysis.cli import app
from dipsim.analysis.experiments import jobs, sweep_spec
from dipsim.analysis.experiments.frames import rounds_frame, runs_frame
from dipsim.analysis.experiments.summary import RunStats
from dipsim.analysis.experiments.sweep import run_sweep
from dipsim.sim import draws
from dipsim.sim import scenario as sc
from dipsim.sim.outcomes import join
from dipsim.sim.preferences import Tables
from dipsim.sim.run import simulate

from .conftest import CLASSIC_SETS, ROOT, SCENARIOS, point_scenario
from .test_sweep import SMALL, frame, write_sweep

DIPSIM = str(Path(sys.executable).parent / "dipsim")
runner = CliRunner()


def dipsim(*args) -> subprocess.CompletedProcess:
    return subprocess.run([DIPSIM, *map(str, args)], capture_output=True, text=True, cwd=ROOT)


@contextmanager
def started(*args) -> Iterator[subprocess.Popen]:
    """dipsim in a process group of its own, so that a kill reaches its workers too;
    killed on leaving, if the test has not killed it already."""
    proc = subprocess.Popen(
        [DIPSIM, *map(str, args)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            kill(proc)


def wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = 120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = condition()
        if found:
            return found
        assert proc is None or proc.poll() is None, f"the process ended before {what}"
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    os.killpg(proc.pid, sig)
    if sig == signal.SIGKILL:
        proc.wait()


def one_clear_message(r, *words) -> None:
    """Exit status 2 and one line on stderr that says dipsim: error and holds ``words``."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("dipsim: error: ")]
    assert len(lines) == 1, r.stderr
    for w in words:
        assert str(w) in lines[0], (w, lines[0])


# --------------------------------------------------------------------------- streaming


def in_memory_tables(scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tables as `dipsim run` made them when it held them in memory: every chunk
    played, the outcomes joined, each table made whole."""
    tables = Tables.from_scenarios([scenario])
    n = scenario.run.runs
    seeds = draws.run_seeds(scenario.run.seed, 0, np.arange(n))
    outcomes, rounds = [], []
    for a in range(0, n, jobs.CHUNK):
        o, r = simulate(tables, seeds[a : a + jobs.CHUNK], rounds=True)
        r["run"] = r["run"] + a
        outcomes.append(o)
        rounds.append(rounds_frame(scenario.name, r))
    return runs_frame(scenario.name, tables, join(outcomes)), pd.concat(rounds, ignore_index=True)


@pytest.mark.parametrize("name", ["baseline", "us_disengages"])
def test_streamed_tables_and_summary_equal_the_in_memory_ones(tmp_path, monkeypatch, name):
    monkeypatch.setattr(jobs, "RUNS_PER_GROUP", 3000)  # several row groups in each file
    monkeypatch.setattr(jobs, "ROUNDS_PER_GROUP", 40_000)
    # every run in one world, as the old path played, and the classic rules: the point
    # baseline then agrees nothing in any run (list columns of nulls), us_disengages often
    spec = jobs.with_run_settings(point_scenario(name, CLASSIC_SETS), 5000, 3)
    result = jobs.simulate_scenario(spec, tmp_path / "streamed")
    runs, rounds = in_memory_tables(spec)
    runs.to_parquet(tmp_path / "runs.parquet", index=False)  # as the in-memory path wrote them
    rounds.to_parquet(tmp_path / "rounds.parquet", index=False)
    for table in ("runs.parquet", "rounds.parquet"):
        streamed, whole = tmp_path / "streamed" / table, tmp_path / table
        assert pq.ParquetFile(streamed).num_row_groups > 1
        pd.testing.assert_frame_equal(pd.read_parquet(streamed), pd.read_parquet(whole))
        # the Arrow types too, but for a list column the in-memory path typed by its
        # content: list<null> when no run had a ratification
        for new, old in zip(pq.read_schema(streamed), pq.read_schema(whole)):
            assert new.name == old.name
            assert new.type == old.type or old.type == pa.list_(pa.null()), new.name
    assert (name == "baseline") == (runs["ratification_attempts"].sum() == 0)

    # the summary gathered chunk by chunk, and read back from the file a few rows at a
    # time (as `dipsim report` does), against the whole table's
    for s in (result.summary(), RunStats.from_parquet(tmp_path / "streamed" / "runs.parquet", batch=777).summary()):
        assert s["runs"] == 5000 and s["treaties"] == runs["treaty"].sum()
        assert s["mean_end_round"] == runs["end_round"].mean()
        pd.testing.assert_series_equal(s["reasons"], runs["reason"].value_counts())
        pd.testing.assert_series_equal(
            s["treaty_packages"], runs.loc[runs["treaty"], "package_label"].value_counts().head(5)
        )
        pd.testing.assert_series_equal(
            s["agreed_packages"], runs.loc[runs["agreed_package"] >= 0, "agreed_label"].value_counts().head(5)
        )
        for actor, (mean, low, high) in s["utilities"].items():
            values = runs[f"utility_{actor}"]
            half = 1.959963984540054 * values.std(ddof=1) / np.sqrt(len(values))
            assert mean == pytest.approx(values.mean(), abs=1e-12)
            assert (low, high) == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-12)
    if name == "us_disengages":
        assert len(s["agreed_packages"]) and s["treaties"] > 0


def test_round_bands_are_close_to_the_exact_quantiles(tmp_path):
    """The plots' bands come from a t-digest per round and column: every 10%, 50% and
    90% point is within 0.005 of the exact one, or between the exact 1% on either side
    (values piled on one number, such as a public accepting with 1.0)."""
    spec = jobs.with_run_settings(sc.load(SCENARIOS / "us_disengages.toml"), 20_000, 5)
    result = jobs.simulate_scenario(spec, tmp_path / "r")
    columns = [
        c
        for c in pq.read_schema(tmp_path / "r" / "rounds.parquet").names
        if "_utility_" in c or "_accepts_" in c or c in ("usa_pressure", "usa_rhetoric")
    ]
    assert len(columns) == 12
    bands = result.round_quantiles(columns)
    rounds = pd.read_parquet(tmp_path / "r" / "rounds.parquet", columns=["round", *columns])
    checked, largest = 0, 0.0
    for c in columns:
        for r, group in rounds.groupby("round")[c]:
            values = group.dropna().to_numpy()
            for q in (0.1, 0.5, 0.9):
                estimate = bands[c].loc[r, q]
                if values.size == 0:
                    assert np.isnan(estimate)
                    continue
                exact = np.quantile(values, q)
                largest = max(largest, abs(estimate - exact))
                near = abs(estimate - exact) <= 0.005
                ranked = np.quantile(values, max(q - 0.01, 0)) <= estimate <= np.quantile(values, min(q + 0.01, 1))
                assert near or ranked, (c, r, q, estimate, exact)
                checked += 1
    assert checked > 500
    print(f"largest difference from the exact quantile: {largest:.2g}")


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs mounted at tmp_path/disk, and a function that grows it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True, text=True
        )
    except FileNotFoundError:
        pytest.skip("no mount command here; the injected-error tests cover a full disk")
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the injected-error tests cover a full disk")

    def grow():
        subprocess.run(["mount", "-o", "remount,size=256m", str(disk)], check=True)

    yield disk, grow
    subprocess.run(["umount", "-l", str(disk)], check=True)


BIGGER = SMALL.replace("samples = 260", "samples = 3000").replace("chunk = 300", "chunk = 700")  # 21,000 runs, 30 parts


def whole_parts(out: Path) -> list[Path]:
    """The parts of a sweep folder, each checked to be a readable Parquet file."""
    files = sorted((out / "runs").iterdir())
    for f in files:
        assert f.name.startswith("part-") and f.suffix == ".parquet", f.name
        pq.read_metadata(f)
    return files


def test_a_sweep_that_fills_a_real_disk_stops_cleanly_and_resumes(tmp_path, small_disk):
    disk, grow = small_disk
    f = write_sweep(tmp_path, BIGGER)
    out = disk / "sweep"
    one_clear_message(dipsim("sweep", f, "--out", out), out, "no space left on the device", "--resume")
    assert 0 < len(whole_parts(out)) < 30 and (out / "manifest.json").is_file()
    grow()
    r = dipsim("sweep", f, "--out", out, "--resume")
    assert r.returncode == 0, r.stderr
    assert len(whole_parts(out)) == 30
    run_sweep(sweep_spec.load(f), tmp_path / "whole")
    assert frame(out).equals(frame(tmp_path / "whole"))


def test_a_run_that_fills_a_real_disk_leaves_nothing_and_reruns(tmp_path, small_disk):
    disk, grow = small_disk
    out = disk / "base"
    one_clear_message(
        dipsim("run", "baseline", "--runs", 20_000, "--out", out),
        out,
        "no space left on the device",
        "run the command again",
    )
    assert list(disk.iterdir()) == []  # no partial folder, no lock file
    grow()
    r = dipsim("run", "baseline", "--runs", 20_000, "--out", out)
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(out / "runs.parquet", columns=["run"])) == 20_000


def test_a_sweep_that_fills_the_disk_injected_stops_cleanly_and_resumes(tmp_path, monkeypatch):
    f = write_sweep(tmp_path, BIGGER)
    out = tmp_path / "sweep"
    real, calls = pq.write_table, [0]

    def write(table, where, **kwargs):  # four parts fit, then the disk is full
        calls[0] += 1
        if calls[0] <= 4:
            return real(table, where, **kwargs)
        Path(where).write_bytes(b"PAR1 and no more")  # what a full disk leaves of a part
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq, "write_table", write)
    r = runner.invoke(app, ["sweep", str(f), "--out", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert f"{out}: no space left on the device" in r.output and "--resume" in r.output
    assert len(whole_parts(out)) == 4
    monkeypatch.undo()
    assert runner.invoke(app, ["sweep", str(f), "--out", str(out), "--resume"]).exit_code == 0
    run_sweep(sweep_spec.load(f), tmp_path / "whole")
    assert frame(out).equals(frame(tmp_path / "whole"))


def test_a_run_that_fills_the_disk_injected_leaves_nothing_and_reruns(tmp_path, monkeypatch):
    out = tmp_path / "base"
    real, calls = pq.ParquetWriter.write_table, [0]

    def write(writer, table, **kwargs):  # one row group fits, then the disk is full
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(writer, table, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", write)
    r = runner.invoke(app, ["run", "baseline", "--runs", "20000", "--out", str(out)])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert f"{out}: no space left on the device" in r.output
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert runner.invoke(app, ["run", "baseline", "--runs", "20000", "--out", str(out)]).exit_code == 0
    assert (out / "runs.parquet").is_file()


# --------------------------------------------------------------------------- kill -9 and two writers


def test_a_killed_run_leaves_nothing_that_looks_complete_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "base"
    with started("run", "baseline", "--runs", 2_000_000, "--out", out) as proc:
        partial = wait_for(
            lambda: [
                p
                for p in tmp_path.glob(".base.partial-*")
                if (p / "rounds.parquet").is_file() and (p / "rounds.parquet").stat().st_size > 0
            ],
            "rounds written",
            proc,
        )[0]
        kill(proc)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".base.lock", partial.name]  # hidden, and named so
    for table in partial.glob("*.parquet"):  # no footer: no reader takes it for a table
        with pytest.raises(Exception, match=r"magic bytes|Parquet"):
            pq.read_metadata(table)
    r = dipsim("run", "baseline", "--runs", 100, "--out", out)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["base"]


def test_two_runs_on_one_folder_the_second_refuses_until_the_first_is_killed(tmp_path):
    out = tmp_path / "base"
    lock = tmp_path / ".base.lock"
    with started("run", "baseline", "--runs", 2_000_000, "--out", out) as first:
        wait_for(lambda: lock.is_file() and f"pid {first.pid}:" in lock.read_text(), "the first run's lock", first)
        kill(first, signal.SIGSTOP)  # hold it there, lock and all
        one_clear_message(
            dipsim("run", "baseline", "--runs", 100, "--out", out), out, f"pid {first.pid}", "another dipsim process"
        )
        one_clear_message(dipsim("sweep", write_sweep(tmp_path, SMALL), "--out", out), out, f"pid {first.pid}")
        kill(first)
    assert not out.exists()
    r = dipsim("run", "baseline", "--runs", 100, "--out", out)
    assert r.returncode == 0, r.stderr


def test_two_sweeps_on_one_folder_the_second_refuses_and_resume_finishes_after_a_kill(tmp_path):
    f = write_sweep(
        tmp_path,
        SMALL.replace("samples = 260", "samples = 3000")
        .replace("replications = 7", "replications = 200")
        .replace("chunk = 300", "chunk = 20000"),
    )  # 600,000 runs, 30 parts
    out = tmp_path / "sweep"
    with started("sweep", f, "--out", out, "--workers", 2, "--pool", "processes") as first:
        wait_for(lambda: len(list((out / "runs").glob("part-*.parquet"))) >= 2, "two parts", first)
        kill(first, signal.SIGSTOP)
        one_clear_message(dipsim("sweep", f, "--out", out, "--resume"), out, f"pid {first.pid}")
        one_clear_message(dipsim("sweep", f, "--out", out, "--force"), out, f"pid {first.pid}")
        kill(first)
    done = len(list((out / "runs").glob("part-*.parquet")))
    assert 2 <= done < 30
    r = dipsim("sweep", f, "--out", out, "--resume")
    assert r.returncode == 0, r.stderr
    assert f"{600_000 - done * 20_000} runs in" in r.stdout and f"{done * 20_000} runs already done" in r.stdout
    assert pq.read_table(out / "runs", columns=["run"])["run"].to_pylist() == list(range(600_000))
