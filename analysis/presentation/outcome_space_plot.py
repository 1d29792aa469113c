"""The outcome space drawn: every package in the two governments' utility coordinates, with
the status quo, the Pareto frontier, the bargaining solutions, what each public would
ratify, the outside power's utility as colour, and where runs ended. With more than two
governments, one panel per pair of them: the packages projected on their two utilities."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from dipsim.analysis.interpretation.outcome_space import ratifiable, solutions
from dipsim.analysis.interpretation.solutions import pareto_frontier, pareto_set
from dipsim.analysis.presentation.plots import ACTOR_COLOURS, _save, colour, figure
from dipsim.sim.preferences import Tables

MARKERS = {"Nash": "*", "Kalai-Smorodinsky": "D", "utilitarian": "^"}
ENDED = "#CC79A7"  # where runs ended


class Marks(NamedTuple):
    """What every panel of a table of more than two shares: the governments' utilities
    (parties, packages) and reservations, the n-sided Pareto set, the packages every
    public would likely ratify, the bargaining solutions of the whole table and the
    outside power's utility (None without one)."""

    u: np.ndarray
    d: list[float]
    front: np.ndarray
    every: np.ndarray
    found: dict[str, int]
    outside: np.ndarray | None


def marks(tables: Tables, row: int = 0) -> Marks:
    u = np.array([p.utility[row] for p in tables.parties])
    every = np.ones(u.shape[1], bool)
    for k in range(len(tables.parties)):
        every &= ratifiable(tables, k, row)
    d = [float(p.reservation[row]) for p in tables.parties]
    outside = tables.outside.utility[row] if tables.outside_id else None
    return Marks(u, d, pareto_set(u), every, solutions(tables, row), outside)


def _solutions(ax, x, y, found: dict[str, int], size: float, lw: float) -> None:
    for name, k in found.items():
        ax.scatter(
            [x[k]],
            [y[k]],
            marker=MARKERS[name],
            s=size,
            color="white",
            edgecolors="black",
            lw=lw,
            zorder=6,
            label=f"{name} solution",
        )


def _ended(ax, x, y, agreed: dict[int, tuple[int, int]], base: float, scale: float, annotate: bool) -> None:
    """Where runs ended, a circle per package sized by its runs (``agreed``: package ->
    (treaties, agreed but not ratified))."""
    total = max(sum(t + n for t, n in agreed.values()), 1)
    for k, (treaties, rejected) in agreed.items():
        size = base + scale * (treaties + rejected) / total
        ax.scatter([x[k]], [y[k]], s=size, facecolors="none", edgecolors=ENDED, lw=2, zorder=4)
        if annotate:
            ax.annotate(
                f"{treaties} treaties, {rejected} rejected",
                (x[k], y[k]),
                xytext=(8, -14),
                textcoords="offset points",
                fontsize=7,
                color=ENDED,
            )
    ax.scatter([], [], s=1.5 * base, facecolors="none", edgecolors=ENDED, lw=2, label="where runs ended (size: runs)")


def _offers(ax, tables: Tables, x, y, offers: dict[str, int] | None, size: float) -> None:
    """Each government's standing offer (``offers``: party id -> package, -1 for none)."""
    for k, pid in enumerate(tables.party_ids):
        j = (offers or {}).get(pid, -1)
        if j >= 0:
            ax.scatter(
                [x[j]],
                [y[j]],
                marker="P",
                s=size,
                color=colour(pid, k),
                edgecolors="white",
                zorder=7,
                label=f"{tables.labels[pid]}'s offer",
            )


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
        shared = marks(tables, row)
        draw_pair(ax, tables, 0, 1, shared, agreed)
        _offers(ax, tables, shared.u[0], shared.u[1], offers, 140)
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
    _solutions(ax, u0, u1, solutions(tables, row), 170, 1.3)
    if agreed:
        _ended(ax, u0, u1, agreed, 80, 900, annotate=True)
    _offers(ax, tables, u0, u1, offers, 160)
    ax.set_xlabel(f"{tables.labels[ids[0]]}'s utility (utility units)")
    ax.set_ylabel(f"{tables.labels[ids[1]]}'s utility (utility units)")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=7, loc="lower left", framealpha=0.85)


def draw_pair(
    ax,
    tables: Tables,
    i: int,
    j: int,
    shared: Marks,
    agreed: dict[int, tuple[int, int]] | None = None,
    legend=True,
) -> None:
    """One pair's panel at a table of more than two: every package at (u_i, u_j), the
    packages no other improves on for every government (the n-sided Pareto set, which a
    projection cannot draw as a line), those every public would likely ratify, the status
    quo's lines, the bargaining solutions of the whole table (``shared``, :func:`marks`,
    found once for every panel) and where runs ended."""
    ids = tables.party_ids
    x, y, d = shared.u[i], shared.u[j], shared.d
    shade = {"c": shared.outside, "cmap": "cividis"} if shared.outside is not None else {"color": "#999999"}
    ax.scatter(x, y, **shade, s=14, alpha=0.6, edgecolors="none", zorder=2)
    front, every = shared.front, shared.every
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
    _solutions(ax, x, y, shared.found, 130, 1.2)
    if agreed:
        _ended(ax, x, y, agreed, 60, 600, annotate=False)
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
        shared = marks(tables, 0)
        for a, (i, j) in enumerate(pairs):
            draw_pair(axes.flat[a], tables, i, j, shared, agreed, legend=a == 0)
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
