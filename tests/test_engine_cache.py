"""The compiled engine's cache is dropped when any compiled source changes (sim.engine_cache):
numba alone would keep a caller's cached code after an edit to a helper it inlines."""

import shutil

from dipsim.sim import engine_cache


def test_caches_are_dropped_when_any_compiled_source_changes_and_kept_otherwise(tmp_path, monkeypatch):
    copy = tmp_path / "sim"
    shutil.copytree(engine_cache.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(engine_cache, "HERE", copy)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    files = engine_cache.sources()
    assert {f.name for f in files} >= {"kernels.py", "protocol.py", "draws.py", "zeuthen.py"}
    assert "scenario.py" not in {f.name for f in files}  # not compiled: editing it costs no recompile
    caches = copy / "__pycache__", copy / "strategies" / "__pycache__"
    assert engine_cache.cache_folders(files) == set(caches)

    def plant():  # what numba leaves: an index and compiled code per function
        for folder in caches:
            folder.mkdir(exist_ok=True)
            (folder / "protocol.play-1.py312.nbi").write_bytes(b"index")
            (folder / "protocol.play-1.py312.1.nbc").write_bytes(b"code")

    plant()
    assert sorted(engine_cache.keep_fresh()) == sorted(caches)  # no stamp yet: dropped
    assert not any(f.suffix in (".nbi", ".nbc") for c in caches for f in c.iterdir())
    plant()
    assert engine_cache.keep_fresh() == []  # same sources: kept
    assert all((c / "protocol.play-1.py312.nbi").exists() for c in caches)
    kernels = copy / "kernels.py"
    kernels.write_text(kernels.read_text().replace("TIE = 1e-9", "TIE = 1e-8"))  # an edit to a helper only
    assert sorted(engine_cache.keep_fresh()) == sorted(caches)
    assert not (copy / "__pycache__" / "protocol.play-1.py312.nbi").exists()
    (copy / "scenario.py").write_text((copy / "scenario.py").read_text() + "\n# a note\n")
    plant()
    assert engine_cache.keep_fresh() == []  # not a compiled source
