"""The plots written beside a scenario's tables, a comparison's, and an expected utility
run's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dipsim.analysis.experiments.jobs import ScenarioResult
from dipsim.analysis.presentation import plots
from dipsim.analysis.presentation.outcome_space_plot import outcome_space_plot
from dipsim.sim.strategic import with_fixed_offer


def scenario_plots(result: ScenarioResult, folder: Path) -> list[Path]:
    """offers, actions, terms, reasons and the outcome space of one scenario's runs (the
    outcome space at the scenario's point values), and, where its beliefs are uncertain,
    the doubts that move the chance of a treaty most."""
    t, s = result.tables, result.scenario
    labels = dict(t.labels)
    public_labels = dict(zip(t.party_ids, t.public_labels))
    title = s.title
    seen = [a for a in result.actors if a != t.patron_id]  # the actors the per-round record values offers for
    columns = [f"offer_{p}_utility_{a}" for p in t.party_ids for a in seen]
    columns += [f"public_{p}_accepts_{q}_offer" for p in t.party_ids for q in t.party_ids]
    if t.outside_id:
        columns += [f"{t.outside_id}_pressure", f"{t.outside_id}_rhetoric"]
    bands = result.round_quantiles(columns)
    spread = result.stats.world_spread()
    doubts = [plots.doubts_plot(spread["doubts"], title, folder / "doubts.png")] if len(spread["doubts"]) else []
    return [
        *doubts,
        plots.offers_plot(bands, list(t.party_ids), seen, labels, title, folder / "offers.png"),
        plots.actions_plot(
            bands, list(t.party_ids), t.outside_id, labels, public_labels, title, folder / "actions.png"
        ),
        plots.terms_plot(
            result.stats,
            list(t.space.issues),
            {k: v.label for k, v in s.issues.items()},
            {k: v.options for k, v in s.issues.items()},
            title,
            folder / "terms.png",
        ),
        plots.reasons_plot(result.stats, title, folder / "reasons.png"),
        outcome_space_plot(with_fixed_offer(t), title, folder / "outcome_space.png", result.stats.agreed_counts()),
    ]


def comparison_plots(results: list[ScenarioResult], folder: Path) -> list[Path]:
    """Treaty probability, each issue's outcome shares and the actors' utilities, scenario
    beside scenario."""
    stats = {r.scenario.name: r.stats for r in results}
    first = results[0]
    written = [plots.treaty_probability_plot(stats, folder / "treaty_probability.png")]
    for i, (issue, spec) in enumerate(first.scenario.issues.items()):
        written.append(
            plots.outcome_shares_plot(stats, issue, spec.options, spec.label, i, folder / f"terms_{issue}.png")
        )
    actors = list(dict.fromkeys(a for r in results for a in r.actors))  # every scenario's, in order of appearance
    labels = {a: label for r in results for a, label in r.tables.labels.items()}
    written.append(plots.utilities_plot(stats, actors, labels, folder / "utilities.png"))
    return written


def expected_utility_plots(spec, table: pd.DataFrame, folder: Path) -> list[Path]:
    return [plots.positions_plot(table, spec, folder / "positions.png")]
