"""dipsim: a diplomatic negotiation simulator built on Mesa.

Installed, the package holds ``dipsim.sim`` (the model), ``dipsim.analysis`` (runs, their
meaning and how they look, and the command line) and ``dipsim.scenarios`` (the scenario
files that ship with it). In a checkout they are the top-level folders ``sim/``,
``analysis/`` and ``scenarios/``; this folder holds only the package's face.
"""

from pathlib import Path

__version__ = "0.2.0"

# In a checkout the subpackages sit beside this folder rather than inside it; let
# ``dipsim.sim`` and the others resolve there too, so that the checkout works with an
# editable install, a regular one, or none.
_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "sim" / "__init__.py").is_file():
    __path__.append(str(_checkout))
