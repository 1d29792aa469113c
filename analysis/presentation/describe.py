"""A scenario in words: every belief with its value and its source (`dipsim check`)."""

from __future__ import annotations

import textwrap

from dipsim.sim.scenario import Scenario, Utility, private_phrase
from dipsim.sim.strategies import describe as describe_strategy


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def spread(kind: str | None, value: float, low=None, high=None, sd=None, n=None, bounds=(None, None)) -> str:
    """A distribution in words, with the interval nine runs in ten draw within; empty for a
    fixed number."""
    kind = kind or "fixed"
    if kind == "fixed":
        return ""
    from dipsim.sim.worlds import inverse_cdf

    if kind == "normal":
        low, high = (bounds[0] if low is None else low), (bounds[1] if high is None else high)
    if kind == "beta":
        low, high = 0.0, 1.0
    if high - low <= 0 or (kind == "normal" and sd == 0):
        return ""
    a, b = inverse_cdf(kind, [0.05, 0.95], value, low=low, high=high, sd=sd, n=n)
    if kind == "beta":
        what = f"beta from a poll of {n:,}"
    elif kind == "normal":
        what = f"normal, sd {sd:g}, cut at {low:g} and {high:g}"
    else:
        what = f"{kind} {low:g} to {high:g}" + (f", mode {value:g}" if kind == "triangular" else "")
    return f"{what}; 90% of runs {a:.3g} to {b:.3g}"


def _belief(name: str, b, indent: str = "    ") -> list[str]:
    drawn = spread(b.dist, b.value, b.low, b.high, b.sd, b.n, type(b).bounds)
    return [
        f"{indent}{name} = {b.value:g}" + (f"  ({drawn})" if drawn else ""),
        _wrap(f"source: {b.source}", indent + "    "),
    ]


def _spreads(entry, options, indent: str) -> list[str]:
    """One line per uncertain value of a table of option values."""
    lines = []

    def at(values, k):
        return None if values is None else values[k]

    for k, (option, v) in enumerate(zip(options, entry.values)):
        drawn = spread(entry.dist, v, at(entry.low, k), at(entry.high, k), at(entry.sd, k), entry.n, type(entry).bounds)
        if drawn:
            lines.append(f"{indent}    {option}: {drawn}")
    return lines


def _condition(entry, options, indent: str, number: str) -> list[str]:
    """The line of a conditional entry: when its values count, and what counts otherwise."""
    when = entry.when
    if when is None:
        return []
    listed = " or ".join(when.one_of or when.not_one_of)
    otherwise = entry.otherwise or [0.0] * len(options)
    counted = ", ".join(f"{o} {v:{number}}" for o, v in zip(options, otherwise))
    return [f"{indent}    only when {when.issue} is {'' if when.one_of else 'not '}{listed}; otherwise: {counted}"]


def _utility(u: Utility, s: Scenario, indent: str = "    ") -> list[str]:
    lines = [*_belief("treaty value", u.treaty, indent), *_belief("reservation (no treaty)", u.reservation, indent)]
    for issue, entry in u.issues.items():
        options = s.issues[issue].options
        values = ", ".join(f"{o} {v:g}" for o, v in zip(options, entry.values))
        lines.append(f"{indent}{issue}: weight {entry.weight:g}; values: {values}")
        lines += _condition(entry, options, indent, "g")
        lines += _spreads(entry, options, indent)
        lines.append(_wrap(f"source: {entry.source}", indent + "    "))
    return lines


def _effects(effects: dict, s: Scenario, indent: str) -> list[str]:
    lines = []
    for issue, entry in effects.items():
        values = ", ".join(f"{o} {v:+g}" for o, v in zip(s.issues[issue].options, entry.values))
        lines.append(f"{indent}{issue}: {values}")
        lines += _condition(entry, s.issues[issue].options, indent, "+g")
        lines += _spreads(entry, s.issues[issue].options, indent)
        lines.append(_wrap(f"source: {entry.source}", indent + "    "))
    return lines


def beliefs(s) -> list[dict]:
    """Every table of a scenario that carries a source, in the file's order: its key path
    (``key``), its numbers or settings as they are named in the file, and its ``source``
    (`dipsim check --json`, the report's table of preferences)."""
    rows = []

    def walk(node, path):
        if isinstance(node, dict):
            if "source" in node:
                rows.append({"key": ".".join(path), **node})
            else:
                for k, v in node.items():
                    walk(v, [*path, k])

    walk({k: v for k, v in s.resolved().items() if k not in ("sources", "description")}, [])
    return rows


