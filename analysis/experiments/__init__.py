"""Running many negotiations and writing their tables: one scenario's runs (``jobs``), sweeps
(``sweep_spec``, ``design``, ``sweep``), run tables (``frames``), summaries (``summary``) and
results folders written safely (``output``)."""
