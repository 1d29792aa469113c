"""Outcomes and round records as tables (what runs.parquet and rounds.parquet hold):
made chunk by chunk, written as Parquet row groups as they come, and read back a few
columns at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.acero as acero
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dipsim.sim import draws, protocol
from dipsim.sim.outcomes import Outcomes
from dipsim.sim.preferences import Tables, institution_threshold
from dipsim.sim.space import NO_TREATY


def runs_frame(
    scenario_name: str, tables: Tables, outcomes: Outcomes, details: bool = True, first: int = 0
) -> pd.DataFrame:
    """One row per run, numbered from ``first``. With ``details``, the outside power's
    pressure path and every ratification attempt are included as list columns."""
    space, ids, oid = tables.space, tables.party_ids, tables.outside_id
    labels = tuple(tables.labels[p] for p in ids)
    n = outcomes.seeds.shape[0]
    package, agreed = outcomes.package, outcomes.agreed
    reason_names = np.array([protocol.reason_label(c, labels) for c in protocol.reason_codes(len(ids))])
    package_labels = np.array([space.label(k) for k in range(space.size)] + ["no agreement"])
    cols: dict[str, object] = {
        "scenario": np.full(n, scenario_name),
        "run": np.arange(first, first + n),
        "seed": outcomes.seeds,
        "treaty": outcomes.treaty,
        "treaty_chance": outcomes.chance,
        "reason": reason_names[outcomes.reason],
        "end_round": outcomes.end_round,
        "package": package,
        "package_label": package_labels[package],
        "agreed_package": agreed,
        "agreed_label": package_labels[agreed],
    }
    for i, issue in enumerate(space.issues):
        options = np.array([*space.options[i], NO_TREATY])
        cols[f"terms_{issue}"] = options[np.where(package >= 0, space.choice[np.maximum(package, 0), i], -1)]
    for actor, values in outcomes.utilities(tables).items():
        cols[f"utility_{actor}"] = values
    if oid:
        cols[f"{oid}_pressure_total"] = outcomes.pressure_total
    if oid and outcomes.policy is not None:  # a strategic power's option (only then: files stay as they were)
        cols[f"{oid}_policy"] = outcomes.policy
    if tables.patron_id and outcomes.backing is not None:  # the offer a patron made
        cols[f"{tables.patron_id}_policy"] = outcomes.backing
    cols["ratification_attempts"] = outcomes.attempts
    cols.update(institution_columns(tables, outcomes))
    frame = pd.DataFrame(cols)
    if details:
        if oid:
            frame[f"{oid}_pressure_path"] = [
                row[: int(e)].tolist() for row, e in zip(outcomes.pressure_path, outcomes.end_round)
            ]
        frame["ratifications"] = _ratification_lists(outcomes, ids, n)
    return frame


def institution_columns(tables: Tables, outcomes: Outcomes) -> dict[str, np.ndarray]:
    """Columns only a scenario with a named ratifier or a failure cost has (so that the
    files of one without stay as they were): each such country's actual threshold in the
    run (NaN where a run has none), and each failure cost a government bore (its cost
    times the votes its ratifier rejected)."""
    cols: dict[str, np.ndarray] = {}
    n = outcomes.seeds.shape[0]
    for k, (pid, p) in enumerate(zip(tables.party_ids, tables.parties)):
        if (p.institution > 0).any():
            u = draws.party_uniform(outcomes.seeds, 0, draws.RATIFY, k)
            actual = institution_threshold(p.threshold, p.margin, u)
            cols[f"ratifier_threshold_{pid}"] = np.where(p.institution > 0, actual, np.nan)
        if (p.failure_cost > 0).any():
            v = outcomes.votes
            rejected = np.bincount(v["run"][~v["passed"][:, k]], minlength=n)[:n]
            cols[f"failure_cost_borne_{pid}"] = p.failure_cost * rejected
    return cols


def list_column_types(tables: Tables) -> dict[str, pa.DataType]:
    """The Arrow types of runs_frame's list columns, which a chunk without any pressure
    or ratification could not show."""
    ids = tables.party_ids
    vote = pa.struct(
        [
            ("round", pa.int64()),
            ("package", pa.int64()),
            *[(f"probability_{p}", pa.float64()) for p in ids],
            *[(f"passed_{p}", pa.bool_()) for p in ids],
        ]
    )
    types = {"ratifications": pa.list_(vote)}
    if tables.outside_id:
        types[f"{tables.outside_id}_pressure_path"] = pa.list_(pa.float64())
    return types


def _ratification_lists(outcomes: Outcomes, ids: tuple[str, str], n: int) -> list[list[dict]]:
    lists: list[list[dict]] = [[] for _ in range(n)]
    v = outcomes.votes
    for i in range(v["run"].shape[0]):
        lists[int(v["run"][i])].append(
            {
                "round": int(v["round"][i]),
                "package": int(v["package"][i]),
                **{f"probability_{p}": float(v["probability"][i, k]) for k, p in enumerate(ids)},
                **{f"passed_{p}": bool(v["passed"][i, k]) for k, p in enumerate(ids)},
            }
        )
    return lists


def rounds_frame(scenario_name: str, rounds: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per run and round, as the Mesa DataCollector records it."""
    frame = pd.DataFrame({k: np.asarray(v) for k, v in rounds.items()})
    frame.insert(0, "scenario", scenario_name)
    return frame


