"""Plots of one scenario's runs and of several scenarios side by side.

Every actor has one colour in every plot, from the Okabe-Ito palette that readers with
colour-blindness can tell apart (Okabe and Ito 2008).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dipsim.analysis.experiments.summary import RunStats, wilson

OKABE_ITO = ["#D55E00", "#0072B2", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
ACTOR_COLOURS = {
    "russia": "#D55E00",  # vermillion
    "japan": "#0072B2",  # blue
    "usa": "#009E73",  # bluish green
    "china": "#CC79A7",  # reddish purple
    "public_russia": "#E69F00",  # orange
    "public_japan": "#56B4E9",  # sky blue
}
NEUTRAL = "#7f7f7f"
OUTCOME = "#000000"  # the treaty, in plots that are not about one actor
AGREED = "#b0b0b0"  # agreed by the governments, not ratified


def colour(actor: str, order: int = 0) -> str:
    return ACTOR_COLOURS.get(actor, OKABE_ITO[(order + 5) % len(OKABE_ITO)])


# Settings for writing the files, applied only while saving (matplotlib.rc_context), so that
# importing or using these modules leaves matplotlib's global settings and backend alone.
SAVING = {"svg.hashsalt": "dipsim"}  # the same SVG for the same figure


def figure(nrows: int = 1, ncols: int = 1, **kwargs):
    """A new figure and its axes, as matplotlib.pyplot.subplots gives them, but outside
    pyplot: no backend is chosen, no figure is registered, none needs closing."""
    figsize = kwargs.pop("figsize", None)
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def _save(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG and as SVG beside it; return the PNG's path."""
    with matplotlib.rc_context(SAVING):
        fig.tight_layout()
        fig.savefig(path, dpi=120, metadata={"Software": None})
        fig.savefig(path.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
    return path


def _legend_or_note(ax, **kwargs) -> None:
    """A legend, or a note saying why the panel is empty (talks that ended at once)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)
    else:
        ax.text(0.5, 0.5, "no offers standing in any round", ha="center", va="center", transform=ax.transAxes)


def _band(ax, q: pd.DataFrame, label: str, col: str) -> None:
    """A median line and a 10-90% band from per-round quantiles (frames.round_quantiles)."""
    if q.dropna(how="all").empty:
        return
    ax.plot(q.index, q[0.5], color=col, label=f"{label} (median)", lw=2)
    ax.fill_between(q.index, q[0.1], q[0.9], color=col, alpha=0.2, lw=0, label=f"{label} (10-90%)")


def offers_plot(
    bands: dict[str, pd.DataFrame],
    party_ids: list[str],
    actors: list[str],
    labels: dict[str, str],
    title: str,
    path: Path,
) -> Path:
    """Each side's standing offer, valued by every actor, round by round."""
    fig, axes = figure(1, len(party_ids), figsize=(6 * len(party_ids), 4.2), sharey=True)
    for ax, p in zip(np.atleast_1d(axes), party_ids):
        for j, a in enumerate(actors):
            _band(ax, bands[f"offer_{p}_utility_{a}"], labels[a], colour(a, j))
        ax.set_title(f"{labels[p]}'s offers")
        ax.set_xlabel("round")
        ax.set_ylabel("utility of the offer (utility units)")
        ax.grid(alpha=0.3)
        _legend_or_note(ax, fontsize=8, loc="best")
    fig.suptitle(f"{title}: offers by round (median and 10-90% band over runs)")
    return _save(fig, path)


def actions_plot(
    bands: dict[str, pd.DataFrame],
    party_ids: list[str],
    outside: str | None,
    labels: dict[str, str],
    public_labels: dict[str, str],
    title: str,
    path: Path,
) -> Path:
    """The outside power's pressure and rhetoric, and each public's acceptance of each
    side's standing offer, round by round."""
    fig, axes = figure(1, 1 + len(party_ids), figsize=(5.2 * (1 + len(party_ids)), 4.2))
    ax = axes[0]
    if outside:
        _band(ax, bands[f"{outside}_pressure"], f"{labels[outside]} pressure", colour(outside))
        by_round = bands[f"{outside}_rhetoric"][0.5]
        ax.plot(by_round.index, by_round.values, color="black", ls=":", label=f"{labels[outside]} rhetoric (median)")
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no outside power in this scenario", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("Outside power's actions")
    ax.set_xlabel("round")
    ax.set_ylabel("level (0 = none, 1 = full)")
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    for ax, q in zip(axes[1:], party_ids):
        for p in party_ids:
            _band(ax, bands[f"public_{p}_accepts_{q}_offer"], public_labels[p], colour(f"public_{p}"))
        ax.set_title(f"Publics' acceptance of {labels[q]}'s offer")
        ax.set_xlabel("round")
        ax.set_ylabel("share accepting (0 to 1)")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
        _legend_or_note(ax, fontsize=8)
    fig.suptitle(f"{title}: what the USA did and how the publics saw the offers")
    return _save(fig, path)


def terms_plot(
    stats: RunStats,
    issues: list[str],
    issue_labels: dict[str, str],
    options: dict[str, list[str]],
    title: str,
    path: Path,
) -> Path:
    """Share of runs ending with each option of each issue: in a treaty, or agreed by the
    governments but not ratified."""
    fig, axes = figure(1, len(issues), figsize=(4.2 * len(issues), 4.2))
    n, counts = stats.runs, stats.counts
    agreed = counts[(counts["agreed_package"] >= 0) & ~counts["treaty"]]
    for ax, issue in zip(np.atleast_1d(axes), issues):
        opts = options[issue]
        treaty_share = stats.tally(f"terms_{issue}").reindex(opts, fill_value=0) / n
        agreed_terms = agreed["agreed_label"].str.split(" / ").str[issues.index(issue)]
        agreed_share = agreed["runs"].groupby(agreed_terms).sum().reindex(opts, fill_value=0) / n
        y = np.arange(len(opts))
        ax.barh(y, treaty_share.values, color=OUTCOME, label="treaty")
        ax.barh(y, agreed_share.values, left=treaty_share.values, color=AGREED, label="agreed, not ratified")
        ax.set_yticks(y, opts)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of runs")
        ax.set_title(issue_labels[issue])
        ax.grid(axis="x", alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{title}: terms of the packages agreed ({n} runs)")
    return _save(fig, path)


def reasons_plot(stats: RunStats, title: str, path: Path) -> Path:
    from matplotlib.patches import Patch

    counts = stats.tally("reason")
    fig, ax = figure(figsize=(10, 0.5 * len(counts) + 2.0))
    share = counts / stats.runs
    colours = [OUTCOME if r == "treaty" else NEUTRAL for r in share.index]
    ax.barh(share.index, share.values, color=colours)
    for y, (s, c) in enumerate(zip(share.values, counts.values)):
        ax.text(s + 0.01, y, f"{c} runs", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("share of runs")
    ax.set_ylabel("how the run ended")
    ax.legend(
        handles=[Patch(color=OUTCOME, label="treaty"), Patch(color=NEUTRAL, label="no treaty")],
        fontsize=8,
        loc="lower right",
    )
    ax.set_title(f"{title}\nhow the runs ended ({stats.runs} runs)")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


# --------------------------------------------------------------------------- comparison


def treaty_probability_plot(stats: dict[str, RunStats], path: Path) -> Path:
    """Left: each scenario's treaty rate with its 95% interval, and over it the spread of
    the chance of a treaty across the worlds its runs drew (median, 5-95%). Right: that
    spread in full, as the share of worlds whose chance is at most x (an ECDF: a scenario
    whose worlds all fail sits at 1 from x = 0)."""
    names = list(stats)
    rates, lows, highs, medians, p05, p95 = [], [], [], [], [], []
    for name in names:
        k, n = stats[name].treaties, stats[name].runs
        lo, hi = wilson(k, n)
        rates.append(k / n)
        lows.append(max(0.0, k / n - lo))
        highs.append(max(0.0, hi - k / n))
        spread = stats[name].world_spread()
        medians.append(spread["chance_median"])
        p05.append(spread["chance_interval"][0])
        p95.append(spread["chance_interval"][1])
    fig, (ax, right) = figure(1, 2, figsize=(max(11, 2.2 * len(names) + 5), 4.8))
    x = np.arange(len(names))
    ax.bar(x, rates, color=OUTCOME, alpha=0.8, label="treaty rate")
    ax.errorbar(x, rates, yerr=[lows, highs], fmt="none", ecolor="black", capsize=4, label="95% CI (Wilson)")
    ax.errorbar(
        x + 0.25,
        medians,
        yerr=[np.subtract(medians, p05), np.subtract(p95, medians)],
        fmt="D",
        color=OKABE_ITO[5],
        ms=5,
        capsize=3,
        label="chance over worlds: median, 5-95%",
    )
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_ylabel("probability of a ratified treaty")
    ax.set_xlabel("scenario")
    top = max([r + h for r, h in zip(rates, highs)] + p95)
    ax.set_ylim(0, max(0.05, min(1.0, top * 1.25)))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Treaty probability by scenario")
    for i, name in enumerate(names):
        chance = np.sort(np.concatenate(stats[name].chances)) if stats[name].chances else np.zeros(0)
        if chance.size:
            right.step(
                chance,
                np.arange(1, chance.size + 1) / chance.size,
                where="post",
                lw=1.6,
                color=OKABE_ITO[i % len(OKABE_ITO)],
                label=name,
            )
    right.set_xlabel("chance of a treaty in a world (that both publics ratify)")
    right.set_ylabel("share of worlds with at most this chance")
    right.set_xlim(left=-0.02 * max(right.get_xlim()[1], 0.05))  # a scenario whose worlds all fail: at 1 from 0
    right.set_ylim(0, 1.02)
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="lower right")
    right.set_title("How the chance spreads over the worlds drawn")
    return _save(fig, path)


def doubts_plot(table: pd.DataFrame, title: str, path: Path, top: int = 15) -> Path:
    """The uncertain beliefs that move the chance of a treaty most: each one's rank
    correlation with the world's chance, with its 95% interval, strongest at the top."""
    t = table.dropna(subset=["rho"]).head(top).iloc[::-1]
    fig, ax = figure(figsize=(10, 0.34 * max(len(t), 1) + 1.8))
    y = np.arange(len(t))
    colours = [OKABE_ITO[1] if r > 0 else OKABE_ITO[0] for r in t["rho"]]
    ax.barh(y, t["rho"], color=colours, xerr=[t["rho"] - t["low"], t["high"] - t["rho"]], capsize=2)
    ax.set_yticks(y, [b if len(b) <= 60 else "..." + b[-57:] for b in t["belief"]], fontsize=7)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlim(-1, 1)
    ax.set_xlabel("rank correlation with the world's chance of a treaty (95% CI)")
    ax.set_ylabel("uncertain belief (key path)")
    ax.grid(axis="x", alpha=0.3)
    n = int(table["n"].iloc[0]) if len(table) else 0
    ax.set_title(f"{title}\nthe doubts that matter: which beliefs move the chance of a treaty ({n:,} worlds)")
    if not len(t):
        ax.text(0, 0, "the chance is the same in every world", ha="center", va="center")
    return _save(fig, path)


def outcome_shares_plot(
    stats: dict[str, RunStats], issue: str, options: list[str], issue_label: str, issue_index: int, path: Path
) -> Path:
    """Stacked shares of runs by the option the governments agreed on: solid where the
    treaty was ratified, hatched where a public rejected it; grey where nothing was agreed."""
    from matplotlib.patches import Patch

    names = list(stats)
    cmap = matplotlib.colormaps["viridis"]  # ordered options, perceptually uniform, no grey
    cols = [cmap(v) for v in np.linspace(0.05, 0.95, len(options))]
    fig, ax = figure(figsize=(max(7, 1.4 * len(names)), 4.8))
    x = np.arange(len(names))
    bottom = np.zeros(len(names))

    def stack(share, **style):
        ax.bar(x, share, bottom=bottom, **style)
        bottom[:] += share

    counts = {n: s.counts for n, s in stats.items()}

    def share(name: str, rows: pd.Series) -> float:
        return counts[name].loc[rows, "runs"].sum() / stats[name].runs

    agreed = {
        n: c["agreed_label"].str.split(" / ").str[issue_index].where(c["agreed_package"] >= 0)
        for n, c in counts.items()
    }
    for opt, c in zip(options, cols):
        stack(np.array([share(n, counts[n][f"terms_{issue}"] == opt) for n in names]), color=c)
        rejected = [share(n, (agreed[n] == opt) & ~counts[n]["treaty"]) for n in names]
        stack(np.array(rejected), color=c, alpha=0.35, hatch="//", edgecolor=c)
    stack(np.array([share(n, counts[n]["agreed_package"] < 0) for n in names]), color="#d9d9d9")
    handles = [Patch(color=c, label=o) for o, c in zip(options, cols)]
    handles += [
        Patch(facecolor="white", edgecolor="black", hatch="//", label="hatched: agreed, not ratified"),
        Patch(color="#d9d9d9", label="no agreement"),
    ]
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_ylabel("share of runs")
    ax.set_xlabel("scenario")
    ax.set_ylim(0, 1)
    ax.legend(handles=handles, title=issue_label, fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(f"{issue_label}: terms agreed, by scenario\n(solid: ratified treaty)")
    return _save(fig, path)


def utilities_plot(stats: dict[str, RunStats], actors: list[str], labels: dict[str, str], path: Path) -> Path:
    names = list(stats)
    fig, ax = figure(figsize=(max(7, 1.6 * len(names)), 4.8))
    width = 0.8 / len(actors)
    x = np.arange(len(names))
    for j, a in enumerate(actors):
        ci = [stats[n].utility(a) for n in names]
        means = np.array([s[0] for s in ci])
        err = np.array([[s[0] - s[1] for s in ci], [s[2] - s[0] for s in ci]])
        ax.bar(
            x + (j - (len(actors) - 1) / 2) * width,
            means,
            width,
            color=colour(a, j),
            yerr=err,
            capsize=3,
            label=labels[a],
        )
    ax.set_xticks(x, names, rotation=25, ha="right")
    ax.set_ylabel("mean utility of the outcome (utility units)")
    ax.set_xlabel("scenario")
    ax.axhline(0, color="black", lw=0.8)
    ax.legend(fontsize=8, title="actor (95% CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Each actor's utility by scenario")
    return _save(fig, path)


def positions_plot(table: pd.DataFrame, spec, path: Path) -> Path:
    """Expected utility model: each stakeholder's position and the forecasts, by round."""
    fig, ax = figure(figsize=(9, 5))
    markers = "osD^v<>p"
    for j, (key, st) in enumerate(spec.stakeholders.items()):
        # eight colour-blind-safe colours; beyond eight, a dashed line and another marker
        ax.plot(
            table["round"],
            table[key],
            color=OKABE_ITO[j % 8],
            ls="-" if j < 8 else "--",
            marker=markers[j % 8],
            ms=4,
            lw=1.2,
            alpha=0.8,
            label=st.label,
        )
    ax.plot(table["round"], table["mean"], color="black", lw=2.5, ls="--", label="weighted mean")
    ax.plot(table["round"], table["forecast"], color="black", lw=3, label="forecast (pairwise winner)")
    ax.plot(table["round"], table["median"], color="#bbbbbb", lw=1.5, ls=":", label="weighted median")
    ax.set_xlabel("round")
    ax.set_ylabel(spec.dimension.label)
    ax.set_ylim(
        spec.dimension.low - 0.05 * (spec.dimension.high - spec.dimension.low),
        spec.dimension.high + 0.05 * (spec.dimension.high - spec.dimension.low),
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left")
    ax.set_title(f"{spec.title}\npositions by round")
    return _save(fig, path)


def backcast_plot(table: pd.DataFrame, path: Path) -> Path:
    fig, axes = figure(1, 2, figsize=(13, 4.6))
    x = np.arange(len(table))
    ax = axes[0]
    p = table["treaty_probability"].to_numpy()
    err = [np.maximum(0, p - table["ci_low"]), np.maximum(0, table["ci_high"] - p)]
    ax.errorbar(x, p, yerr=err, fmt="o-", color=OUTCOME, capsize=4, label="model: treaty probability (95% CI)")
    arrows = {"up": "\u2191", "down": "\u2193", "same": "=", "start": "\u2022"}
    top = max(0.05, float(table["ci_high"].max()) * 1.45)
    for i, r in table.iterrows():
        colour = "#000000" if r["agrees"] in (True, None) else "#CC79A7"
        ax.text(
            i,
            top * 0.97,
            f"history {arrows[r['history_direction']]}\nmodel {arrows[r['model_direction']]}",
            ha="center",
            va="top",
            fontsize=8,
            color=colour,
        )
    ax.set_xticks(x, table["year"].astype(str))
    ax.set_ylim(0, top)
    ax.set_xlabel("year")
    ax.set_ylabel("probability of a ratified treaty")
    ax.legend(fontsize=8, loc="center left")
    ax.grid(alpha=0.3)
    ax.set_title("Treaty prospects: directions (black agrees, purple disagrees)")
    ax = axes[1]
    ax.plot(
        x, table["history_islands"], "s--", color="#CC79A7", ms=13, mfc="none", mew=2, label="history: islands on offer"
    )
    ax.plot(x, table["model_islands"], "o-", color=OUTCOME, label="model: most islands in a package both accept")
    ax.set_xticks(x, table["year"].astype(str))
    ax.set_ylim(-0.2, 4.2)
    ax.set_xlabel("year")
    ax.set_ylabel("islands (0 none, 2 the 1956 formula, 4 all)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Islands on the table")
    fig.suptitle("Backcast: the model against history, 1956-2022")
    return _save(fig, path)
