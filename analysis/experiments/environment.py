"""What a results folder records about the machine and the software that made it, so that
a user who gets different numbers on two machines can see what differed."""

from __future__ import annotations

import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# The packages whose versions can change a result (the engine, its numbers, its tables).
PACKAGES = ("dipsim", "numpy", "numba", "llvmlite", "scipy", "pandas", "pyarrow", "mesa", "SALib", "pydantic")


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _numpy_dispatch() -> dict[str, list[str]]:
    """The SIMD extensions numpy was built for and those this CPU lets it use (its runtime
    dispatch, which NPY_DISABLE_CPU_FEATURES can narrow)."""
    try:  # numpy keeps these in a private module; a numpy that moves them records nothing
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
    except ImportError:
        return {}
    return {"baseline": list(__cpu_baseline__), "dispatched": [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]}


def environment() -> dict:
    """Python, the packages that decide results, the platform and the CPU features in use."""
    import os

    import numba
    from llvmlite import binding

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": {name: _version(name) for name in PACKAGES},
        "platform": platform.platform(),
        "machine": platform.machine(),
        "numpy_simd": _numpy_dispatch(),
        "numba_cpu": numba.config.CPU_NAME or binding.get_host_cpu_name(),  # the CPU the engine is compiled for
        "environment_variables": {
            k: os.environ[k]
            for k in ("NPY_DISABLE_CPU_FEATURES", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")
            if k in os.environ
        },
    }


def write_environment(folder: Path) -> Path:
    """environment.json in a results folder."""
    path = Path(folder) / "environment.json"
    path.write_text(json.dumps(environment(), indent=2) + "\n")
    return path