def _pair(s: Scenario) -> tuple[int, bool] | None:
    """Where a strategic outside power and a strategic patron choose together
    (sim.strategic): the forward runs per pair of their options, and whether the patron
    commits first; None otherwise."""
    power, patron = s.outside_power, s.patron_power
    if power is None or patron is None or power[1].policy is None:
        return None
    policy, offers = power[1].policy, patron[1].policy
    if policy.kind != "stackelberg" or offers.kind != "stackelberg":
        return None
    return max(policy.samples, offers.samples), offers.moves == "first"


def describe(s) -> str:
    from dipsim.sim.scenario import ExpectedUtilityScenario

    if isinstance(s, ExpectedUtilityScenario):
        return describe_expected_utility(s)
    return describe_bargaining(s)


def describe_expected_utility(s) -> str:
    d = s.dimension
    lines = [
        f"{s.title}  [{s.name}]: valid (Bueno de Mesquita's expected utility model)",
        _wrap(" ".join(s.description.split()), "  "),
        "",
    ]
    if s.sources:
        lines.append("Sources:")
        lines += [_wrap(f"{k}: {v}", "  ") for k, v in s.sources.items()]
        lines.append("")
    lines += [
        f"Dimension: {d.label}, {d.low:g} to {d.high:g}",
        _wrap(f"source: {d.source}", "    "),
        f"Rounds: {s.settings.rounds}; probability denominator: {s.settings.probability_denominator}",
        _wrap(f"source: {s.settings.source}", "    "),
        "",
        "Stakeholders (position, capability, salience):",
    ]
    for key, st in s.stakeholders.items():
        lines.append(f"  {st.label} [{key}]: {st.position:g}, {st.capability:g}, {st.salience:g}")
        lines.append(_wrap(f"source: {st.source}", "      "))
    return "\n".join(lines)


