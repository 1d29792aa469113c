"""The outcome space drawn: every package in the two governments' utility coordinates, with
the status quo, the Pareto frontier, the bargaining solutions, what each public would
ratify, the outside power's utility as colour, and where runs ended. With more than two
governments, one panel per pair of them: the packages projected on their two utilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dipsim.analysis.interpretation.outcome_space import ratifiable, solutions
from dipsim.analysis.interpretation.solutions import pareto_frontier, pareto_set
from dipsim.analysis.presentation.plots import ACTOR_COLOURS, _save, colour, figure
from dipsim.sim.preferences import Tables


def draw(
    ax,
    tables: Tables,
    row: int = 0,
    agreed: dict[int, tuple[int, int]] | None = None,
    offers: dict[str, int] | None = None,
) -> None:
    """Draw the outcome space on an axis. ``agreed``: package -> (treaties, agreed but not
    ratified) over runs; ``offers``: party id -> the package it has standing. At a table of
    more than two, the first two governments' panel (:func:`draw_pair`)."""
    ids = tables.party_ids
    if len(ids) > 2:
        draw_pair(ax, tables, 0, 1, row, agreed)
        for k, pid in enumerate(ids):
            x = (offers or {}).get(pid, -1)
            if x >= 0:
                u = [p.utility[row][x] for p in tables.parties[:2]]
                ax.scatter(
                    *u,
                    marker="P",
                    s=140,
                    color=colour(pid, k),
                    edgecolors="white",
                    zorder=7,
                    label=f"{tables.labels[pid]}'s offer",
                )
        return
    u0, u1 = tables.parties[0].utility[row], tables.parties[1].utility[row]
    d = [float(p.reservation[row]) for p in tables.parties]
    usa = tables.outside.utility[row] if tables.outside_id else np.zeros_like(u0)
    sc = ax.scatter(u0, u1, c=usa, cmap="cividis", s=22, alpha=0.85, edgecolors="none", zorder=2)
    if tables.outside_id:
        bar = ax.figure.colorbar(sc, ax=ax, pad=0.01)
        bar.set_label(f"{tables.labels[tables.outside_id]}'s utility of the package (utility units)")
    front = pareto_frontier(u0, u1)
    ax.plot(u0[front], u1[front], color="black", lw=1, zorder=3, label="Pareto frontier")
    ax.axvline(d[0], color=colour(ids[0]), lw=0.8, ls=":")
    ax.axhline(d[1], color=colour(ids[1]), lw=0.8, ls=":")
    ax.scatter([d[0]], [d[1]], marker="X", s=120, color="black", zorder=5, label="status quo (no agreement)")
    for k, pid in enumerate(ids):
        ok = ratifiable(tables, k, row)
        public = ACTOR_COLOURS.get(f"public_{pid}", colour(f"public_{pid}", k + 3))
        ax.scatter(
            u0[ok],
            u1[ok],
            s=70 + 40 * k,
            facecolors="none",
            edgecolors=public,
            lw=1.2,
            zorder=3,
            label=f"{tables.public_labels[k]} would likely ratify",
        )
    markers = {"Nash": "*", "Kalai-Smorodinsky": "D", "utilitarian": "^"}
    for name, k in solutions(tables, row).items():
        ax.scatter(
            [u0[k]],
            [u1[k]],
            marker=markers[name],
            s=170,
            color="white",
            edgecolors="black",
            lw=1.3,
            zorder=6,
            label=f"{name} solution",
        )
    if agreed:
        total = max(sum(t + n for t, n in agreed.values()), 1)
        for k, (treaties, rejected) in agreed.items():
            size = 80 + 900 * (treaties + rejected) / total
            ax.scatter([u0[k]], [u1[k]], s=size, facecolors="none", edgecolors="#CC79A7", lw=2, zorder=4)
            ax.annotate(
                f"{treaties} treaties, {rejected} rejected",
                (u0[k], u1[k]),
                xytext=(8, -14),
                textcoords="offset points",
                fontsize=7,
                color="#CC79A7",
            )
        ax.scatter([], [], s=120, facecolors="none", edgecolors="#CC79A7", lw=2, label="where runs ended (size: runs)")
    if offers:
        for k, pid in enumerate(ids):
            x = offers.get(pid, -1)
            if x >= 0:
                ax.scatter(
                    [u0[x]],
                    [u1[x]],
                    marker="P",
                    s=160,
                    color=colour(pid, k),
                    edgecolors="white",
                    zorder=7,
                    label=f"{tables.labels[pid]}'s offer",
                )
    ax.set_xlabel(f"{tables.labels[ids[0]]}'s utility (utility units)")
    ax.set_ylabel(f"{tables.labels[ids[1]]}'s utility (utility units)")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.85)


