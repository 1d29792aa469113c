"""The README's quick start: its commands are the ones CI runs, and its main job works
and shows the directions theory and history expect."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_two_quick_start_commands_and_ci_runs_the_test_one():
    main_job, tests = quick_start()
    assert "dipsim compare" in main_job and "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_the_main_job_runs_and_shows_the_expected_directions(tmp_path):
    main_job, _ = quick_start()
    dipsim_part = main_job.split("&&")[-1].strip()
    args = shlex.split(dipsim_part)
    assert args[0] == ".venv/bin/dipsim"
    args[0] = str(Path(sys.executable).parent / "dipsim")
    out = tmp_path / "standard"
    args[args.index("--out") + 1] = str(out)
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    s = pd.read_csv(out / "summary.csv").set_index("scenario")["treaty_rate"]
    assert len(s) == 6 and (out / "treaty_probability.png").exists()
    # directions, not levels: in the article's picture US pressure blocks the deal (A L19);
    # without it (US disengagement), without sanctions to press on (sanctions lifted) or with
    # Japan content with the 1956 formula a treaty becomes more likely; under the 2020
    # constitutional ban no treaty transfers an island, and treaties are rarer than in the baseline.
    assert s["us_disengages"] > s["baseline"]
    assert s["sanctions_lifted"] > s["baseline"]
    assert s["japan_accepts_1956"] > s["baseline"]
    assert s["russian_hardline_public"] < s["baseline"]
    hard = pd.read_parquet(out / "russian_hardline_public" / "runs.parquet")
    assert (hard.loc[hard["treaty"], "terms_territory"] == "none").all()
