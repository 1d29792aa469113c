"""The Mesa agents: thin, each calls its rule in sim.protocol on the model's state."""

from __future__ import annotations

import mesa
import numpy as np

from . import protocol


class Government(mesa.Agent):
    """Russia or Japan: bargains at the table with the strategy its scenario names."""

    def __init__(self, model, index: int, party_id: str, label: str):
        super().__init__(model)
        self.index, self.party_id, self.label = index, party_id, label

    def step(self, seen, who):
        m = self.model
        return protocol.decide(m.steps, m.tables, seen, m.state.offers, m.state.stale, who)


class Public(mesa.Agent):
    """A domestic audience: its mood drifts; it ratifies or rejects an agreed package."""

    def __init__(self, model, index: int, label: str):
        super().__init__(model)
        self.index, self.label = index, label

    def step(self):
        m, k = self.model, self.index
        m.state.mood[:, k] = protocol.mood_step(
            m.state.mood[:, k], m.tables.parties[k].volatility, m.state.seeds, m.steps, k
        )

    def vote(self, rows: np.ndarray, package: np.ndarray):
        m = self.model
        return protocol.ratify(m.steps, m.tables, m.seen, m.state.mood, m.state.seeds, rows, package, self.index)


class OutsidePower(mesa.Agent):
    """The USA: not at the table; presses its target and shapes both publics' opinion."""

    def __init__(self, model, outside_id: str, label: str):
        super().__init__(model)
        self.outside_id, self.label = outside_id, label

    def step(self):
        m = self.model
        return protocol.outside_move(m.steps, m.tables, m.state.offers)
