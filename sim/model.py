"""The Mesa model of one negotiation: wiring, turn order and data collection.

One Mesa step is one round. The agents act in a fixed order (outside power, both
publics, the government whose turn it is, then the publics' votes on an agreed
package), so Mesa's own random generators are not used: every draw comes from the
run's seed through sim.draws, which is what lets the batch engine reproduce a run.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import protocol
from .agents import Government, OutsidePower, Public
from .preferences import Tables
from .scenario import Scenario, with_settings


class NegotiationModel(mesa.Model):
    """Russia and Japan negotiate; the USA acts on Japan and on both publics.

    ``spec`` is a validated Scenario; ``tables`` may be given instead (compiled once
    and shared by many runs of one scenario). ``rng`` is the run's seed, an integer.
    Any other keyword is a key path of the scenario and its value (as ``--set`` takes
    them), so that ``mesa.batch_run`` can vary them.
    """

    def __init__(self, spec: Scenario | None = None, *, tables: Tables | None = None, rng=None, **settings):
        super().__init__(rng=rng)
        if settings:
            if spec is None:
                raise ValueError("settings need a scenario to apply to")
            spec = with_settings(spec, settings)
            tables = None
        if tables is None:
            if spec is None:
                raise ValueError("NegotiationModel needs a scenario or its tables")
            tables = Tables.from_scenarios([spec])
        if tables.runs != 1:
            raise ValueError("a NegotiationModel is one negotiation: give the tables of one run")
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else int(self.rng.integers(2**63))
        self.tables = tables
        self.state = protocol.State.start(tables, np.array([self.seed % 2**64], dtype=np.uint64))
        ids, labels = tables.party_ids, tables.labels
        self.governments = [Government(self, k, pid, labels[pid]) for k, pid in enumerate(ids)]
        self.publics = [Public(self, k, tables.public_labels[k]) for k in range(2)]
        oid = tables.outside_id
        self.outside_power = OutsidePower(self, oid, labels[oid]) if oid else None
        self.seen: protocol.Assessment | None = None
        self.ratifications: list[dict] = []
        self.pressure_path: list[float] = []
        self._report: dict = {}
        columns = ["round", *protocol.round_columns(tables)]
        self.datacollector = mesa.DataCollector(model_reporters={c: [self._reported, [c]] for c in columns})

    def _reported(self, column: str):
        return self._report[column]

    def step(self):
        t, st, tables = self.steps, self.state, self.tables
        r = protocol.play_round(t, tables, st, self.seen, self)
        self.seen, self.who = r.seen, r.who
        self.pressure_path.append(float(r.move.pressure[0]))
        self._note_votes(t, r.votes)
        report = protocol.round_report(tables, st, self.seen, r.move, self.who, r.action)
        self._report = {name: _scalar(value[0]) for name, value in report.items()}
        self._report["round"] = t
        self._report["mover"] = tables.party_ids[self._report["mover"]]
        self._report["action"] = protocol.ACTIONS[self._report["action"]]
        self.datacollector.collect(self)
        if st.reason[0] != protocol.ONGOING:
            self.running = False

    # The round's acts, carried out by the agents (see protocol.Actors).

    def outside(self, round_: int):
        if self.outside_power is not None:
            return self.outside_power.step()
        return protocol.outside_move(round_, self.tables, self.state.offers)

    def moods(self, round_: int) -> None:
        for public in self.publics:
            public.step()

    def decide(self, round_: int, seen, who):
        self.seen = seen
        return self.governments[int(who[0])].step(seen, who)

    def vote(self, rows: np.ndarray, package: np.ndarray, public: int):
        return self.publics[public].vote(rows, package)

    def _note_votes(self, t: int, votes: protocol.Votes) -> None:
        ids = self.tables.party_ids
        for i in range(votes.rows.size):
            self.ratifications.append({
                "round": t,
                "package": int(votes.package[i]),
                **{f"probability_{p}": float(votes.probability[i, k]) for k, p in enumerate(ids)},
                **{f"passed_{p}": bool(votes.passed[i, k]) for k, p in enumerate(ids)},
            })

    def run(self) -> None:
        """Play rounds until the negotiation ends (it always does by the deadline)."""
        while self.running:
            self.step()


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value
