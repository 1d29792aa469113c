"""``python -m dipsim``: the ``dipsim`` command line."""

from dipsim.analysis.cli import main

main()