class ParquetStream:
    """A Parquet file written as frames arrive, in row groups of about ``rows`` rows, so
    that memory holds one row group, not the table. The schema is the first frame's
    (pandas metadata included, as DataFrame.to_parquet writes it), with ``types`` for
    columns whose type the first frame cannot show."""

    def __init__(self, path: Path, rows: int, types: dict[str, pa.DataType] | None = None):
        self.path, self.rows, self.types = path, rows, types or {}
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.schema is None:
            schema = pa.Schema.from_pandas(frame, preserve_index=False)
            for name, kind in self.types.items():
                schema = schema.set(schema.get_field_index(name), pa.field(name, kind))
            self.schema = schema.remove_metadata()
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema)
        self.pending.append(table)
        self.pending_rows += table.num_rows
        if self.pending_rows >= self.rows:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=self.pending_rows)
        self.pending, self.pending_rows = [], 0

    def close(self) -> None:
        if self.writer is not None:
            self._flush()
            self.writer.close()

    def __enter__(self) -> ParquetStream:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is None:
            self.close()
        elif self.writer is not None:
            # the file is left to its folder's fate (a failed run's folder is removed); a close
            # that fails too (a full disk, say) adds nothing to the error being raised
            with contextlib.suppress(OSError):
                self.writer.close()


# Arrow's t-digest (Dunning and Ertl 2019) with this compression keeps a few hundred
# centroids per round and column; measured on 20,000 runs of us_disengages, its 10%, 50%
# and 90% quantiles were within 0.0002 of the exact ones (tests/test_faults.py holds it
# to 0.005 or 1% of the ranks).
TDIGEST_DELTA = 400


def round_quantiles(
    path: Path, columns: Sequence[str], q: Sequence[float] = (0.1, 0.5, 0.9), batch: int = 65_536
) -> dict[str, pd.DataFrame]:
    """Per-round quantiles over all runs of some columns of a rounds.parquet, read a
    batch at a time: {column: frame indexed by round with a column per quantile}.
    Approximate (a t-digest per round and column), so memory does not grow with the
    runs; NaNs (no offer standing) are left out, as pandas does."""
    import pyarrow.dataset as ds

    # one batch read ahead, no pre-buffering (it holds on to what it read), one thread
    # (the same digests every time)
    files = ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False))
    scan = acero.ScanNodeOptions(
        ds.dataset(path, format=files),
        columns=["round", *columns],
        batch_size=batch,
        batch_readahead=1,
        fragment_readahead=1,
    )
    options = pc.TDigestOptions(q=list(q), delta=TDIGEST_DELTA)
    plan = acero.Declaration.from_sequence(
        [
            acero.Declaration("scan", scan),
            acero.Declaration(
                "aggregate",
                acero.AggregateNodeOptions([(c, "hash_tdigest", options, c) for c in columns], keys=["round"]),
            ),
        ]
    )
    table = plan.to_table(use_threads=False).sort_by("round")
    rounds = pd.Index(table["round"].to_numpy(), name="round")
    return {
        c: pd.DataFrame(
            [v or [None] * len(q) for v in table[c].to_pylist()], index=rounds, columns=list(q), dtype=float
        )
        for c in columns
    }
