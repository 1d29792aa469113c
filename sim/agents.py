"""The Mesa agents: thin, each calls its rule in sim.protocol on the model's run."""

from __future__ import annotations

import mesa

from . import protocol


class Government(mesa.Agent):
    """A government at the table: bargains with the strategy its scenario names."""

    def __init__(self, model, index: int, party_id: str, label: str):
        super().__init__(model)
        self.index, self.party_id, self.label = index, party_id, label

    def step(self):
        """This round's answer: (walk reason or ONGOING, accept, offer)."""
        m, k, st = self.model, self.index, self.model.state
        ps, _, neg = m.rows
        return protocol.decide(m.steps, ps, neg, 0, k, st.ints, st.reals, st.packages, st.gaining, st.tables, st.belief)

    def learn(self, action: int, offer: int) -> None:
        """The others' lesson from this government's answer (where a number of its is private)."""
        m, k, st = self.model, self.index, self.model.state
        protocol.learn(k, action, offer, 0, m.rows[0], st.ints, st.packages, st.tables, st.belief)


class Public(mesa.Agent):
    """A domestic audience: its mood drifts; it ratifies or rejects an agreed package."""

    def __init__(self, model, index: int, label: str):
        super().__init__(model)
        self.index, self.label = index, label

    def step(self):
        m, k, st = self.model, self.index, self.model.state
        slot = st.mood_slot(k)
        st.reals[slot] = protocol.mood_step(st.reals[slot], m.rows[0][k].volatility[0], st.seed, m.steps, k)

    def vote(self, package: int) -> tuple[float, bool]:
        """(probability, passed) of the package put to this public today."""
        m, k, st = self.model, self.index, self.model.state
        return protocol.ratify(
            m.steps, m.rows[0][k], m.rows[2], 0, st.packages, st.reals[st.mood_slot(k)], st.seed, package, k
        )


class OutsidePower(mesa.Agent):
    """The USA: not at the table; presses its target and shapes the publics' opinion."""

    def __init__(self, model, outside_id: str, label: str):
        super().__init__(model)
        self.outside_id, self.label = outside_id, label

    def step(self):
        """(alarm, pressure, rhetoric, pressure felt) this round."""
        m, st = self.model, self.model.state
        ps, o, _ = m.rows
        return protocol.outside_move(m.steps, ps, o, 0, st.tables, st.packages, st.ints)
