"""Every results folder records the software and the machine that made it
(environment.json, or a sweep's manifest), so that a user who gets other numbers on
another machine can see what differed."""

import json
import subprocess
import sys
from pathlib import Path

from dipsim.analysis.experiments import sweep_spec
from dipsim.analysis.experiments.sweep import run_sweep

from .test_sweep import SMALL, write_sweep

DIPSIM = str(Path(sys.executable).parent / "dipsim")
PACKAGES = {"numpy", "numba", "scipy", "mesa", "SALib", "pyarrow"}


def versions_of(env: dict) -> dict:
    import numpy

    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(env["packages"]) >= PACKAGES and env["packages"]["numpy"] == numpy.__version__
    assert env["platform"] and env["machine"] and env["numba_cpu"]
    assert "dispatched" in env["numpy_simd"]
    return env["packages"]


def test_run_compare_backcast_and_expected_utility_folders_record_their_environment(tmp_path):
    for args in (
        ["run", "us_disengages", "--runs", "30", "--out", str(tmp_path / "run")],
        ["compare", "baseline", "us_disengages", "--runs", "30", "--out", str(tmp_path / "cmp")],
        ["run", "eu_car_emissions", "--out", str(tmp_path / "eu")],
        ["backcast", "--runs", "10", "--out", str(tmp_path / "bc")],
    ):
        done = subprocess.run([DIPSIM, *args, "--quiet"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    for folder in ("run", "cmp", "cmp/baseline", "cmp/us_disengages", "eu", "bc"):
        versions_of(json.loads((tmp_path / folder / "environment.json").read_text()))


def test_a_sweep_manifest_records_where_it_started_and_each_resume(tmp_path):
    spec = sweep_spec.load(write_sweep(tmp_path, SMALL))
    out = tmp_path / "s"
    run_sweep(spec, out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    versions_of(manifest["environment"])
    assert "resumed" not in manifest
    next(iter(sorted((out / "runs").glob("part-*.parquet")))).unlink()
    run_sweep(spec, out, workers=1, resume=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["resumed"]) == 1 and manifest["complete"]
    versions_of(manifest["resumed"][0])
