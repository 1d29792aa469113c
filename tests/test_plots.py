"""The plotting modules leave matplotlib as they found it (a notebook keeps its backend,
its settings and its inline plots), and write the same SVG for the same figure."""

import subprocess
import sys

import pandas as pd

from dipsim.analysis.experiments.summary import RunStats
from dipsim.analysis.presentation import plots

from .conftest import ROOT

MODULES = ["plots", "figures", "outcome_space_plot", "sweep_plots", "report", "describe", "documents"]


def test_importing_and_drawing_leave_the_backend_and_settings_alone(tmp_path):
    code = f"""
import matplotlib
matplotlib.use("svg")                      # a backend other than Agg, as a notebook has its own
matplotlib.rcParams["font.size"] = 13      # and settings of its own
before = matplotlib.get_backend(), dict(matplotlib.rcParams)
for name in {MODULES!r}:
    __import__("dipsim.analysis.presentation." + name)
assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before, "import"

import pandas as pd
from pathlib import Path
from dipsim.analysis.experiments.summary import RunStats
from dipsim.analysis.presentation.plots import reasons_plot
runs = RunStats([]).add(pd.DataFrame({{"reason": ["treaty", "walked away"], "end_round": 3}}))
reasons_plot(runs, "t", Path({str(tmp_path)!r}) / "r.png")
assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before, "drawing"
import matplotlib.pyplot as plt
assert plt.get_fignums() == [], "a figure left in pyplot, where a notebook would show it"
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "r.png").stat().st_size > 0 and (tmp_path / "r.svg").stat().st_size > 0


def test_the_same_figure_gives_the_same_svg(tmp_path):
    runs = RunStats([]).add(
        pd.DataFrame({"reason": ["treaty", "walked away", "walked away", "deadline"], "end_round": 3})
    )
    a = plots.reasons_plot(runs, "same", tmp_path / "a.png").with_suffix(".svg")
    b = plots.reasons_plot(runs, "same", tmp_path / "b.png").with_suffix(".svg")
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
