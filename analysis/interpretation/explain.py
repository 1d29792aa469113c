"""Why a run ended as it did: its story in words, and, where there was no treaty, the
smallest change to one belief that would have produced one with the same draws."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dipsim.analysis.experiments.sweep import renormalise_weights
from dipsim.sim import protocol
from dipsim.sim import scenario as scenario_mod
from dipsim.sim.preferences import Tables, flatten
from dipsim.sim.run import play, simulate
from dipsim.sim.scenario import ScenarioError
from dipsim.sim.worlds import quantiles_of, world_of

STEPS = np.array([0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0])  # utility units
SKIP = ("run.", "negotiation.", "history.")
SCALE = 2.0  # beliefs searched: those on a utility or probability scale (a range within -2..2)


def load_run(folder: Path, run: int):
    spec_file, runs_file = folder / "scenario.toml", folder / "runs.parquet"
    if not spec_file.is_file() or not runs_file.is_file():
        raise ScenarioError(str(folder), "", "not a `dipsim run` folder (needs scenario.toml and runs.parquet)")
    spec = scenario_mod.load(spec_file)
    runs = pd.read_parquet(runs_file, columns=["run", "seed"])
    if not 0 <= run < len(runs):
        raise ScenarioError(str(runs_file), "--run", f"found {run}; allowed: 0 to {len(runs) - 1}")
    return spec, int(runs["seed"].iloc[run])


def story(spec, seed: int) -> tuple[list[str], object]:
    """The run replayed in the Mesa model, told round by round (repeated offers folded)."""
    model = play(spec, seed)
    t = model.tables
    space, ids, oid = t.space, t.party_ids, t.outside_id
    label = t.labels
    data = model.datacollector.get_model_vars_dataframe()
    lines = []
    patron = spec.patron_power
    if patron is not None and model.backing is not None:  # a patron made its offer before the talks
        p = patron[1]
        made = p.policy.options[model.backing]
        backed = t.parties[t.party_ids.index(p.backs)]
        offered = (
            f"made {t.labels[p.backs]} {'its full offer' if made.offer == 1 else f'{made.offer:g} of its full offer'} "
            f"(at a cost of {made.cost:g}), which raised "
            f"{t.labels[p.backs]}'s value of no agreement to {backed.reservation[0]:.3f}"
            if made.offer > 0
            else f"made {t.labels[p.backs]} no offer"
        )
        how = ""
        if p.policy.kind == "stackelberg":
            how = f"weighed {len(p.policy.options)} offers by playing the talks forward"
            if oid and model.policy is not None:  # with the outside power's choice
                first = p.policy.moves == "first"
                how += (
                    f", anticipating the {label[oid]}'s answer," if first else f", answering the {label[oid]}'s choice,"
                )
            how += " and "
        lines.append(f"Before the talks, {p.label} {how}{offered}.")
    if oid and model.policy is not None:  # a strategic power chose its caps before the talks
        choices = spec.outside[oid].policy.options
        o = choices[model.policy]
        lines.append(
            f"Before the talks, the {label[oid]} "
            + (
                f"answered {patron[1].label}'s offer: it "
                if patron is not None and model.backing is not None and patron[1].policy.moves == "first"
                else ""
            )
            + f"weighed {len(choices)} policies by playing the talks forward and "
            f"chose option {model.policy} (pressure up to {o.pressure:g} and rhetoric up to {o.rhetoric:g} of "
            f"its full strength"
            + (
                f", and {o.inducement:g} added to {label[spec.outside[oid].acts_on]}'s value of no agreement"
                if o.inducement
                else ""
            )
            + f", at a cost of {o.cost:g})."
        )
    last_offer = dict.fromkeys(ids, -1)
    pressing = 0.0
    still: list[int] = []  # rounds in a row in which the mover repeated its offer

    def flush():
        if still:
            who = {data.loc[data["round"] == r, "mover"].iloc[0] for r in still}
            span = f"round {still[0]}" if len(still) == 1 else f"rounds {still[0]} to {still[-1]}"
            subject = (
                label[next(iter(who))] + " stood by its offer"
                if len(who) == 1
                else ("both stood by their offers" if len(ids) == 2 else "each stood by its offer")
            )
            lines.append(f"In {span}, {subject}.")
            still.clear()

    hidden = {pid: protocol.private_name(t.parties[k]) for k, pid in enumerate(ids)}
    believers = (
        {ids[0]: ids[1], ids[1]: ids[0]} if len(ids) == 2 else dict.fromkeys(ids, "others")
    )  # who holds a belief about each party's private number
    label = {**label, "others": "the others"}
    beliefs = {
        (believers[party], party): f"{believers[party]}_expects_{party}_{hidden[party]}"
        for party in ids
        if f"{believers[party]}_expects_{party}_{hidden[party]}" in data
    }
    expected = {
        pair: float(np.dot(t.parties[ids.index(pair[1])].prior[0], t.parties[ids.index(pair[1])].types[0]))
        for pair in beliefs
    }
    options = dict(zip(space.issues, space.options))
    words = {pid: scenario_mod.private_phrase(t.parties[k].private_key, options) for k, pid in enumerate(ids)}
    for (believer, party), mean in expected.items():
        what = words[party]
        lines.append(
            f"{label[party]}'s {what} is its own: {label[believer]} expects it to be {mean:.3f} "
            f"(it is {t.parties[ids.index(party)].private_value[0]:.3f})."
        )

    majority = bool(t.majority[0])
    passed = {v["round"] for v in model.ratifications}
    on_table = None  # the government whose offer is on the table
    silent: set[str] = set()  # governments that have said they make no offer
    for _, r in data.iterrows():
        rnd, mover = int(r["round"]), r["mover"]
        for pair, column in beliefs.items():
            if abs(r[column] - expected[pair]) > 5e-4:
                flush()
                expected[pair] = float(r[column])
                lines.append(
                    f"Round {rnd}: from {label[pair[1]]}'s move, {label[pair[0]]} now expects its "
                    f"{words[pair[1]]} to be {expected[pair]:.3f}."
                )
        if oid and r[f"{oid}_pressure"] != pressing:
            flush()
            pressing = r[f"{oid}_pressure"]
            if pressing > 0:
                lines.append(
                    f"Round {rnd}: the {label[oid]} presses {label[t.party_ids[int(t.outside.target[0])]]} "
                    f"(pressure {pressing:.2f}, felt {r[f'{oid}_pressure_felt']:.2f}) and speaks to "
                    f"{'both publics' if len(ids) == 2 else 'the publics'} (rhetoric {r[f'{oid}_rhetoric']:.2f}): a deal is within reach."
                )
            else:
                lines.append(f"Round {rnd}: the {label[oid]} eases off: no deal within reach.")
        offer = int(r[f"offer_{mover}"])
        if r["action"] == "offer" and offer < 0 and not majority:
            if mover not in silent:  # said once; later rounds without an offer are left out
                flush()
                silent.add(mover)
                lines.append(f"Round {rnd}: {label[mover]} makes no offer: no package leaves it better off.")
            continue
        silent.discard(mover)
        if r["action"] == "offer" and offer == last_offer[mover] and not majority:
            on_table = mover
            still.append(rnd)
            continue
        flush()
        worth = ", ".join(
            [f"{r[f'offer_{mover}_utility_{q}']:.2f} to {label[q]}" for q in ids]
            + ([f"{r[f'offer_{mover}_utility_{oid}']:.2f} to the {label[oid]}"] if oid else [])
        )
        if majority and offer < 0:
            lines.append(f"Round {rnd}: {label[mover]} is recognised and proposes nothing a majority would pass.")
        elif majority:
            verdict = "a majority passes it" if rnd in passed else "no majority passes it"
            lines.append(
                f"Round {rnd}: {label[mover]} is recognised and proposes {space.label(offer)} (worth {worth}); "
                f"{verdict}."
            )
        elif r["action"] == "offer":
            last_offer[mover], on_table = offer, mover
            lines.append(f"Round {rnd}: {label[mover]} offers {space.label(offer)} (worth {worth}).")
        elif r["action"] == "accept":
            lines.append(
                f"Round {rnd}: {label[mover]} accepts {label[on_table]}'s offer, "
                f"{space.label(int(r[f'offer_{on_table}']))}"
                + ("" if len(ids) == 2 or rnd in passed else ", and waits for the others")
                + "."
            )
        else:
            lines.append(f"Round {rnd}: {label[mover]} walks away.")
    flush()
    for v in model.ratifications:
        votes = []
        for k, p in enumerate(ids):
            votes.append(
                f"{t.public_labels[k]} {'passes' if v[f'passed_{p}'] else 'rejects'} it "
                f"(chance {v[f'probability_{p}']:.2f})"
            )
        lines.append(f"Round {v['round']}: put to ratification: " + "; ".join(votes) + ".")
    reason = model.state.reason
    end = protocol.reason_label(reason, tuple(label[p] for p in ids))
    lines.append(f"The run ended in round {model.state.end_round}: {end}.")
    return lines, model


@dataclass
class Change:
    key: str
    before: float
    after: float
    package: int

    @property
    def size(self) -> float:
        return abs(self.after - self.before)


def candidates(spec) -> list[tuple[str, float, float, float]]:
    """The scenario's beliefs on a utility or probability scale: (key, value, low, high).
    Rates and counts (the USA's response, concession exponents, patience, the deadline)
    are left out: a change to them is not comparable in size."""
    out = []
    for key, value in flatten(spec.resolved()).items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or key.startswith(SKIP):
            continue
        if ".volatility." in key:  # it scales the random shocks: moving it reshuffles luck
            continue
        if ".private." in key:  # a prior's entries move together (they sum to 1)
            continue
        lo, hi = scenario_mod.range_of(key)
        if lo is None or hi is None or not -SCALE <= lo < hi <= SCALE or scenario_mod.is_whole_number(key):
            continue
        out.append((key, float(value), float(lo), float(hi)))
    return out


def smallest_changes(spec, seed: int, top: int = 5) -> list[Change]:
    """Change one belief at a time, by growing steps (utility units) in either direction,
    and replay the run with the same seed in the batch engine; the smallest changes that
    give a treaty, refined by bisection."""
    params = candidates(spec)
    leaves = flatten(spec.resolved())
    if not params:
        return []
    utilities = sorted(
        {k.split(".issues.")[0] for k, *_ in params if ".utility.issues." in k and k.endswith(".weight")}
    )

    def play_many(trials: list[tuple[int, float]]):
        n = len(trials)
        columns = {}
        for j, (i, value) in enumerate(trials):
            key = params[i][0]
            if key not in columns:
                columns[key] = np.full(n, leaves[key], dtype=float)
            columns[key][j] = value
        renormalise_weights(columns, leaves, [u for u in utilities if any(k.startswith(u) for k in columns)], n)
        tables = Tables.from_columns(spec, columns, n)
        outcomes, _ = simulate(tables, np.full(n, seed, dtype=np.uint64), rounds=False)
        return outcomes.treaty, outcomes.package

    trials = []
    for i, (_, value, lo, hi) in enumerate(params):
        for step in STEPS:
            for sign in (-1, 1):
                new = float(np.clip(value + sign * step, lo, hi))
                if new != value:
                    trials.append((i, new))
    treaty, _ = play_many(trials)
    best: dict[int, tuple[float, int]] = {}  # parameter -> (smallest change, its sign)
    for (i, new), ok in zip(trials, treaty):
        change = abs(new - params[i][1])
        if ok and change < best.get(i, (np.inf, 0))[0]:
            best[i] = (change, 1 if new > params[i][1] else -1)
    out = []
    for i in sorted(best, key=lambda i: best[i][0])[:top]:
        key, value, lo, hi = params[i]
        size, sign = best[i]
        fail, win = 0.0, size  # bisect between a change that fails and one that works
        for _ in range(12):
            mid = (fail + win) / 2
            ok, _ = play_many([(i, value + sign * mid)])
            fail, win = (fail, mid) if ok[0] else (mid, win)
        after = value + sign * win
        _, package = play_many([(i, after)])
        out.append(Change(key, value, float(after), int(package[0])))
    return sorted(out, key=lambda c: c.size)


def world_story(spec, seed: int, top: int = 8) -> list[str]:
    """What was uncertain about this run's world: the beliefs it drew furthest from the
    middle of their distributions (by quantile), with the files' points beside them."""
    numbers = scenario_mod.uncertain(spec)
    if not numbers:
        return []
    u = quantiles_of(np.array([seed], dtype=np.uint64), [x.quantile_key for x in numbers])[0]
    _, drawn = world_of(spec, seed)
    order = np.argsort(-np.abs(u - 0.5), kind="stable")[:top]
    lines = [f"This run's world: {len(numbers)} uncertain beliefs drawn from its seed; furthest from their middle:"]
    for j in order:
        x = numbers[j]
        lines.append(
            f"  {x.path} = {drawn[x.path]:.4g} (quantile {u[j]:.2f} of its {x.dist} distribution; "
            f"the file's point {x.value:g})"
        )
    return [*lines, ""]


def explain(folder: Path, run: int) -> str:
    spec, seed = load_run(folder, run)
    world, _ = world_of(spec, seed)  # the run's drawn beliefs, fixed: changes are sought from there
    lines, model = story(world, seed)
    text = [f"{spec.title}: run {run} (seed {seed}), replayed in the Mesa model", "", *world_story(spec, seed), *lines]
    if model.state.reason != protocol.TREATY:
        text += [
            "",
            (
                "The smallest change to one belief that gives a treaty with the same draws "
                "(found by replaying the run with each belief moved, then bisecting):"
            ),
        ]
        changes = smallest_changes(world, seed)
        if not changes:
            text.append("  none found: no single belief, moved anywhere in its allowed range, gives a treaty.")
        for c in changes:
            parts = c.key.split(".")
            issue = next((p for p in parts if p in spec.issues), None)
            about = f" (issue: {spec.issues[issue].label})" if issue else ""
            text.append(
                f"  {c.key}{about}: {c.before:g} -> {c.after:.4g} ({c.after - c.before:+.4g}); "
                f"treaty on {model.tables.space.label(c.package)}"
            )
    return "\n".join(text)
