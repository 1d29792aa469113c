"""The command line's results as JSON (``--json``): one document per command on standard
output, and nothing else there. Every document has ``command`` (which made it) and
``dipsim`` (the version); the rest depends on the command (README, "JSON output"):

- ``run``, ``compare``: ``engine``, ``out`` (the folder written) and ``scenarios``, a list
  with one entry per scenario. An entry of the bargaining model: ``name``, ``title``,
  ``protocol`` ("bargaining"), ``seed``, ``runs``, ``treaties``, ``treaty_rate``,
  ``treaty_rate_ci`` ([low, high], Wilson 95%), ``mean_end_round``, ``treaty_packages``
  and ``agreed_packages`` (the five most common: [{package, runs}]), ``utilities``
  ({actor: {label, mean, ci_low, ci_high}}), ``reasons`` ([{reason, runs}]). An entry of
  the expected utility model: ``name``, ``title``, ``protocol`` ("expected_utility"),
  ``rounds`` ([{round, mean, median, forecast, positions: {stakeholder: position}}]).
- ``check``: ``file``, ``valid`` (true; an invalid file is an error, exit status 2),
  ``scenario`` (the resolved scenario, as ``scenario.toml`` holds it), ``beliefs``
  (every table with a source: [{key, source, and its numbers as named in the file}]) and
  ``sources`` ({key: reference}).
- ``backcast``: ``runs`` (per year), ``seed``, ``out``, ``steps`` ([{year, event,
  history_direction, model_direction, agrees, treaty_probability, ci_low, ci_high,
  history_islands, model_islands, islands_agree, russia_best_gain, mean_end_round}]),
  ``agreeing`` and ``compared`` (directions that agree with history, of those compared).
- ``scenarios``: ``files`` ([{kind, argument, name, title, file}]): ``argument`` is what
  to type on the command line, ``name`` the file's own name (its results folder).

Numbers are JSON numbers; a number that does not exist (no history islands, say) is null.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from dipsim import __version__
from dipsim.analysis.presentation.describe import beliefs


def document(command: str, **fields) -> dict:
    return {"command": command, "dipsim": __version__, **fields}


def dumps(doc: dict) -> str:
    return json.dumps(_plain(doc), indent=2, ensure_ascii=False, allow_nan=False)


def _plain(value):
    """Plain JSON values: numpy numbers as Python numbers, NaN as null, paths as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _counts(series: pd.Series, name: str) -> list[dict]:
    return [{name: label, "runs": int(count)} for label, count in series.items()]


def bargaining_entry(scenario, summary: dict, labels: dict[str, str]) -> dict:
    """A scenario's summary (``summarise``), the numbers ``summary_text`` prints."""
    low, high = summary["treaty_rate_ci"]
    return {
        "name": scenario.name,
        "title": scenario.title,
        "protocol": "bargaining",
        "seed": scenario.run.seed,
        "runs": summary["runs"],
        "treaties": summary["treaties"],
        "treaty_rate": summary["treaty_rate"],
        "treaty_rate_ci": [low, high],
        "mean_end_round": summary["mean_end_round"],
        "treaty_packages": _counts(summary["treaty_packages"], "package"),
        "agreed_packages": _counts(summary["agreed_packages"], "package"),
        "utilities": {
            a: {"label": labels.get(a, a), "mean": m, "ci_low": lo, "ci_high": hi}
            for a, (m, lo, hi) in summary["utilities"].items()
        },
        "reasons": _counts(summary["reasons"], "reason"),
        "worlds": {
            "chance_mean": summary["chance_mean"],
            "chance_median": summary["chance_median"],
            "chance_interval": list(summary["chance_interval"]),
            "without_deal": summary["worlds_without_deal"],
            "doubts": [
                {"belief": r.belief, "rho": r.rho, "ci_low": r.low, "ci_high": r.high, "worlds": int(r.n)}
                for r in summary["doubts"].itertuples()
            ],
        },
    }


def expected_utility_entry(spec, table: pd.DataFrame) -> dict:
    return {
        "name": spec.name,
        "title": spec.title,
        "protocol": "expected_utility",
        "rounds": [
            {
                "round": int(r["round"]),
                "mean": r["mean"],
                "median": r["median"],
                "forecast": r["forecast"],
                "positions": {k: r[k] for k in spec.stakeholders},
            }
            for _, r in table.iterrows()
        ],
    }


def check_document(spec, file: Path) -> dict:
    return document(
        "check", file=file, valid=True, scenario=spec.resolved(), beliefs=beliefs(spec), sources=dict(spec.sources)
    )


def backcast_document(table: pd.DataFrame, runs: int, seed: int, out: Path) -> dict:
    agree = table["agrees"].dropna()
    return document(
        "backcast",
        runs=runs,
        seed=seed,
        out=out,
        steps=table.to_dict("records"),
        agreeing=int(agree.sum()),
        compared=len(agree),
    )
