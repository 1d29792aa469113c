"""The outcome space: every package of terms the two governments could sign.

A package picks one option on each issue; packages are numbered in the order of
``itertools.product`` over the issues as the scenario lists them, so package ``k``
means the same terms in every engine and every output file. No agreement (the
status quo) is not a package: it is coded as ``NO_PACKAGE``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

NO_PACKAGE = -1
NO_TREATY = "no treaty"  # the terms of a run that ended without a treaty, on every issue


@dataclass(frozen=True)
class OutcomeSpace:
    issues: tuple[str, ...]
    options: tuple[tuple[str, ...], ...]
    # (packages, issues): the option index each package picks on each issue
    choice: np.ndarray

    @classmethod
    def from_issues(cls, issues: dict[str, list[str]]) -> OutcomeSpace:
        names = tuple(issues)
        options = tuple(tuple(opts) for opts in issues.values())
        grid = itertools.product(*(range(len(o)) for o in options))
        choice = np.array(list(grid), dtype=np.int64).reshape(-1, len(names))
        choice.setflags(write=False)
        return cls(names, options, choice)

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

    def expand(self, terms: np.ndarray) -> np.ndarray:
        """Value of every package under linear additive tables given by their terms,
        (runs, 1 + options): each run's constant, then the value of each option, issue by
        issue. Returns (runs, packages); a package's value is the constant plus the values
        of its options, added issue by issue in order (sim.kernels.additive_row)."""
        from . import kernels  # compiled code loads when first needed

        return kernels.additive(np.ascontiguousarray(terms, dtype=np.float64), self.counts)

    def value_at(self, terms: np.ndarray, package: np.ndarray) -> np.ndarray:
        """Each run's value of its package (>= 0) under additive tables given by their
        terms, added in the same order as :meth:`expand` (so equal to it, bit for bit); one
        row of terms serves every run."""
        package = np.asarray(package)
        rows = np.zeros(package.shape[0], np.int64) if terms.shape[0] == 1 else np.arange(package.shape[0])
        value, offset = terms[rows, 0], 1
        for i, options in enumerate(self.options):
            value = value + terms[rows, offset + self.choice[package, i]]
            offset += len(options)
        return value