def draw_pair(
    ax,
    tables: Tables,
    i: int,
    j: int,
    row: int = 0,
    agreed: dict[int, tuple[int, int]] | None = None,
    legend=True,
    front: np.ndarray | None = None,
) -> None:
    """One pair's panel at a table of more than two: every package at (u_i, u_j), the
    packages no other improves on for every government (the n-sided Pareto set, which a
    projection cannot draw as a line), those every public would likely ratify, the status
    quo's lines, the bargaining solutions of the whole table and where runs ended."""
    ids = tables.party_ids
    u = np.array([p.utility[row] for p in tables.parties])
    d = [float(p.reservation[row]) for p in tables.parties]
    x, y = u[i], u[j]
    colour_by = tables.outside.utility[row] if tables.outside_id else None
    shade = {"c": colour_by, "cmap": "cividis"} if colour_by is not None else {"color": "#999999"}
    ax.scatter(x, y, **shade, s=14, alpha=0.6, edgecolors="none", zorder=2)
    front = pareto_set(u) if front is None else front  # (the same in every panel: found once by the caller)
    ax.scatter(
        x[front],
        y[front],
        s=26,
        facecolors="none",
        edgecolors="black",
        lw=0.9,
        zorder=3,
        label="no package better for every government",
    )
    every = np.ones(u.shape[1], bool)
    for k in range(len(ids)):
        every &= ratifiable(tables, k, row)
    ax.scatter(
        x[every],
        y[every],
        s=60,
        facecolors="none",
        edgecolors="#009E73",
        lw=1.2,
        zorder=3,
        label="every public would likely ratify",
    )
    ax.axvline(d[i], color=colour(ids[i], i), lw=0.8, ls=":")
    ax.axhline(d[j], color=colour(ids[j], j), lw=0.8, ls=":")
    ax.scatter([d[i]], [d[j]], marker="X", s=90, color="black", zorder=5, label="status quo (no agreement)")
    markers = {"Nash": "*", "Kalai-Smorodinsky": "D", "utilitarian": "^"}
    for name, k in solutions(tables, row).items():
        ax.scatter(
            [x[k]],
            [y[k]],
            marker=markers[name],
            s=130,
            color="white",
            edgecolors="black",
            lw=1.2,
            zorder=6,
            label=f"{name} solution",
        )
    if agreed:
        total = max(sum(t + n for t, n in agreed.values()), 1)
        for k, (treaties, rejected) in agreed.items():
            ax.scatter(
                [x[k]],
                [y[k]],
                s=60 + 600 * (treaties + rejected) / total,
                facecolors="none",
                edgecolors="#CC79A7",
                lw=2,
                zorder=4,
            )
        ax.scatter([], [], s=90, facecolors="none", edgecolors="#CC79A7", lw=2, label="where runs ended (size: runs)")
    ax.set_xlabel(f"{tables.labels[ids[i]]}'s utility", fontsize=8)
    ax.set_ylabel(f"{tables.labels[ids[j]]}'s utility", fontsize=8)
    ax.grid(alpha=0.25)
    if legend:
        ax.legend(fontsize=6.5, loc="lower left", framealpha=0.85)


def outcome_space_plot(tables: Tables, title: str, path: Path, agreed=None, offers=None) -> Path:
    n = len(tables.party_ids)
    if n > 2:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        cols = min(3, len(pairs))
        rows = -(-len(pairs) // cols)
        fig, axes = figure(nrows=rows, ncols=cols, figsize=(5.2 * cols, 4.6 * rows), squeeze=False)
        front = pareto_set(np.array([p.utility[0] for p in tables.parties]))
        for a, (i, j) in enumerate(pairs):
            draw_pair(axes.flat[a], tables, i, j, 0, agreed, legend=a == 0, front=front)
        for ax in list(axes.flat)[len(pairs) :]:
            ax.set_visible(False)
        suffix = f" (colour: {tables.labels[tables.outside_id]}'s utility)" if tables.outside_id else ""
        fig.suptitle(
            f"{title}\nthe outcome space: {tables.space.size} packages, seen in pairs of the {n} governments{suffix}",
            fontsize=10,
        )
        return _save(fig, path)
    fig, ax = figure(figsize=(9.5, 7))
    draw(ax, tables, 0, agreed, offers)
    ax.set_title(f"{title}\nthe outcome space: {tables.space.size} packages")
    return _save(fig, path)
