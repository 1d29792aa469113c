"""The scenario files that ship with dipsim (TOML, each belief with its source; read with
``importlib.resources``). This file only makes the folder a package; it holds no code."""
