"""Showing the runs: plots of scenarios, comparisons and history (``plots``), the outcome
space (``outcome_space_plot``), sweeps and their analysis (``sweep_plots``), the HTML report
(``report``), the live app (``app``) and the text of ``dipsim check`` (``describe``)."""
