"""The outcome space: every package of terms the governments at the table could sign.

A package picks one option on each issue; packages are numbered in the order of
``itertools.product`` over the issues as the scenario lists them, so package ``k``
means the same terms in every engine and every output file. No agreement (the
status quo) is not a package: it is coded as ``NO_PACKAGE``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

NO_PACKAGE = -1
NO_TREATY = "no treaty"  # the terms of a run that ended without a treaty, on every issue


@dataclass(frozen=True)
class OutcomeSpace:
    issues: tuple[str, ...]
    options: tuple[tuple[str, ...], ...]
    # (packages, issues): the option index each package picks on each issue
    choice: np.ndarray
    # The pairs of issues (a, b), a < b by their place, that some value table values
    # together: a value that counts only when another issue takes some options
    # (sim.scenario.Condition). Every value table's terms carry a cell per combination of
    # the pair's options after the options' own values; none without conditions.
    pairs: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_issues(cls, issues: dict[str, list[str]], pairs: tuple[tuple[int, int], ...] = ()) -> OutcomeSpace:
        names = tuple(issues)
        options = tuple(tuple(opts) for opts in issues.values())
        grid = itertools.product(*(range(len(o)) for o in options))
        choice = np.array(list(grid), dtype=np.int64).reshape(-1, len(names))
        choice.setflags(write=False)
        if any(not 0 <= a < b < len(names) for a, b in pairs) or len(set(pairs)) != len(pairs):
            raise ValueError(f"pairs of issues must be distinct (a, b) with a < b < {len(names)}; found {pairs}")
        return cls(names, options, choice, tuple(sorted(pairs)))

    @property
    def size(self) -> int:
        return self.choice.shape[0]

    def terms(self, package: int) -> dict[str, str]:
        """The option chosen on each issue, by name; empty for no agreement."""
        if package == NO_PACKAGE:
            return {}
        return {issue: self.options[i][self.choice[package, i]] for i, issue in enumerate(self.issues)}

    def label(self, package: int) -> str:
        if package == NO_PACKAGE:
            return "no agreement"
        return " / ".join(self.terms(package).values())

    def package_of(self, terms: dict[str, str]) -> int:
        """The package number of a dict {issue: option name}."""
        idx = [self.options[i].index(terms[issue]) for i, issue in enumerate(self.issues)]
        hits = np.flatnonzero((self.choice == np.array(idx)).all(axis=1))
        return int(hits[0])

    @property
    def counts(self) -> np.ndarray:
        """The number of options of each issue."""
        return np.array([len(o) for o in self.options], dtype=np.int64)

    @property
    def options_total(self) -> int:
        return sum(len(o) for o in self.options)

    @cached_property
    def pair_cells(self) -> np.ndarray:
        """(pairs, packages) int64: for each pair of issues, the place in a value table's
        terms of the cell each package picks (after the constant and the options' values,
        each pair's cells in turn, issue a's options by row and issue b's by column). The
        compiled code adds these cells (sim.kernels.paired_row); (0, packages) without pairs."""
        cells = np.empty((len(self.pairs), self.size), dtype=np.int64)
        offset = 1 + self.options_total
        for p, (a, b) in enumerate(self.pairs):
            kb = len(self.options[b])
            cells[p] = offset + self.choice[:, a] * kb + self.choice[:, b]
            offset += len(self.options[a]) * kb
        cells.setflags(write=False)
        return cells

    @property
    def terms_total(self) -> int:
        """How many terms a value table has: the constant, each option's value, then a
        cell per combination of options of each pair of issues."""
        cells = sum(len(self.options[a]) * len(self.options[b]) for a, b in self.pairs)
        return 1 + self.options_total + cells

    def expand(self, terms: np.ndarray) -> np.ndarray:
        """Value of every package under value tables given by their terms, (runs,
        terms_total): each run's constant, then the value of each option, issue by issue,
        then the cells of each pair of issues. Returns (runs, packages); a package's value
        is the constant plus the values of its options, added issue by issue in order
        (sim.kernels.additive_row), plus the cell of each pair its options pick, pair by
        pair (sim.kernels.paired_row)."""
        from . import kernels  # compiled code loads when first needed

        return kernels.additive(np.ascontiguousarray(terms, dtype=np.float64), self.counts, self.pair_cells)

    def value_at(self, terms: np.ndarray, package: np.ndarray) -> np.ndarray:
        """Each run's value of its package (>= 0) under value tables given by their
        terms, added in the same order as :meth:`expand` (so equal to it, bit for bit); one
        row of terms serves every run."""
        package = np.asarray(package)
        rows = np.zeros(package.shape[0], np.int64) if terms.shape[0] == 1 else np.arange(package.shape[0])
        value, offset = terms[rows, 0], 1
        for i, options in enumerate(self.options):
            value = value + terms[rows, offset + self.choice[package, i]]
            offset += len(options)
        for cells in self.pair_cells:
            value = value + terms[rows, cells[package]]
        return value
