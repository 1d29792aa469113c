"""The Mesa model of Bueno de Mesquita's expected utility model: one agent per
stakeholder, one step per round. The rules are in sim.expected_utility, positions
included: they are kept on its grid (sim.expected_utility.GRID), the scenario's too."""

from __future__ import annotations

import mesa
import numpy as np

from . import expected_utility as eu
from .scenario import ExpectedUtilityScenario


class Stakeholder(mesa.Agent):
    """An actor with a position on the issue, a capability and a salience."""

    def __init__(self, model, index: int, key: str, label: str, position: float, capability: float, salience: float):
        super().__init__(model)
        self.index, self.key, self.label = index, key, label
        self.position, self.capability, self.salience = position, capability, salience
        self.risk = 1.0
        self.move: eu.Move | None = None

    def choose(self, moves: list[eu.Move], risk: np.ndarray) -> None:
        self.risk = float(risk[self.index])
        self.move = moves[self.index]

    def advance(self) -> None:
        assert self.move is not None, "a stakeholder moves after it has chosen"
        self.position = self.move.position

    @property
    def move_kind(self) -> str:
        """What the stakeholder did this round (confrontation, compromise, capitulation, stays)."""
        if self.move is None:
            return ""
        return self.move.kind or "stays"


class ExpectedUtilityModel(mesa.Model):
    """Stakeholders challenge, compromise and capitulate, round by round; the forecast is
    the position that wins every pairwise vote. Deterministic: the seed changes nothing."""

    def __init__(self, spec: ExpectedUtilityScenario, *, rng=None):
        super().__init__(rng=rng)
        self.spec = spec
        self.low, self.span = spec.dimension.low, spec.dimension.high - spec.dimension.low
        self.stakeholders = [
            Stakeholder(self, k, key, s.label, s.position, s.capability, s.salience)
            for k, (key, s) in enumerate(spec.stakeholders.items())
        ]
        start = self.state()
        for agent, position in zip(self.stakeholders, start.on_grid(start.position)):
            agent.position = float(position)
        self.datacollector = mesa.DataCollector(
            model_reporters={"round": "round", "mean": "mean", "median": "median", "forecast": "forecast"},
            agent_reporters={"position": "position", "risk": "risk", "move": "move_kind"},
        )
        self.round = 0
        self._measure()
        self.datacollector.collect(self)

    def state(self) -> eu.Stakeholders:
        return eu.Stakeholders(
            names=tuple(a.key for a in self.stakeholders),
            position=np.array([a.position for a in self.stakeholders], dtype=float),
            capability=np.array([a.capability for a in self.stakeholders], dtype=float),
            salience=np.array([a.salience for a in self.stakeholders], dtype=float),
            span=self.span,
            low=self.low,
        )

    def _measure(self) -> None:
        st = self.state()
        self.mean = eu.weighted_mean(st)
        self.median = eu.weighted_median(st)
        self.forecast = eu.pairwise_winner(st)

    def step(self) -> None:
        st = self.state()
        prob = eu.probability(st, all_pairs=self.spec.settings.probability_denominator == "all_pairs")
        risk = eu.risk_exponents(st, prob)
        moves = eu.best_moves(st, prob, risk)
        for agent in self.stakeholders:
            agent.choose(moves, risk)
        for agent in self.stakeholders:  # everyone moves at once
            agent.advance()
        self.round = self.steps
        self._measure()
        self.datacollector.collect(self)
        if self.round >= self.spec.settings.rounds:
            self.running = False

    def run(self) -> None:
        while self.running:
            self.step()

    def table(self):
        """Round by round: mean, median, forecast and every stakeholder's position."""
        frame = self.datacollector.get_model_vars_dataframe()
        positions = self.datacollector.get_agent_vars_dataframe()["position"].unstack()
        keys = {a.unique_id: a.key for a in self.stakeholders}
        positions.columns = [keys[i] for i in positions.columns]
        positions.index = frame.index
        return frame.join(positions)
