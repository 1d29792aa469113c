"""The layout's promise: imports point one way. The model (sim/) imports nothing from
analysis/; within analysis/, experiments use only the model, interpretation uses
experiments, presentation uses both, and the command line uses them all."""

import ast
from pathlib import Path

from .conftest import ROOT

# A room may import the rooms listed for it (and itself).
MAY_IMPORT = {
    "sim": {"sim"},
    "analysis.experiments": {"sim", "analysis.experiments"},
    "analysis.interpretation": {"sim", "analysis.experiments", "analysis.interpretation"},
    "analysis.presentation": {"sim", "analysis.experiments", "analysis.interpretation", "analysis.presentation"},
    "analysis.cli": {"sim", "analysis.experiments", "analysis.interpretation", "analysis.presentation"},
}


def room_of(module: str) -> str | None:
    """The room of an imported module by its name (dipsim.sim.x -> sim), or None for
    another package."""
    parts = module.split(".")
    if parts[0] != "dipsim" or len(parts) < 2:
        return None
    if parts[1] == "analysis" and len(parts) > 2:
        return f"analysis.{parts[2]}"
    return parts[1]


def imports_of(path: Path, package: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against the module's own package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names.add(".".join([*base, *([node.module] if node.module else [])]))
            elif node.module:
                names.add(node.module)
    return names


def test_imports_point_one_way():
    broken = []
    for folder, package in (("sim", "dipsim.sim"), ("analysis", "dipsim.analysis")):
        for path in sorted((ROOT / folder).rglob("*.py")):
            inner = path.relative_to(ROOT / folder).with_suffix("").parts
            module = ".".join([package, *[p for p in inner if p != "__init__"]])
            room = room_of(module if inner[0] != "__init__" else package + ".x")
            if room not in MAY_IMPORT:
                continue
            pkg = module if path.name == "__init__.py" else module.rpartition(".")[0]
            for name in imports_of(path, pkg):
                target = room_of(name)
                if target is not None and target != "analysis" and target not in MAY_IMPORT[room]:
                    broken.append(f"{path.relative_to(ROOT)} ({room}) imports {name} ({target})")
    assert not broken, "\n".join(broken)
