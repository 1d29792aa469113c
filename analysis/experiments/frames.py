"""Outcomes and round records as pandas tables (what runs.parquet and rounds.parquet hold)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dipsim.sim import protocol
from dipsim.sim.outcomes import Outcomes
from dipsim.sim.preferences import Tables
from dipsim.sim.space import NO_TREATY

def runs_frame(scenario_name: str, tables: Tables, outcomes: Outcomes, details: bool = True) -> pd.DataFrame:
    """One row per run. With ``details``, the outside power's pressure path and every
    ratification attempt are included as list columns."""
    space, ids, oid = tables.space, tables.party_ids, tables.outside_id
    labels = tuple(tables.labels[p] for p in ids)
    n = outcomes.seeds.shape[0]
    package, agreed = outcomes.package, outcomes.agreed
    reason_names = np.array([protocol.reason_label(c, labels) for c in protocol.REASON_CODES])
    package_labels = np.array([space.label(k) for k in range(space.size)] + ["no agreement"])
    cols: dict[str, object] = {
        "scenario": np.full(n, scenario_name),
        "run": np.arange(n),
        "seed": outcomes.seeds,
        "treaty": outcomes.treaty,
        "treaty_chance": outcomes.chance,
        "reason": reason_names[outcomes.reason],
        "end_round": outcomes.end_round,
        "package": package,
        "package_label": package_labels[package],
        "agreed_package": agreed,
        "agreed_label": package_labels[agreed],
    }
    for i, issue in enumerate(space.issues):
        options = np.array([*space.options[i], NO_TREATY])
        cols[f"terms_{issue}"] = options[np.where(package >= 0, space.choice[np.maximum(package, 0), i], -1)]
    for actor, values in outcomes.utilities(tables).items():
        cols[f"utility_{actor}"] = values
    if oid:
        cols[f"{oid}_pressure_total"] = outcomes.pressure_total
    cols["ratification_attempts"] = outcomes.attempts
    frame = pd.DataFrame(cols)
    if details:
        if oid:
            frame[f"{oid}_pressure_path"] = [row[: int(e)].tolist() for row, e in zip(outcomes.pressure_path, outcomes.end_round)]
        frame["ratifications"] = _ratification_lists(outcomes, ids, n)
    return frame


def _ratification_lists(outcomes: Outcomes, ids: tuple[str, str], n: int) -> list[list[dict]]:
    lists: list[list[dict]] = [[] for _ in range(n)]
    v = outcomes.votes
    for i in range(v["run"].shape[0]):
        lists[int(v["run"][i])].append({
            "round": int(v["round"][i]),
            "package": int(v["package"][i]),
            **{f"probability_{p}": float(v["probability"][i, k]) for k, p in enumerate(ids)},
            **{f"passed_{p}": bool(v["passed"][i, k]) for k, p in enumerate(ids)},
        })
    return lists


def rounds_frame(scenario_name: str, rounds: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per run and round, as the Mesa DataCollector records it."""
    frame = pd.DataFrame({k: np.asarray(v) for k, v in rounds.items()})
    frame.insert(0, "scenario", scenario_name)
    return frame
