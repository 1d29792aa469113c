"""The numbers a reader wants first: treaty rate with its interval, common packages,
mean utilities, why talks failed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd  # imported where used: `dipsim sweep` reads wilson() from this module and needs no pandas

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Wilson 1927); (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


# How a run ended, in columns of few values (with the terms_* columns): runs are
# counted by the combinations that occur.
COUNTED = ("treaty", "reason", "agreed_package", "agreed_label", "package_label")
TREATY = "treaty"  # sim.protocol.reason_label(TREATY)
FAILED = "ratification failed"  # how the labels of a package agreed but not ratified begin
# The worlds kept for asking which uncertain beliefs matter (runs are alike, so the first
# ones are a fair sample): enough for rank correlations within about +-0.015.
WORLDS_KEPT = 20_000


def is_belief_column(column: str) -> bool:
    """A column of runs.parquet that holds a drawn belief: its key path (the only columns
    with a dot in their names)."""
    return "." in column


def doubts(worlds: pd.DataFrame, outcome: str = "treaty_chance", z: float = Z95) -> pd.DataFrame:
    """Which uncertain beliefs move the chance of a treaty most, from the drawn worlds
    themselves (given-data sensitivity): each belief's (each list's) Spearman rank
    correlation with the world's chance of a treaty, with a 95% interval (Fisher's z with Bonett and Wright's
    variance, 2000), strongest first. A belief whose worlds all give the same chance, or
    a chance that is the same in every world, gets no correlation (NaN)."""
    import pandas as pd

    # the entries of a list share the list's quantile (sim.worlds), so they rank the worlds
    # alike: one column speaks for the list, named by the list's key path
    groups: dict[str, str] = {}
    for c in worlds.columns:
        if is_belief_column(c):
            table, _, entry = c.rpartition(".values.")
            groups.setdefault(f"{table}.values" if entry.isdigit() else c, c)
    beliefs = list(groups)
    n = len(worlds)
    if not beliefs or n < 10:
        return pd.DataFrame(columns=["belief", "rho", "low", "high", "n"])
    ranks = worlds[[*groups.values(), outcome]].rank().rename(columns={v: k for k, v in groups.items()})
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = ranks[beliefs].corrwith(ranks[outcome]).to_numpy(dtype=float)
        half = z * np.sqrt((1 + rho**2 / 2) / (n - 3))
        low, high = np.tanh(np.arctanh(rho) - half), np.tanh(np.arctanh(rho) + half)
    table = pd.DataFrame({"belief": beliefs, "rho": rho, "low": low, "high": high, "n": n})
    order = np.argsort(-np.nan_to_num(np.abs(rho), nan=-1.0), kind="stable")
    return table.iloc[order].reset_index(drop=True)


class RunStats:
    """What the summary and the plots need from a table of runs, gathered chunk by chunk
    so that no table of all runs is held: how many runs ended each way (``counts``: a
    row per treaty or not, reason, agreed package and terms; a few hundred rows at most,
    in the order the ways first occur) and each actor's utility's count, mean and sum of
    squared deviations (merged exactly, Chan, Golub and LeVeque 1983)."""

    def __init__(self, actors: list[str]):
        self.actors = list(actors)
        self.counts: pd.DataFrame | None = None
        self.moments = dict.fromkeys(self.actors, (0, 0.0, 0.0))
        self.end_rounds = 0
        self.chances: list[np.ndarray] = []  # each run's chance of a treaty in its world (8 bytes a run)
        self.worlds: pd.DataFrame | None = None  # the first WORLDS_KEPT runs' drawn beliefs and chance

    @classmethod
    def from_parquet(cls, path: Path, batch: int = 65_536) -> RunStats:
        """Read a runs.parquet a batch at a time, only the columns needed."""
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering holds on to what it read
        names = f.schema_arrow.names
        stats = cls([c.removeprefix("utility_") for c in names if c.startswith("utility_")])
        wanted = [
            c
            for c in names
            if _counted(c) or c.startswith("utility_") or c in ("end_round", "treaty_chance") or is_belief_column(c)
        ]
        for b in f.iter_batches(batch_size=batch, columns=wanted):
            stats.add(b.to_pandas())
        return stats

    def add(self, runs: pd.DataFrame) -> RunStats:
        import pandas as pd

        keys = [c for c in runs.columns if _counted(c)]
        new = runs.groupby(keys, sort=False, dropna=False).size().rename("runs").reset_index()
        if self.counts is not None:
            new = pd.concat([self.counts, new]).groupby(keys, sort=False, dropna=False, as_index=False)["runs"].sum()
        self.counts = new
        for a in self.actors:
            self.moments[a] = _merge(self.moments[a], runs[f"utility_{a}"].to_numpy(dtype=float))
        self.end_rounds += int(runs["end_round"].sum())
        if "treaty_chance" in runs:
            self.chances.append(runs["treaty_chance"].to_numpy(dtype=float))
            kept = 0 if self.worlds is None else len(self.worlds)
            if kept < WORLDS_KEPT:
                drawn = [c for c in runs.columns if is_belief_column(c)]
                part = runs[[*drawn, "treaty_chance"]].iloc[: WORLDS_KEPT - kept]
                self.worlds = (
                    part.reset_index(drop=True)
                    if self.worlds is None
                    else pd.concat([self.worlds, part], ignore_index=True)
                )
        return self

    @property
    def runs(self) -> int:
        return 0 if self.counts is None else int(self.counts["runs"].sum())

    @property
    def treaties(self) -> int:
        return 0 if self.counts is None else int(self.counts.loc[self.counts["treaty"], "runs"].sum())

    def tally(self, column: str, where: pd.Series | None = None) -> pd.Series:
        """Runs by ``column``'s value, most first (as Series.value_counts), of the rows of
        ``counts`` where ``where``."""
        rows = self.counts if where is None else self.counts[where]
        return (
            rows.groupby(column, sort=False)["runs"].sum().sort_values(ascending=False, kind="stable").rename("count")
        )

    def utility(self, actor: str, z: float = Z95) -> tuple[float, float, float]:
        """Mean utility of the outcome to ``actor`` and its normal-approximation 95% interval
        (NaN for an actor these runs do not have: a patron another scenario seats)."""
        if actor not in self.moments:
            return math.nan, math.nan, math.nan
        n, m, m2 = self.moments[actor]
        if n < 2:
            return m, m, m
        half = z * math.sqrt(m2 / (n - 1)) / math.sqrt(n)
        return m, m - half, m + half

    def agreed_counts(self) -> dict[int, tuple[int, int]]:
        """package -> (treaties, agreed but not ratified)."""
        out: dict[int, tuple[int, int]] = {}
        agreed = self.counts[self.counts["agreed_package"] >= 0]
        for (package, treaty), k in agreed.groupby(["agreed_package", "treaty"])["runs"].sum().items():
            t, f = out.get(int(package), (0, 0))
            out[int(package)] = (t + int(k), f) if treaty else (t, f + int(k))
        return out

    def summary(self) -> dict:
        n, treaties = self.runs, self.treaties
        lo, hi = wilson(treaties, n)
        return {
            "runs": n,
            "treaties": treaties,
            "treaty_rate": treaties / n if n else float("nan"),
            "treaty_rate_ci": (lo, hi),
            "treaty_packages": self.tally("package_label", self.counts["treaty"]).head(5),
            "agreed_packages": self.tally("agreed_label", self.counts["agreed_package"] >= 0).head(5),
            "utilities": {a: self.utility(a) for a in self.actors},
            "reasons": self.tally("reason"),
            "mean_end_round": self.end_rounds / n if n else float("nan"),
            **self.world_spread(),
        }

    def world_spread(self) -> dict:
        """How the chance of a treaty spreads over the runs' worlds: its mean (the treaty
        rate's expectation), median and 5-95% interval; the share of worlds in which no
        the governments agreed no package (the talks ended for want of a zone, at the
        deadline or by a walk-out); and which uncertain beliefs move it
        most (``doubts``, empty where no belief is uncertain)."""
        import pandas as pd

        chance = np.concatenate(self.chances) if self.chances else np.zeros(0)
        n = chance.size
        q05, q50, q95 = np.quantile(chance, [0.05, 0.5, 0.95]) if n else (float("nan"),) * 3
        reasons = self.tally("reason") if self.counts is not None else {}
        no_deal = sum(int(n) for r, n in reasons.items() if r != TREATY and not str(r).startswith(FAILED))
        return {
            "chance_mean": float(chance.mean()) if n else float("nan"),
            "chance_median": float(q50),
            "chance_interval": (float(q05), float(q95)),
            "worlds_without_deal": no_deal / self.runs if self.runs else float("nan"),
            "doubts": doubts(self.worlds if self.worlds is not None else pd.DataFrame()),
        }


def _counted(column: str) -> bool:
    return column in COUNTED or column.startswith("terms_")


def _merge(moments: tuple[int, float, float], values: np.ndarray) -> tuple[int, float, float]:
    """(count, mean, sum of squared deviations) of the values seen so far and ``values``."""
    n_a, mean_a, m2_a = moments
    n_b = values.size
    if n_b == 0:
        return moments
    mean_b = float(values.mean())
    m2_b = float(((values - mean_b) ** 2).sum())
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n


def summarise(runs: pd.DataFrame, actors: list[str]) -> dict:
    """The summary of a table of runs held in memory."""
    return RunStats(actors).add(runs).summary()


def summary_text(name: str, s: dict, labels: dict[str, str]) -> str:
    lo, hi = s["treaty_rate_ci"]
    lines = [
        f"{name}: {s['runs']} runs",
        f"  treaty rate      {s['treaty_rate']:.3f}  (95% CI {lo:.3f} to {hi:.3f}; {s['treaties']} treaties)",
        f"  mean end round   {s['mean_end_round']:.1f}",
        "  treaties signed (most common packages):",
    ]
    lines += [f"    {c:6d}  {p}" for p, c in s["treaty_packages"].items()] or ["    none"]
    lines.append("  packages the governments agreed (ratified or not):")
    lines += [f"    {c:6d}  {p}" for p, c in s["agreed_packages"].items()] or ["    none"]
    lines.append("  mean utility of the outcome (95% CI):")
    for a, (m, low, high) in s["utilities"].items():
        lines.append(f"    {labels.get(a, a):10s} {m:+.3f}  ({low:+.3f} to {high:+.3f})")
    lines.append("  how the runs ended:")
    lines += [f"    {c:6d}  {r}" for r, c in s["reasons"].items()]
    lines += world_lines(s)
    return "\n".join(lines)


def world_lines(s: dict, top: int = 5) -> list[str]:
    """The spread over worlds and the doubts that matter, where the scenario has
    uncertain beliefs (nothing where every run plays the same world)."""
    table = s["doubts"]
    if not len(table):
        return []
    lo, hi = s["chance_interval"]
    lines = [
        (
            f"  chance of a treaty over the worlds drawn: median {s['chance_median']:.3f}, 5-95% {lo:.3f} to "
            f"{hi:.3f}, mean {s['chance_mean']:.3f}"
        ),
        f"  worlds where the governments agreed no package: {s['worlds_without_deal']:.1%}",
        (
            f"  the doubts that move it most (rank correlation with the chance, 95% CI, {int(table['n'].iloc[0]):,} "
            "worlds):"
        ),
    ]
    shown = table.dropna(subset=["rho"]).head(top)
    lines += [f"    {r.rho:+.2f} ({r.low:+.2f} to {r.high:+.2f})  {r.belief}" for r in shown.itertuples()]
    if not len(shown):
        lines.append("    none: the chance is the same in every world")
    return lines


def comparison_table(summaries: dict[str, dict]) -> pd.DataFrame:
    rows = []
    for name, s in summaries.items():
        lo, hi = s["treaty_rate_ci"]
        row = {
            "scenario": name,
            "runs": s["runs"],
            "treaty_rate": s["treaty_rate"],
            "ci_low": lo,
            "ci_high": hi,
            "chance_median": s["chance_median"],
            "chance_p05": s["chance_interval"][0],
            "chance_p95": s["chance_interval"][1],
            "worlds_without_deal": s["worlds_without_deal"],
        }
        for a, (m, _, _) in s["utilities"].items():
            row[f"utility_{a}"] = m
        top = s["agreed_packages"]
        row["most_agreed_package"] = top.index[0] if len(top) else ""
        rows.append(row)
    import pandas as pd

    return pd.DataFrame(rows)
