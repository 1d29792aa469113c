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
from .strategic import choose


class NegotiationModel(mesa.Model):
    """Governments negotiate at the table (Russia and Japan in the baseline); an outside
    power (the USA) may act on one of them and on the publics.

    ``spec`` is a validated Scenario, played in the world the seed draws where its
    beliefs are uncertain; ``tables`` may be given instead (compiled once and shared by
    many runs of one scenario). ``rng`` is the run's seed, an integer.
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
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) else int(self.rng.integers(2**63))
        if tables is None:
            if spec is None:
                raise ValueError("NegotiationModel needs a scenario or its tables")
            tables = Tables.for_seeds(spec, np.array([self.seed % 2**64], dtype=np.uint64))[0]  # the seed's world
        if tables.runs != 1:
            raise ValueError("a NegotiationModel is one negotiation: give the tables of one run")
        tables, chosen = choose(tables, np.array([self.seed % 2**64], dtype=np.uint64))
        self.policy = None if chosen.outside is None else int(chosen.outside[0])  # a strategic outside power's option
        self.backing = None if chosen.patron is None else int(chosen.patron[0])  # a patron's offer (sim.strategic)
        self.tables = tables
        self.rows = tables.compiled()  # (the parties, the outside power, the negotiation)
        self.state = protocol.RunState(self.rows, tables.space.counts, tables.space.pair_cells, self.seed % 2**64)
        ids, labels = tables.party_ids, tables.labels
        self.governments = [Government(self, k, pid, labels[pid]) for k, pid in enumerate(ids)]
        self.publics = [Public(self, k, tables.public_labels[k]) for k in range(len(ids))]
        oid = tables.outside_id
        self.outside_power = OutsidePower(self, oid, labels[oid]) if oid else None
        self.ratifications: list[dict] = []
        self.pressure_path: list[float] = []
        self._report: dict = {}
        columns = ["round", *protocol.round_columns(tables)]
        self.datacollector = mesa.DataCollector(model_reporters={c: [self._reported, [c]] for c in columns})

    def _reported(self, column: str):
        return self._report[column]

    def step(self):
        """One round, in the order every engine plays it: the outside power acts on the
        offers standing, the publics' moods move, the governments assess the packages, the
        side whose turn it is answers (under the majority rule: a recognised proposer
        proposes and the others vote), and a package every government agreed goes to the
        ratifiers."""
        t, st, (ps, o, neg) = self.steps, self.state, self.rows
        if not st.active:  # an ended negotiation stays as it ended
            self.running = False
            return
        if self.outside_power is not None:
            alarm, pressure, rhetoric, felt = self.outside_power.step()
        else:
            alarm, pressure, rhetoric, felt = protocol.outside_move(t, ps, o, 0, st.tables, st.packages, st.ints)
        st.reals[protocol.PRESSURE_TOTAL] += pressure
        self.pressure_path.append(float(pressure))
        for public in self.publics:
            public.step()
        protocol.refresh(
            ps, o, neg, 0, st.tables, felt, rhetoric, st.ints, st.reals, st.rejected, st.packages, st.gaining
        )
        n = len(ps)
        if neg.majority[0]:
            who, offer, passed = protocol.propose(t, ps, neg, 0, st.seed, st.ints, st.packages, st.plan)
            walk, action, package = protocol.ONGOING, protocol.OFFER, offer if passed else -1
        else:
            who = int(protocol.mover(t, neg.opener[0], n))
            walk, accept, offer = self.governments[who].step()
            action = protocol.action_of(walk, accept)
            self.governments[who].learn(action, offer)
            package = int(protocol.agreed(st.ints, action, n))
        ballot = np.full(protocol.ballot_size(n), np.nan)
        if package >= 0:
            votes = [public.vote(package) for public in self.publics]
            ballot[0] = package
            ballot[1 : 1 + n] = [prob for prob, _ in votes]
            ballot[1 + n :] = [passed for _, passed in votes]
            ids = self.tables.party_ids
            self.ratifications.append(
                {
                    "round": t,
                    "package": package,
                    **{f"probability_{p}": float(prob) for p, (prob, _) in zip(ids, votes)},
                    **{f"passed_{p}": bool(passed) for p, (_, passed) in zip(ids, votes)},
                }
            )
        protocol.settle(
            t,
            neg,
            0,
            who,
            action,
            walk,
            offer,
            package,
            ballot,
            n,
            st.ints,
            st.reals,
            st.rejected,
            st.packages,
            st.gaining,
        )
        values = np.empty((1, protocol.record_size(n)))
        protocol.record(
            st.tables,
            ps,
            0,
            who,
            action,
            alarm,
            pressure,
            rhetoric,
            felt,
            st.ints,
            st.reals,
            st.packages,
            st.belief,
            values[0],
        )
        self._report = {name: _scalar(v[0]) for name, v in protocol.record_columns(self.tables, values).items()}
        self._report["round"] = t
        self.datacollector.collect(self)
        if not st.active:
            self.running = False

    def run(self) -> None:
        """Play rounds until the negotiation ends (it always does by the deadline)."""
        while self.running:
            self.step()


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value
