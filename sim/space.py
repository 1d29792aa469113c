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
NO_TREATY = "no treaty"   # the terms of a run that ended without a treaty, on every issue


@dataclass(frozen=True)
class OutcomeSpace:
    issues: tuple[str, ...]
    options: tuple[tuple[str, ...], ...]
    # (packages, issues): the option index each package picks on each issue
    choice: np.ndarray

    @classmethod
    def from_issues(cls, issues: dict[str, list[str]]) -> "OutcomeSpace":
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
        return {
            issue: self.options[i][self.choice[package, i]]
            for i, issue in enumerate(self.issues)
        }

    def label(self, package: int) -> str:
        if package == NO_PACKAGE:
            return "no agreement"
        return " / ".join(self.terms(package).values())

    def package_of(self, terms: dict[str, str]) -> int:
        """The package number of a dict {issue: option name}."""
        idx = [self.options[i].index(terms[issue]) for i, issue in enumerate(self.issues)]
        hits = np.flatnonzero((self.choice == np.array(idx)).all(axis=1))
        return int(hits[0])

    def additive(self, per_option: list[np.ndarray], constant: np.ndarray) -> np.ndarray:
        """Value of every package under a linear additive table.

        ``per_option[i]`` has shape (runs, options of issue i); ``constant`` has
        shape (runs,). Returns (runs, packages). Packages are the Cartesian product of
        the options (last issue fastest). The sum runs issue by issue in a fixed order,
        so a run's values do not depend on how many runs are evaluated together.
        """
        from . import kernels   # compiled code loads when first needed

        constant = np.asarray(constant, dtype=np.float64)
        values = np.concatenate([np.asarray(t, dtype=np.float64) for t in per_option], axis=1)
        counts = np.array([t.shape[1] for t in per_option], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return kernels.additive(constant, values, offsets, counts)
