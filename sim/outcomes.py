"""The record of many runs, as columns: what both engines produce."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import protocol
from .preferences import Tables
from .space import NO_PACKAGE


@dataclass
class Outcomes:
    seeds: np.ndarray  # (runs,) uint64
    reason: np.ndarray  # (runs,) protocol reason code
    end_round: np.ndarray  # (runs,)
    agreed: np.ndarray  # (runs,) last package the governments agreed, ratified or not
    attempts: np.ndarray  # (runs,) packages put to ratification
    chance: np.ndarray  # (runs,) chance the first package put to the ratifiers passes them all (0 if none)
    pressure_total: np.ndarray  # (runs,) the outside power's pressure summed over rounds
    pressure_path: np.ndarray  # (runs, rounds) its pressure in each round; NaN after the end
    votes: dict[str, np.ndarray]  # one row per ratification: run, round, package, probability, passed
    policy: np.ndarray | None = None  # (runs,) the option a strategic outside power chose (sim.strategic); None: reflex
    backing: np.ndarray | None = None  # (runs,) the offer a patron made (sim.strategic); None: no patron

    @property
    def treaty(self) -> np.ndarray:
        return self.reason == protocol.TREATY

    @property
    def package(self) -> np.ndarray:
        """The treaty's package, or -1 where there is none."""
        return np.where(self.treaty, self.agreed, NO_PACKAGE)

    def utilities(self, tables: Tables) -> dict[str, np.ndarray]:
        """Each actor's utility of the outcome (by its preferences, without pressure); the
        outside power's is net of the goodwill its pressure cost it."""
        package, treaty = np.maximum(self.package, 0), self.treaty
        value_at = tables.space.value_at
        out = {}
        for pid, p in zip(tables.party_ids, tables.parties):
            out[pid] = np.where(treaty, value_at(p.utility_terms, package), p.reservation)
        if tables.outside_id:
            o = tables.outside
            value = np.where(treaty, value_at(o.utility_terms, package), o.reservation)
            out[tables.outside_id] = value - o.goodwill_cost * self.pressure_total
        policy = tables.policy
        if policy is not None and policy.inducement is not None and self.policy is not None:
            _raise_no_deal(out, tables, treaty, tables.outside.target, self._chosen(policy.inducement, self.policy))
        patron = tables.patron
        if tables.patron_id and patron is not None:
            out[tables.patron_id] = np.where(treaty, value_at(patron.utility_terms, package), patron.reservation)
            if tables.backing is not None and self.backing is not None:
                from .strategic import offer_worth

                worth = offer_worth(tables, self._chosen(tables.backing.offer, self.backing))
                _raise_no_deal(out, tables, treaty, patron.target, worth)
        return out

    def _chosen(self, options: np.ndarray, chosen: np.ndarray) -> np.ndarray:
        """(runs,) each run's entry of ``options`` (rows: runs, or one for all; columns:
        options) at the option it was played with."""
        n = self.seeds.shape[0]
        return np.broadcast_to(options, (n, options.shape[1]))[np.arange(n), chosen]


def _raise_no_deal(out: dict, tables: Tables, treaty: np.ndarray, party: np.ndarray, worth: np.ndarray) -> None:
    """Add ``worth`` to the reported utility of party ``party`` (its index, per run) in the
    runs without a treaty: an offer or an inducement made in the run (by
    sim.strategic.choose, so that these tables, as read before the choice, do not carry it)."""
    for k, pid in enumerate(tables.party_ids):
        out[pid] = np.where(~treaty & (party == k), out[pid] + worth, out[pid])


def empty_votes(parties: int = 2) -> dict[str, np.ndarray]:
    return {
        "run": np.zeros(0, np.int64),
        "round": np.zeros(0, np.int64),
        "package": np.zeros(0, np.int64),
        "probability": np.zeros((0, parties)),
        "passed": np.zeros((0, parties), bool),
    }


def concat(parts: list[dict[str, np.ndarray]], template: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not parts:
        return template
    if len(parts) == 1:  # one chunk: its columns as they are (a copy costs a tenth of a run's time)
        return {k: parts[0][k] for k in template}
    return {k: np.concatenate([p[k] for p in parts]) for k in template}


def join(parts: list[Outcomes]) -> Outcomes:
    """Outcomes of consecutive chunks of runs as one (run numbers in the votes shifted)."""
    offsets = np.cumsum([0] + [p.seeds.shape[0] for p in parts[:-1]])
    width = max(p.pressure_path.shape[1] for p in parts)
    paths = [
        np.pad(p.pressure_path, ((0, 0), (0, width - p.pressure_path.shape[1])), constant_values=np.nan) for p in parts
    ]
    votes = [{**p.votes, "run": p.votes["run"] + off} for p, off in zip(parts, offsets)]
    return Outcomes(
        seeds=np.concatenate([p.seeds for p in parts]),
        reason=np.concatenate([p.reason for p in parts]),
        end_round=np.concatenate([p.end_round for p in parts]),
        agreed=np.concatenate([p.agreed for p in parts]),
        attempts=np.concatenate([p.attempts for p in parts]),
        chance=np.concatenate([p.chance for p in parts]),
        pressure_total=np.concatenate([p.pressure_total for p in parts]),
        pressure_path=np.concatenate(paths),
        votes=concat(votes, empty_votes(parts[0].votes["probability"].shape[1])),
        policy=None if parts[0].policy is None else np.concatenate([p.policy for p in parts]),
        backing=None if parts[0].backing is None else np.concatenate([p.backing for p in parts]),
    )
