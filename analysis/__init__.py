"""What is done with the model (``dipsim.sim``): its runs, what they mean, and how they look.

Four rooms, imports pointing one way (each may use those listed before it, and the
model; the model uses none of them):

- ``experiments``: running many negotiations and writing their tables (a scenario's runs,
  sweeps and their designs, safe output folders, run summaries);
- ``interpretation``: understanding them (bargaining solutions, the outcome space, why a
  run ended, sensitivity indices, scenario discovery, the backcast against history);
- ``presentation``: showing them (plots, the HTML report, the live app, the text of
  ``dipsim check``);
- ``cli``: the ``dipsim`` command line, which puts the three together.
"""