def describe_bargaining(s: Scenario) -> str:
    n_packages = 1
    for issue in s.issues.values():
        n_packages *= len(issue.options)
    lines = [f"{s.title}  [{s.name}]: valid", _wrap(" ".join(s.description.split()), "  "), ""]
    if s.sources:
        lines.append("Sources:")
        lines += [_wrap(f"{k}: {v}", "  ") for k, v in s.sources.items()]
        lines.append("")
    n = s.negotiation
    lines += [
        (
            (
                f"Negotiation: up to {n.deadline} rounds"
                if not n.deadline_spread
                else f"Negotiation: {n.deadline - n.deadline_spread} to {n.deadline + n.deadline_spread} rounds "
                "(each run's drawn; the negotiators do not know which)"
            )
            + f"; {s.parties[n.opener].label} opens; "
            f"ratification {'on' if n.ratification else 'off'}; after a failed ratification: {n.after_failed_ratification}"
            + ("; with no zone of agreement the talks stall" if n.when_no_zone == "stall" else "")
        ),
        _wrap(f"source: {n.source}", "    "),
        f"Run: seed {s.run.seed}, {s.run.runs} runs",
        "",
        f"Issues ({n_packages} packages, plus no agreement):",
    ]
    for name, issue in s.issues.items():
        lines.append(f"  {name} ({issue.label}): {', '.join(issue.options)}")
    for pid, p in s.parties.items():
        st = p.strategy
        lines += [
            "",
            f"{p.label} [{pid}]",
            f"  strategy: {describe_strategy(st.kind, st.beta, st.tolerance, st.discount)}"
            + (f"; walks away after {st.patience} offers without improvement" if st.patience else ""),
            _wrap(f"source: {st.source}", "      "),
            *_belief("anticipation of ratification", p.anticipation, "  "),
        ]
        if p.failure_cost is not None:
            lines += _belief("cost of signing what fails at home", p.failure_cost, "  ")
        if p.private is not None:
            other = next(s.parties[q].label for q in s.parties if q != pid)
            name, prior = p.private.hidden
            what = private_phrase(p.private.key, {k: v.options for k, v in s.issues.items()})
            lines += [
                f"  {what} private{f' ({p.private.key})' if name == 'value' else ''}: {other}'s prior over it: "
                + ", ".join(f"{t:g} ({w:g})" for t, w in zip(prior.types, prior.prior))
                + f"; a refusal of a gain weighs a type by {prior.noise:g}",
                _wrap(f"source: {prior.source}", "      "),
            ]
        if p.autonomy is not None:
            lines += _belief("autonomy", p.autonomy, "  ")
        if p.autonomy_growth is not None:
            lines += _belief("autonomy growth per round", p.autonomy_growth, "  ")
        lines.append("  utility:")
        lines += _utility(p.utility, s)
        pub = p.public
        lines.append(f"  {pub.label}:")
        lines += _belief("acceptance of a treaty with neutral terms", pub.base)
        lines += _belief("mood volatility per round", pub.volatility)
        if p.ratifier is None:
            lines += _belief("ratification threshold", pub.threshold)
            lines += _belief("ratification margin", pub.margin)
        lines.append("    effects on acceptance:")
        lines += _effects(pub.effects, s, "      ")
        if p.ratifier is not None:
            lines += [
                f"  ratifier: {p.ratifier.kind.replace('_', ' ')} (the share accepting that day must exceed its threshold)",
                _wrap(f"source: {p.ratifier.source}", "      "),
                *_belief("threshold, centre of the negotiators' belief", p.ratifier.threshold),
                *_belief("threshold, half-width of their belief (each run draws it once)", p.ratifier.spread),
            ]
    power = s.outside_power
    if power:
        oid, o = power
        lines += [
            "",
            f"{o.label} [{oid}]: outside the table, acts on {s.parties[o.acts_on].label}"
            + ("" if o.active else " (inactive)"),
            *_belief("response (alarm per unit of threat)", o.response, "  "),
            *_belief("goodwill cost of a round of full pressure", o.goodwill_cost, "  "),
            "  utility:",
            *_utility(o.utility, s),
            *_belief("maximum pressure", o.pressure.max, "  "),
            "    shift in the target's utility at full pressure:",
            *_effects(o.pressure.shift, s, "      "),
            *_belief("maximum rhetoric", o.rhetoric.max, "  "),
        ]
        for pid, effects in o.rhetoric.effects.items():
            lines.append(f"    change in the {s.parties[pid].public.label}'s acceptance at full rhetoric:")
            lines += _effects(effects, s, "      ")
        if o.policy is not None and o.policy.kind == "stackelberg":
            shown = ", ".join(
                f"pressure {c.pressure:g} / rhetoric {c.rhetoric:g}"
                + (f" / inducement {c.inducement:g}" if c.inducement else "")
                + f" at {c.cost:g}"
                for c in o.policy.options
            )
            pair = _pair(s)
            forward = (
                f"{pair[0]} times per pair of its option and {s.patron_power[1].label}'s offer, "
                + ("answering the offer," if pair[1] else "anticipating the answer to its option,")
                if pair and s.patron_power
                else f"{o.policy.samples} times per option,"
            )
            lines += [
                f"  chooses before each run, playing the talks forward {forward} among: {shown}",
                _wrap(f"source: {o.policy.source}", "      "),
            ]
    patron = s.patron_power
    if patron:
        pid, p = patron
        shown = ", ".join(f"{c.offer:g} of the full offer at {c.cost:g}" for c in p.policy.options)
        pair = _pair(s)
        per = (
            f"{pair[0]} times per pair of its offer and the {s.outside_power[1].label}'s option, "
            + ("anticipating the answer to its offer," if pair[1] else "answering the option,")
            if pair and s.outside_power
            else f"{p.policy.samples} times per offer,"
        )
        how = (
            f"chooses before each run, playing the talks forward {per} among: {shown}"
            if p.policy.kind == "stackelberg"
            else f"makes in every run: {shown}"
        )
        lines += [
            "",
            f"{p.label} [{pid}]: outside the table, backs {s.parties[p.backs].label}'s alternative to agreement",
            *_belief(
                f"the most its offer adds to {s.parties[p.backs].label}'s value of no agreement", p.offer.max, "  "
            ),
            *_belief(f"the share of it {s.parties[p.backs].label} discounts", p.discount, "  "),
            f"  {how}",
            _wrap(f"source: {p.policy.source}", "      "),
            "  utility:",
            *_utility(p.utility, s),
        ]
    return "\n".join(lines)
