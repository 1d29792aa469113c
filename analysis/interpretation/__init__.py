"""Understanding the runs: bargaining solutions (``solutions``), the outcome space
(``outcome_space``), one run's story and the smallest change that alters it (``explain``),
sensitivity indices (``sensitivity``), scenario discovery (``discovery``), both for a sweep
(``analyze``), and the model against history (``backcast``)."""
