"""The plots written beside a scenario's tables, a comparison's, and an expected utility
run's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dipsim.analysis.experiments.jobs import ScenarioResult
from dipsim.analysis.interpretation.outcome_space import agreed_counts
from dipsim.analysis.presentation import plots
from dipsim.analysis.presentation.outcome_space_plot import outcome_space_plot


def scenario_plots(result: ScenarioResult, folder: Path) -> list[Path]:
    """offers, actions, terms, reasons and the outcome space of one scenario's runs."""
    t, s = result.tables, result.scenario
    labels = dict(t.labels)
    public_labels = dict(zip(t.party_ids, t.public_labels))
    title = s.title
    return [
        plots.offers_plot(result.rounds, list(t.party_ids), result.actors, labels, title, folder / "offers.png"),
        plots.actions_plot(result.rounds, list(t.party_ids), t.outside_id, labels, public_labels, title,
                           folder / "actions.png"),
        plots.terms_plot(result.runs, list(t.space.issues), {k: v.label for k, v in s.issues.items()},
                         {k: v.options for k, v in s.issues.items()}, title, folder / "terms.png"),
        plots.reasons_plot(result.runs, title, folder / "reasons.png"),
        outcome_space_plot(t, title, folder / "outcome_space.png", agreed_counts(result.runs)),
    ]


def comparison_plots(results: list[ScenarioResult], folder: Path) -> list[Path]:
    """Treaty probability, each issue's outcome shares and the actors' utilities, scenario
    beside scenario."""
    runs = {r.scenario.name: r.runs for r in results}
    first = results[0]
    written = [plots.treaty_probability_plot(runs, folder / "treaty_probability.png")]
    for i, (issue, spec) in enumerate(first.scenario.issues.items()):
        written.append(plots.outcome_shares_plot(runs, issue, spec.options, spec.label, i, folder / f"terms_{issue}.png"))
    written.append(plots.utilities_plot(runs, first.actors, dict(first.tables.labels), folder / "utilities.png"))
    return written


def expected_utility_plots(spec, table: pd.DataFrame, folder: Path) -> list[Path]:
    return [plots.positions_plot(table, spec, folder / "positions.png")]
