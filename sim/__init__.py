"""The model: the negotiation, and nothing about files, plots or terminals.

Scenario files (``scenario``), the outcome space (``space``), utilities (``preferences``),
one round's rules (``protocol``), strategies (``strategies``), the Mesa agents and model
(``agents``, ``model``), the batch engine (``batch``), draws (``draws``), compiled helpers
(``kernels``), the expected utility model (``expected_utility``, ``eu_model``) and the
entry points (``run``). Nothing here imports ``dipsim.analysis``.
"""
