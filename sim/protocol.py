"""One round's rules, for one run, compiled (numba), with no Mesa in sight.

A round: the outside power acts on the offers standing; each public's mood moves;
the governments assess every package (their utility, the publics' opinion, the
chance of ratification); the government whose turn it is accepts the offer on the
table, counters or walks away (stacked alternating offers: with two governments,
alternating offers; a package is agreed once every other government has accepted
it), or, under the majority rule, a recognised proposer proposes and the others vote;
an agreed package goes to ratification in every country.

Each rule is a function of one run: the Mesa model's agents call them for the run
they play (sim.agents), and the batch engine calls them inside one compiled loop
over many runs (:func:`play`). A run's tables come as ``Tables.compiled()`` gives
them (a tuple of the parties' named tuples, the outside power's, the negotiation's)
with the run's row ``r``. What carries over from round to round is held in small
arrays: ``ints`` and ``reals`` (slots named below: the run's, then each party's),
``rejected``, ``packages`` (how every package looks this round) and ``gaining``; the
run's package tables, expanded from their terms when it starts, in ``tables``
(:class:`RunState` holds all of them for the Mesa model).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .draws import LAST_ROUND, MOOD, PROPOSE, RATIFY, RECOGNISE, draw, party_draw, table_draw
from .kernels import LEAN, at_least, exceeds, gaining_row, package_row, top_row, value_of
from .preferences import Tables, actual_threshold, bargaining_gain, clip01, pressed, ratify_chance, swayed
from .scenario import private_label
from .strategies import BAYESIAN, respond

# Why a run ended. A walk-out and a failed ratification carry the party concerned
# (walked_away(k), ratification_failed(k)); the first two parties keep the codes they
# have always had.
ONGOING = -1
TREATY = 0
NO_ACCEPTABLE_PACKAGE = 1
DEADLINE = 2
WALKED_AWAY = 3  # + k for parties 0 and 1
RATIFICATION_FAILED = 5  # + k for parties 0 and 1
RATIFICATION_FAILED_BOTH = 7  # in more than one country


@njit(cache=True, nogil=True, inline="always")
def walked_away(k):
    return WALKED_AWAY + k if k < 2 else 8 + 2 * (k - 2)


@njit(cache=True, nogil=True, inline="always")
def ratification_failed(k):
    return RATIFICATION_FAILED + k if k < 2 else 9 + 2 * (k - 2)


def reason_codes(n: int = 2) -> tuple[int, ...]:
    """Every code a run of n parties can end with, in order."""
    return tuple(
        sorted(
            {TREATY, NO_ACCEPTABLE_PACKAGE, DEADLINE, RATIFICATION_FAILED_BOTH}
            | {c for k in range(n) for c in (walked_away(k), ratification_failed(k))}
        )
    )


REASON_CODES = reason_codes(2)

# What the mover did, per round.
ACTIONS = ("offer", "accept", "walk away")
OFFER, ACCEPT, WALK = 0, 1, 2
NO_ACTION = -1

SQRT3 = float(np.sqrt(3.0))

# The rules at the table (NegotiationRows.majority): every party must accept (stacked
# alternating offers), or a majority passes a recognised proposer's proposal (Baron and
# Ferejohn's closed rule).
UNANIMITY, MAJORITY = 0, 1

# The slots of a run's state. Integers (``ints``), first those of the run:
PACKAGE = 0  # the package last agreed (ratified or not), -1 for none
ATTEMPTS = 1  # packages put to ratification so far
END_ROUND = 2  # 0 while ongoing
REASON = 3  # ONGOING until the run ends
ACCEPTABLE = 4  # 1 if some package leaves every government better off
ASSESSED = 5  # 1 once the packages have been assessed
LAST = 6  # the run's last round: the deadline, or drawn around it where it is uncertain
OFFERER = 7  # the party whose offer is on the table (the last offer made), -1 for none
ACCEPTED = 8  # how many parties have accepted it since
PLANNED = 9  # 1 while the majority rule's plan (``plan``) is up to date
N_INTS = 10
# then those of party k, at N_INTS + PER_INT * k + slot:
STANDING = 0  # its standing offer, -1 for none
STALE = 1  # offers it received since the best it saw improved
TOP_KNOWN = 2  # 1 while its best gain (TOP) is up to date
GAINING = 3  # how many packages it gains from (listed in ``gaining[k]``)
PER_INT = 4
# Reals (``reals``), first those of the run:
PRESSURE_TOTAL = 0  # the outside power's pressure so far
CHANCE = 1  # chance that the first package put to the publics passes them all
FELT = 2  # the pressure felt the assessment was made for
RHETORIC = 3  # the rhetoric the assessment was made for
N_REALS = 4
# then those of party k, at N_REALS + PER_REAL * k + slot:
BEST_SEEN = 0  # the best gain it saw in the others' offers
MOOD_OF = 1  # its public's mood
TOP = 2  # its best gain on offer
PER_REAL = 3


@njit(cache=True, nogil=True, inline="always")
def pi(k, slot):
    """The place of party k's integer ``slot`` in ``ints``."""
    return N_INTS + PER_INT * k + slot


@njit(cache=True, nogil=True, inline="always")
def pr(k, slot):
    """The place of party k's real ``slot`` in ``reals``."""
    return N_REALS + PER_REAL * k + slot


# How every package looks this round (``packages``): the chance that every public
# ratifies as the governments anticipate it; as the mover believes them where a number
# of another party is private (or its strategy reads them), the others' gain (the least
# of theirs) and the chance they all accept; two rows of scratch for folding the others
# together; the least of the others' own gains (with more than two at the table); then,
# for party k at P_ROWS + PER_PACKAGE * k: its utility, its public's opinion before mood
# (not clipped), its negotiating gain (-inf for a package a public rejected) and the
# chance its own ratifier passes the package. With them, ``gaining``
# (parties, packages): the numbers of the packages each government gains from, in order.
BOTH, BELIEVED, ACCEPTS, FOLD_GAIN, FOLD_ACCEPTS, LEAST = 0, 1, 2, 3, 4, 5
P_ROWS = 6
UTILITY, OPINION, GAIN, RATIFIES = 0, 1, 2, 3
PER_PACKAGE = 4


@njit(cache=True, nogil=True, inline="always")
def row(k, what):
    """The row of party k's ``what`` (UTILITY, OPINION, GAIN, RATIFIES) in ``packages``."""
    return P_ROWS + PER_PACKAGE * k + what


def package_rows(n: int) -> int:
    return P_ROWS + PER_PACKAGE * n


# What the others believe of each party's private number (``belief``, parties + 1 rows):
# row k, their posterior over party k's types (PartyRows.types), as many entries as
# party k has types; the last row, scratch for an update.

# A run's package tables (``tables``), expanded from their terms as it starts: the
# outside power's utility and the change in the pressed party's utility per unit of
# pressure felt; then, for party k at T_ROWS + PER_TABLE * k: its utility before
# pressure, its public's base acceptance, the change in that at full rhetoric and the
# slope of its gain in its private number (only where it has one); one more row,
# scratch for expanding them.
T_OUTSIDE, T_SHIFT = 0, 1
T_ROWS = 2
T_UTILITY, T_ACCEPTANCE, T_RHETORIC, T_SLOPE = 0, 1, 2, 3
PER_TABLE = 4


@njit(cache=True, nogil=True, inline="always")
def trow(k, what):
    """The row of party k's ``what`` (T_UTILITY, T_ACCEPTANCE, T_RHETORIC, T_SLOPE) in ``tables``."""
    return T_ROWS + PER_TABLE * k + what


def table_rows(n: int) -> int:
    """Rows of ``tables``, with the scratch row."""
    return T_ROWS + PER_TABLE * n + 1


def record_size(n: int) -> int:
    """Values in one round's record (see :func:`record`)."""
    return 2 + n * (n + 2) + 4 + n * (n + 1) + n


def ballot_size(n: int) -> int:
    """Values in one round's ballot: the package put to the ratifiers, each one's probability and vote."""
    return 1 + 2 * n


RECORD = record_size(2)


def reason_label(code: int, party_labels: tuple[str, ...]) -> str:
    if code == TREATY:
        return "treaty"
    if code == NO_ACCEPTABLE_PACKAGE:
        return "no package acceptable to both" if len(party_labels) == 2 else "no package acceptable to all"
    if code == DEADLINE:
        return "deadline reached"
    if code == RATIFICATION_FAILED_BOTH:
        return "ratification failed in both" if len(party_labels) == 2 else "ratification failed in more than one"
    for k, label in enumerate(party_labels):
        if code == walked_away(k):
            return f"{label} walked away"
        if code == ratification_failed(k):
            return f"ratification failed in {label}"
    return "ongoing"


# --------------------------------------------------------------------------- rules


@njit(cache=True, nogil=True, inline="always")
def mover(round_, opener, n):
    """Index of the party whose turn it is: the opener in round 1, then each in turn."""
    return (opener + (round_ - 1)) % n


@njit(cache=True, nogil=True, inline="always")
def start(ints, reals, rejected, n):
    """A run's state before its first round."""
    ints[:] = 0
    ints[PACKAGE] = ints[OFFERER] = -1
    ints[REASON] = ONGOING
    reals[:] = 0.0
    for k in range(n):
        ints[pi(k, STANDING)] = -1
        reals[pr(k, BEST_SEEN)] = -np.inf
    rejected[:] = False


@njit(cache=True, nogil=True, inline="always")
def last_round(neg, r, seed):
    """The run's last round: the deadline or, where the negotiators know only that it lies
    within deadline -/+ spread, a round drawn uniformly from those by the run's seed."""
    spread = neg.deadline_spread[r]
    if spread == 0:
        return neg.deadline[r]
    u = draw(seed, 0, LAST_ROUND)
    return neg.deadline[r] - spread + min(int(u * (2 * spread + 1)), 2 * spread)


@njit(cache=True, nogil=True, inline="always")
def start_beliefs(ps, r, belief):
    """The others' prior over each party's private number (its reservation, treaty value
    or another number of its utility; under complete information, one type), before the
    first round."""
    belief[:] = 0.0
    for k in range(len(ps)):
        for q in range(ps[k].prior.shape[1]):
            belief[k, q] = ps[k].prior[r, q]


@njit(**LEAN)
def expand(ps, o, r, counts, cells, tables):
    """Run r's package tables from their terms (``counts``: the options of each issue;
    ``cells``: the cell of each pair of issues each package picks, OutcomeSpace.pair_cells);
    a party's slope only where a number of its is private (no other rule reads it)."""
    scratch = tables[tables.shape[0] - 1]
    for k in range(len(ps)):
        p = ps[k]
        package_row(p.utility_terms[r], counts, cells, tables[trow(k, T_UTILITY)], scratch)
        package_row(p.acceptance_terms[r], counts, cells, tables[trow(k, T_ACCEPTANCE)], scratch)
        package_row(p.rhetoric_terms[r], counts, cells, tables[trow(k, T_RHETORIC)], scratch)
        if p.private[r]:
            package_row(p.private_terms[r], counts, cells, tables[trow(k, T_SLOPE)], scratch)
    package_row(o.utility_terms[r], counts, cells, tables[T_OUTSIDE], scratch)
    package_row(o.shift_terms[r], counts, cells, tables[T_SHIFT], scratch)


@njit(cache=True, nogil=True, inline="always")
def outside_move(round_, ps, o, r, tables, packages, ints):
    """The outside power's rule: (alarm, pressure, rhetoric, pressure felt). It watches the
    standing offers of every party; its threat is what the worst of them for it would cost
    it against the status quo, counting only offers within reach: every government
    prefers them to no agreement by its own preferences, before any pressure (so its own
    pressure does not talk it out of pressing). Talks going nowhere cost it nothing. It
    presses once the threat exceeds the goodwill one round of full pressure costs it, its
    alarm rising by `response` per unit beyond (L11, L19, L25), linearly up to full alarm
    or, if the scenario says so, smoothly (1 - exp(-response x excess)); the threat may
    count the chance that the publics ratify the offer, as last assessed. Pressure is
    felt less the more autonomous the target is (L15, L17). Before the first round
    (``ints`` None) no offer stands."""
    threat = 0.0
    n = len(ps)
    for k in range(n):
        package = ints[pi(k, STANDING)]
        if package < 0:
            continue
        reach = True
        for q in range(n):
            reach = reach and exceeds(tables[trow(q, T_UTILITY), package], ps[q].reservation[r])
        if reach:
            cost = max(0.0, o.reservation[r] - tables[T_OUTSIDE, package])
            threat = max(threat, cost * packages[BOTH, package] if o.expected[r] else cost)
    excess = threat - o.goodwill_cost[r]
    if not o.active[r]:
        alarm = 0.0
    elif o.smooth[r]:
        alarm = 1.0 - np.exp(-o.response[r] * excess) if excess > 0.0 else 0.0
    else:
        alarm = clip01(o.response[r] * excess)
    autonomy = clip01(o.autonomy[r] + o.autonomy_growth[r] * (round_ - 1))
    pressure = o.pressure_max[r] * alarm
    return alarm, pressure, o.rhetoric_max[r] * alarm, pressure * (1.0 - autonomy)


@njit(cache=True, nogil=True, inline="always")
def mood_step(mood, volatility, seed, round_, public):
    """A public's mood after this round's shock: uniform, mean 0, s.d. `volatility`."""
    u = party_draw(seed, round_, MOOD, public)
    return mood + volatility * SQRT3 * (2.0 * u - 1.0)


@njit(cache=True, nogil=True, inline="always")
def assess(ps, o, neg, r, tables, felt, rhetoric, rejected, packages):
    """Each government's utility and negotiating gain for every package, and each public's
    opinion, written to ``packages``; returns whether some package leaves every
    government better off. Governments anticipate ratification from the publics' known
    opinion (polls and rhetoric) and their belief about each ratifier's threshold
    (``threshold`` and ``margin``: the public's, or a named institution's); they do not
    see the mood, which moves only the vote itself, and take it at its mean, 0.

    Per package: the pressed party's utility is sim.preferences.pressed, each public's
    opinion sim.preferences.swayed, each ratifier's chance sim.preferences.ratify_chance of
    the clipped opinion (1 without ratification), the chance that all ratify their
    product, each gain sim.preferences.bargaining_gain (with the government's own
    ratifier's chance and its failure cost), and a package a public rejected gains nothing.
    (Passes over few arrays each, without branches: they vectorise.)"""
    n = len(ps)
    shift = tables[T_SHIFT]
    ratifies = neg.ratification[r]
    chances = packages[BOTH]
    for k in range(n):
        p = ps[k]
        _pressed_row(tables[trow(k, T_UTILITY)], shift, felt if o.target[r] == k else 0.0, packages[row(k, UTILITY)])
        _swayed_row(tables[trow(k, T_ACCEPTANCE)], tables[trow(k, T_RHETORIC)], rhetoric, packages[row(k, OPINION)])
        _chance_row(packages[row(k, OPINION)], ratifies, p.threshold[r], p.margin[r], packages[row(k, RATIFIES)])
    first = packages[row(0, RATIFIES)]
    for j in range(chances.shape[0]):
        chances[j] = first[j]
    for k in range(1, n):
        mine = packages[row(k, RATIFIES)]
        for j in range(chances.shape[0]):
            chances[j] *= mine[j]
    for k in range(n):
        p = ps[k]
        _gain_row(
            packages[row(k, UTILITY)],
            p.reservation[r],
            p.anticipation[r],
            chances,
            packages[row(k, RATIFIES)],
            p.failure_cost[r],
            rejected,
            packages[row(k, GAIN)],
        )
    return _all_gain(packages, n)


@njit(cache=True, nogil=True, inline="always")
def _pressed_row(utility, shift, pressure, out):
    for j in range(out.shape[0]):
        out[j] = pressed(utility[j], shift[j], pressure)


@njit(cache=True, nogil=True, inline="always")
def _swayed_row(base, effect, rhetoric, out):
    for j in range(out.shape[0]):
        out[j] = swayed(base[j], effect[j], rhetoric)


@njit(cache=True, nogil=True, inline="always")
def _chance_row(opinion, ratifies, threshold, margin, out):
    for j in range(out.shape[0]):
        out[j] = ratify_chance(clip01(opinion[j]), threshold, margin) if ratifies else 1.0


@njit(cache=True, nogil=True, inline="always")
def _gain_row(utility, reservation, anticipation, both, own, cost, rejected, out):
    for j in range(out.shape[0]):
        g = bargaining_gain(utility[j], reservation, anticipation, both[j], own[j], cost)
        out[j] = -np.inf if rejected[j] else g


@njit(cache=True, nogil=True, inline="always")
def _all_gain(packages, n):
    """Whether some package leaves every government better off (a rejected one gains -inf)."""
    for j in range(packages.shape[1]):
        every = True
        for k in range(n):
            every = every and exceeds(packages[row(k, GAIN), j], 0.0)
        if every:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def refresh(ps, o, neg, r, tables, felt, rhetoric, ints, reals, rejected, packages, gaining):
    """Assess the packages if they have not been, or if the pressure felt or the rhetoric
    changed since they were (nothing else they depend on changes within a run). The
    comparison is exact on purpose: it only spares recomputing what would come out the same."""
    if ints[ASSESSED] and felt == reals[FELT] and rhetoric == reals[RHETORIC]:
        return
    ints[ACCEPTABLE] = assess(ps, o, neg, r, tables, felt, rhetoric, rejected, packages)
    ints[ASSESSED] = 1
    reals[FELT], reals[RHETORIC] = felt, rhetoric
    _gains_changed(ints, packages, gaining, len(ps))


@njit(cache=True, nogil=True, inline="always")
def _gains_changed(ints, packages, gaining, n):
    """List again the packages each side gains from; its best gain, and the majority
    rule's plan, are to be found again."""
    for k in range(n):
        ints[pi(k, GAINING)] = gaining_row(packages[row(k, GAIN)], gaining[k])
        ints[pi(k, TOP_KNOWN)] = 0
    ints[PLANNED] = 0


@njit(cache=True, nogil=True, inline="always")
def top(ints, reals, packages, k):
    """Party k's best gain on offer (0 if it gains from nothing), kept until the gains change."""
    if not ints[pi(k, TOP_KNOWN)]:
        reals[pr(k, TOP)] = top_row(packages[row(k, GAIN)])
        ints[pi(k, TOP_KNOWN)] = 1
    return reals[pr(k, TOP)]


@njit(cache=True, nogil=True, inline="always")
def gain_if(gain, value, type_, slope, anticipation, both):
    """A party's gain from a package were its private number ``type_`` rather than the
    ``value`` its ``gain`` was assessed with. sim.preferences.bargaining_gain is linear in
    U - reservation, with slope f = 1 - anticipation (1 - both), and U - reservation is
    linear in each number of the utility, with the package's ``slope``
    (sim.preferences._slope_terms): -1 for a reservation, +1 for a treaty value, the
    issue's weight for an option's value in a package that chooses it (0 in one that does
    not), the option's value for an issue's weight. Exactly ``gain`` at the true value itself.
    (slope x f comes first: within a package it is the same for every type, so the loops
    over types compute it once; with a slope of -1 or +1 the product is the same, bit for
    bit, in either order.)"""
    return gain + slope * (1.0 - anticipation * (1.0 - both)) * (type_ - value)


@njit(cache=True, nogil=True, inline="always")
def believe(party, r, gain, both, believed, accepts, slope, weights):
    """How one party's side of every package (its ``gain``) looks to the others, who hold
    the posterior ``weights`` over its types (PartyRows.types) where a number of its is
    private (its gain's ``slope`` in it, :func:`gain_if`): its gain at the posterior mean
    of that number (``believed``) and the chance that it accepts, the weight of the types
    that gain from the package (``accepts``); a package a public rejected gains nothing
    and is never accepted. Under complete information, its gain and 1 or 0."""
    hidden = party.private[r]
    value, anticipation, types = party.private_value[r], party.anticipation[r], party.types[r]
    mean = 0.0
    for q in range(types.shape[0]):
        mean += weights[q] * types[q]
    for j in range(gain.shape[0]):
        if gain[j] == -np.inf or not hidden:
            believed[j] = gain[j]
            accepts[j] = 1.0 if exceeds(gain[j], 0.0) else 0.0
        else:
            believed[j] = gain_if(gain[j], value, mean, slope[j], anticipation, both[j])
            chance = 0.0
            for q in range(types.shape[0]):
                if exceeds(gain_if(gain[j], value, types[q], slope[j], anticipation, both[j]), 0.0):
                    chance += weights[q]
            accepts[j] = chance


@njit(cache=True, nogil=True, inline="always")
def believe_others(ps, r, who, packages, tables, belief, own_gain):
    """How the others' side of every package looks to the mover ``who``: the least of
    their gains as it believes them (row BELIEVED) and the chance that they all accept
    (row ACCEPTS), their types independent (:func:`believe` for each). Returns whether the
    mover sees a package that leaves it better off and that the others may accept."""
    n = len(ps)
    believed, accepts = packages[BELIEVED], packages[ACCEPTS]
    both = packages[BOTH]
    if n == 2:
        k = 1 - who
        believe(ps[k], r, packages[row(k, GAIN)], both, believed, accepts, tables[trow(k, T_SLOPE)], belief[k])
    else:
        fold_gain, fold_accepts = packages[FOLD_GAIN], packages[FOLD_ACCEPTS]
        first = True
        for k in range(n):
            if k == who:
                continue
            believe(
                ps[k], r, packages[row(k, GAIN)], both, fold_gain, fold_accepts, tables[trow(k, T_SLOPE)], belief[k]
            )
            for j in range(believed.shape[0]):
                if first:
                    believed[j], accepts[j] = fold_gain[j], fold_accepts[j]
                else:
                    believed[j] = min(believed[j], fold_gain[j])
                    accepts[j] *= fold_accepts[j]
            first = False
    acceptable = False
    for j in range(own_gain.shape[0]):
        acceptable |= exceeds(own_gain[j], 0.0) & (accepts[j] > 0.0)
    return acceptable


@njit(cache=True, nogil=True, inline="always")
def on_table(ints):
    """The offer on the table: the last one made (-1 for none)."""
    offerer = ints[OFFERER]
    return ints[pi(offerer, STANDING)] if offerer >= 0 else -1


@njit(cache=True, nogil=True, inline="always")
def learn(who, action, offer, r, ps, ints, packages, tables, belief):
    """The others' posterior over the mover's types after the mover's answer, by Bayes'
    rule, where a number of the mover's is private (Zeng and Sycara 1998). An offer made
    rules out the types that would not gain from it (no strategy offers a package it does
    not gain from); the offer on the table turned down weighs each type that would have
    gained from it by ``noise``, the chance of turning down a gain (0: rules it out). On a
    divisible issue with a uniform prior, the posterior after a rejected x is uniform
    above x. Evidence that no type explains leaves the posterior as it was."""
    mover = ps[who]
    if not mover.private[r] or action != OFFER or offer < 0:
        return
    weights, likes = belief[who], belief[belief.shape[0] - 1]
    types, anticipation, noise = mover.types[r], mover.anticipation[r], mover.noise[r]
    value, gain, both = mover.private_value[r], packages[row(who, GAIN)], packages[BOTH]
    slope = tables[trow(who, T_SLOPE)]
    turned_down = on_table(ints)
    total = 0.0
    for q in range(types.shape[0]):
        like = (
            1.0 if exceeds(gain_if(gain[offer], value, types[q], slope[offer], anticipation, both[offer]), 0.0) else 0.0
        )
        if turned_down >= 0 and exceeds(
            gain_if(gain[turned_down], value, types[q], slope[turned_down], anticipation, both[turned_down]), 0.0
        ):
            like *= noise
        likes[q] = weights[q] * like
        total += likes[q]
    if total > 0.0:
        for q in range(types.shape[0]):
            weights[q] = likes[q] / total


@njit(cache=True, nogil=True, inline="always")
def prospect(own_gain, accepts):
    """The best a side can expect from the talks: its largest gain x the chance the others
    accept, over the packages it gains from (0 if none)."""
    best = 0.0
    for j in range(own_gain.shape[0]):
        if exceeds(own_gain[j], 0.0):
            best = max(best, own_gain[j] * accepts[j])
    return best


@njit(cache=True, nogil=True, inline="always")
def _others(ps, r, who, packages):
    """The others' gain as the mover reads it under complete information (the least of
    theirs, in row LEAST where there are more than one: no other rule writes it), their
    least discount factor and whether a number of any of theirs is private."""
    n = len(ps)
    if n == 2:
        k = 1 - who
        return packages[row(k, GAIN)], ps[k].discount[r], ps[k].private[r]
    least = packages[LEAST]
    first, discount, hidden = True, 1.0, False
    for k in range(n):
        if k == who:
            continue
        gain = packages[row(k, GAIN)]
        for j in range(least.shape[0]):
            least[j] = gain[j] if first else min(least[j], gain[j])
        first = False
        discount = min(discount, ps[k].discount[r])
        hidden = hidden or ps[k].private[r]
    return least, discount, hidden


@njit(cache=True, nogil=True, inline="always")
def decide(round_, ps, neg, r, who, ints, reals, packages, gaining, tables, belief):
    """The moving side's answer: (walk reason or ONGOING, accept, offer). A side walks away

    - when no package leaves every government better off than no agreement (where
      another's number is private: none that leaves it better off and that the others
      may accept, as it believes), unless the scenario says such talks stall;
    - when its patience with unimproved offers has run out, or when another round costs
      it (``round_cost``) at least the best it can expect from the talks
      (:func:`prospect`), and its strategy would not accept the offer on the table.

    Otherwise its strategy accepts or counters, reading the others' gain as it believes
    it (:func:`believe_others`: with more than one other, the least of their gains,
    which the strategies read as they read one other's); in stalled talks a side that
    gains from no package withdraws its offer (it has none standing). In the last round
    no counter-offer could be answered, so the mover accepts any offer on the table that
    leaves it better off than no agreement; where the last round is uncertain, it knows
    the last only in the last one possible."""
    own = ps[who]
    own_gain = packages[row(who, GAIN)]
    other_gain, other_discount, hidden = _others(ps, r, who, packages)
    own_offer, other_offer = ints[pi(who, STANDING)], on_table(ints)
    kind = own.strategy[r]
    acceptable = ints[ACCEPTABLE] != 0
    costly = own.round_cost[r] > 0.0
    if hidden or kind == BAYESIAN or costly:
        believed = believe_others(ps, r, who, packages, tables, belief, own_gain)
        if hidden:
            acceptable, other_gain = believed, packages[BELIEVED]
        if kind == BAYESIAN:
            other_gain = packages[ACCEPTS]
    known = top(ints, reals, packages, who) if kind == 0 else 0.0  # only time-dependent concession uses it
    deadline = neg.deadline[r]
    accept, offer = respond(
        kind,
        round_,
        deadline,
        own_gain,
        other_gain,
        gaining[who, : ints[pi(who, GAINING)]],
        own_offer,
        other_offer,
        own.beta[r],
        own.tolerance[r],
        own.discount[r],
        other_discount,
        known,
    )
    if round_ >= deadline + neg.deadline_spread[r] and exceeds(value_of(own_gain, other_offer), 0.0):
        accept = True  # the last round, as far as the mover knows
    patience = own.patience[r]
    impatient = patience > 0 and ints[pi(who, STALE)] >= patience and not accept
    if costly and not accept and not exceeds(prospect(own_gain, packages[ACCEPTS]), own.round_cost[r]):
        impatient = True  # the talks no longer pay for another round
    if not acceptable and not neg.stall[r]:
        walk = NO_ACCEPTABLE_PACKAGE
    elif impatient:
        walk = walked_away(who)
    else:
        walk = ONGOING
    return walk, accept and walk == ONGOING, offer


@njit(cache=True, nogil=True, inline="always")
def action_of(walk, accept):
    return WALK if walk != ONGOING else (ACCEPT if accept else OFFER)


@njit(cache=True, nogil=True, inline="always")
def agreed(ints, action, n):
    """The package every party has now agreed to, -1 for none: under unanimity, the offer
    on the table once the mover's acceptance is the last one it needed."""
    if action == ACCEPT and ints[ACCEPTED] + 1 >= n - 1:
        return on_table(ints)
    return -1


# ----------------------------------------------------------- the majority rule


@njit(cache=True, nogil=True, inline="always")
def quorum(n):
    """Votes that pass a proposal under the majority rule, the proposer's among them."""
    return n // 2 + 1


@njit(cache=True, nogil=True, inline="always")
def _passes(packages, j, proposer, n, ps, r, plan, t):
    """Whether package j, proposed by ``proposer`` in round t, wins a majority: the votes of
    the parties whose gain is at least their discounted value of going on (``plan`` row t + 1)."""
    votes = 1
    for k in range(n):
        if k != proposer and at_least(packages[row(k, GAIN), j], ps[k].discount[r] * plan[t + 1, k]):
            votes += 1
    return votes >= quorum(n)


@njit(cache=True, nogil=True, inline="always")
def _best_proposal(packages, proposer, n, ps, r, plan, t):
    """The proposer's best gain among the packages that pass (-inf if none) and how many
    packages reach it (up to TIE)."""
    gain = packages[row(proposer, GAIN)]
    best = -np.inf
    for j in range(gain.shape[0]):
        if gain[j] > -np.inf and exceeds(gain[j], best) and _passes(packages, j, proposer, n, ps, r, plan, t):
            best = gain[j]
    count = 0
    if best > -np.inf:
        for j in range(gain.shape[0]):
            if gain[j] > -np.inf and at_least(gain[j], best) and _passes(packages, j, proposer, n, ps, r, plan, t):
                count += 1
    return best, count


@njit(cache=True, nogil=True, inline="always")
def _nth_proposal(packages, proposer, n, ps, r, plan, t, best, m):
    """The m-th (from 0) package that passes and reaches the proposer's best gain."""
    gain = packages[row(proposer, GAIN)]
    for j in range(gain.shape[0]):
        if gain[j] > -np.inf and at_least(gain[j], best) and _passes(packages, j, proposer, n, ps, r, plan, t):
            if m == 0:
                return j
            m -= 1
    return -1


@njit(cache=True, nogil=True, inline="always")
def plan_values(ps, r, horizon, packages, plan):
    """Each party's value of the talks at the start of each round, in gains (``plan``,
    (horizon + 2, parties)): Baron and Ferejohn's closed rule played backwards from the
    last round, ``horizon``. After it, nothing (gain 0, no agreement). In round t each
    party is recognised with chance 1/n; a voter accepts what gives it at least its
    discount factor times its value of round t + 1; the proposer proposes its best
    package among those that pass, each of its best equally likely, or lets the round
    pass if its discounted value of going on is more. With symmetric parties and one unit
    to divide this is their stationary equilibrium: the proposer keeps 1 - d (n - 1) / (2n)
    and (n - 1) / 2 partners get d / n each."""
    n = len(ps)
    for k in range(n):
        plan[horizon + 1, k] = 0.0
    for t in range(horizon, 0, -1):
        for k in range(n):
            plan[t, k] = 0.0
        for p in range(n):
            best, count = _best_proposal(packages, p, n, ps, r, plan, t)
            if best == -np.inf or exceeds(ps[p].discount[r] * plan[t + 1, p], best):
                for k in range(n):
                    plan[t, k] += ps[k].discount[r] * plan[t + 1, k] / n
                continue
            gain = packages[row(p, GAIN)]
            for j in range(gain.shape[0]):  # each of its best packages, in order (:func:`_nth_proposal`'s)
                if gain[j] > -np.inf and at_least(gain[j], best) and _passes(packages, j, p, n, ps, r, plan, t):
                    for k in range(n):
                        plan[t, k] += packages[row(k, GAIN), j] / (n * count)


@njit(cache=True, nogil=True, inline="always")
def propose(round_, ps, neg, r, seed, ints, packages, plan):
    """Under the majority rule, this round: (proposer, proposal or -1, passed). The
    proposer is recognised at random, each party equally likely; it proposes as
    :func:`plan_values` says (one of its best drawn at random), and the others vote."""
    n = len(ps)
    horizon = neg.deadline[r]
    if not ints[PLANNED]:
        plan_values(ps, r, horizon, packages, plan)
        ints[PLANNED] = 1
    who = min(int(table_draw(seed, round_, RECOGNISE) * n), n - 1)
    t = min(round_, horizon)
    best, count = _best_proposal(packages, who, n, ps, r, plan, t)
    if best == -np.inf or exceeds(ps[who].discount[r] * plan[t + 1, who], best):
        return who, -1, False
    m = min(int(table_draw(seed, round_, PROPOSE) * count), count - 1)
    return who, _nth_proposal(packages, who, n, ps, r, plan, t, best, m), True


# ----------------------------------------------------------- ratification and the end


@njit(cache=True, nogil=True, inline="always")
def acceptance_today(packages, mood, package, public):
    """Share of a public accepting a package today (its opinion plus mood); NaN for none."""
    return clip01(value_of(packages[row(public, OPINION)], package) + mood)


@njit(cache=True, nogil=True, inline="always")
def ratify(round_, party, neg, r, packages, mood, seed, package, public):
    """Put the package to one country's ratifier: (probability, passed). Without
    ratification in the scenario every package passes. The public (no institution named)
    passes it at random: the vote compares the round's uniform draw with the chance, a
    decision which a chance moved by e changes with probability e. An institution
    (``institution`` > 0) passes it exactly when the share accepting today (opinion plus
    mood) exceeds the run's actual threshold, drawn once from the negotiators' belief
    (:func:`institution_threshold`); the probability reported is what that belief gave
    the share of the day. The public's rule is the special case of a threshold drawn anew
    at every vote (sim.preferences.ratify_chance, actual_threshold)."""
    prob = 1.0
    if not neg.ratification[r]:
        return prob, party_draw(seed, round_, RATIFY, public) < prob
    share = acceptance_today(packages, mood, package, public)
    prob = ratify_chance(share, party.threshold[r], party.margin[r])
    if party.institution[r] > 0:
        return prob, exceeds(share, institution_threshold(party, r, seed, public))
    return prob, party_draw(seed, round_, RATIFY, public) < prob


@njit(cache=True, nogil=True, inline="always")
def institution_threshold(party, r, seed, public):
    """The run's actual threshold of a country's institution: the quantile of the
    negotiators' belief given by the run's draw for round 0 (no round plays it) in the
    public's ratification slot. One seed decides it, whatever the machine or engine."""
    return actual_threshold(party.threshold[r], party.margin[r], party_draw(seed, 0, RATIFY, public))


@njit(cache=True, nogil=True, inline="always")
def vote(round_, ps, neg, r, packages, reals, seed, package, ballot):
    """Put the package to every country's ratifier; write the ballot (package, each
    probability, each vote)."""
    n = len(ps)
    ballot[0] = package
    for k in range(n):
        prob, passed = ratify(round_, ps[k], neg, r, packages, reals[pr(k, MOOD_OF)], seed, package, k)
        ballot[1 + k], ballot[1 + n + k] = prob, passed


@njit(cache=True, nogil=True, inline="always")
def settle(round_, neg, r, who, action, walk, offer, package, ballot, n, ints, reals, rejected, packages, gaining):
    """Carry out the mover's answer: a walk-out ends the run; an offer stands (under the
    majority rule, the proposal); an acceptance counts towards the offer on the table; a
    package every party has agreed (``package``; its ``ballot`` from :func:`vote`) ends the
    run as a treaty or a failed ratification, or talks go on without that package if the
    scenario says so. A run still going at its last round (ints[LAST]) ends there."""
    if action == WALK:
        _end(ints, round_, walk)
    elif action == OFFER:
        _record_offer(who, offer, n, ints, reals, packages)
    elif package < 0:
        ints[ACCEPTED] += 1
    if package >= 0:
        ints[PACKAGE] = package
        if ints[ATTEMPTS] == 0:
            chance = ballot[1]
            for k in range(1, n):
                chance *= ballot[1 + k]
            reals[CHANCE] = chance
        ints[ATTEMPTS] += 1
        failed, last = 0, 0
        for k in range(n):
            if not ballot[1 + n + k]:
                failed += 1
                last = k
        if failed == 0:
            _end(ints, round_, TREATY)
        elif neg.continue_after_failure[r] and round_ < ints[LAST]:
            _reopen(package, n, ints, reals, rejected, packages, gaining)
        elif failed > 1:
            _end(ints, round_, RATIFICATION_FAILED_BOTH)
        else:
            _end(ints, round_, ratification_failed(last))
    if ints[REASON] == ONGOING and round_ >= ints[LAST]:
        _end(ints, round_, DEADLINE)


@njit(cache=True, nogil=True, inline="always")
def _end(ints, round_, reason):
    ints[REASON] = reason
    ints[END_ROUND] = round_


@njit(cache=True, nogil=True, inline="always")
def _record_offer(who, offer, n, ints, reals, packages):
    """The mover's counter-offer stands, on the table; each other party notes whether it
    improved (by more than TIE). In stalled talks a side that gains from no package has
    none standing (-1), which improves nothing."""
    ints[pi(who, STANDING)] = offer
    ints[OFFERER], ints[ACCEPTED] = who, 0
    for receiver in range(n):
        if receiver == who:
            continue
        if offer < 0:
            ints[pi(receiver, STALE)] += 1
            continue
        gain = packages[row(receiver, GAIN), offer]
        if exceeds(gain, reals[pr(receiver, BEST_SEEN)]):
            reals[pr(receiver, BEST_SEEN)] = gain
            ints[pi(receiver, STALE)] = 0
        else:
            ints[pi(receiver, STALE)] += 1


@njit(cache=True, nogil=True, inline="always")
def _reopen(package, n, ints, reals, rejected, packages, gaining):
    """After a failed ratification, talks go on without that package."""
    rejected[package] = True
    for k in range(n):
        packages[row(k, GAIN), package] = -np.inf
    _gains_changed(ints, packages, gaining, n)
    ints[ACCEPTABLE] = _all_gain(packages, n)
    ints[OFFERER], ints[ACCEPTED] = -1, 0
    for k in range(n):
        ints[pi(k, STANDING)] = -1
        reals[pr(k, BEST_SEEN)] = -np.inf
        ints[pi(k, STALE)] = 0


@njit(cache=True, nogil=True, inline="always")
def record(tables, ps, r, who, action, alarm, pressure, rhetoric, felt, ints, reals, packages, belief, out):
    """This round's record (``out``, record_size(n) slots): the mover and its action; each
    standing offer and its utility to each party (this round's, with pressure) and to the
    outside power; the outside power's alarm, pressure, pressure felt and rhetoric; each
    public's mood and its acceptance today of each standing offer; what the others expect
    each party's private belief to be (its posterior mean, after this round's lesson)."""
    n = len(ps)
    out[0], out[1] = who, action
    for k in range(n):
        offer = ints[pi(k, STANDING)]
        at_ = 2 + (n + 2) * k
        out[at_] = offer
        for q in range(n):
            out[at_ + 1 + q] = value_of(packages[row(q, UTILITY)], offer)
        out[at_ + 1 + n] = value_of(tables[T_OUTSIDE], offer)
    at_ = 2 + n * (n + 2)
    out[at_], out[at_ + 1], out[at_ + 2], out[at_ + 3] = alarm, pressure, felt, rhetoric
    at_ += 4
    for k in range(n):
        mood = reals[pr(k, MOOD_OF)]
        out[at_ + (n + 1) * k] = mood
        for j in range(n):
            out[at_ + (n + 1) * k + 1 + j] = acceptance_today(packages, mood, ints[pi(j, STANDING)], k)
    at_ += n * (n + 1)
    for k in range(n):
        types = ps[k].types[r]
        mean = 0.0
        for q in range(types.shape[0]):
            mean += belief[k, q] * types[q]
        out[at_ + k] = mean


# --------------------------------------------------------------------------- many runs


@njit(cache=True, nogil=True)
def play(ps, o, neg, counts, cells, shared, seeds, keep_records, ints_out, reals_out, path, actions, votes, records):
    """The batch engine: play one negotiation per seed, every round in the order the Mesa
    model plays it (outside power, moods, assessment, the mover's answer, the votes), with
    the same rules. Run i uses row 0 of the tables if ``shared``, else row i; its package
    tables are expanded from their terms (``counts``: the options of each issue; ``cells``:
    the cell of each pair of issues each package picks, OutcomeSpace.pair_cells). Writes each
    run's final state (``ints_out``, ``reals_out``: the run's slots, N_INTS and N_REALS),
    its pressure per round (``path``), its action per round (``actions``, NO_ACTION once
    ended), the ballots of rounds in which a package went to the ratifiers (``votes``, as
    :func:`vote` writes them; left as they were in other rounds) and, if ``keep_records``,
    each round's record."""
    n = len(ps)
    size = 1
    for k in counts:
        size *= k
    ints, reals = np.empty(N_INTS + PER_INT * n, np.int64), np.empty(N_REALS + PER_REAL * n)
    rejected, tables = np.empty(size, np.bool_), np.empty((T_ROWS + PER_TABLE * n + 1, size))
    packages, gaining = np.empty((P_ROWS + PER_PACKAGE * n, size)), np.empty((n, size), np.int64)
    types = 1
    for k in range(n):
        types = max(types, ps[k].types.shape[1])
    belief = np.empty((n + 1, types))
    horizon = 1
    for r in range(neg.deadline.shape[0]):
        horizon = max(horizon, neg.deadline[r])
    plan = np.empty((horizon + 2, n))
    _play(
        ps,
        o,
        neg,
        counts,
        cells,
        shared,
        seeds,
        keep_records,
        ints_out,
        reals_out,
        path,
        actions,
        votes,
        records,
        ints,
        reals,
        rejected,
        packages,
        tables,
        gaining,
        belief,
        plan,
    )


@njit(**LEAN)
def _play(
    ps,
    o,
    neg,
    counts,
    cells,
    shared,
    seeds,
    keep_records,
    ints_out,
    reals_out,
    path,
    actions,
    votes,
    records,
    ints,
    reals,
    rejected,
    packages,
    tables,
    gaining,
    belief,
    plan,
):
    """:func:`play`, given the arrays of one run's state to reuse from run to run."""
    n = len(ps)
    if shared:
        expand(ps, o, 0, counts, cells, tables)
    for i in range(seeds.shape[0]):
        r = 0 if shared else i
        if not shared:
            expand(ps, o, r, counts, cells, tables)
        seed = seeds[i]
        start(ints, reals, rejected, n)
        ints[LAST] = last_round(neg, r, seed)
        start_beliefs(ps, r, belief)
        t = 0
        while ints[REASON] == ONGOING:
            t += 1
            alarm, pressure, rhetoric, felt = outside_move(t, ps, o, r, tables, packages, ints)
            reals[PRESSURE_TOTAL] += pressure
            path[i, t - 1] = pressure
            for k in range(n):
                reals[pr(k, MOOD_OF)] = mood_step(reals[pr(k, MOOD_OF)], ps[k].volatility[r], seed, t, k)
            refresh(ps, o, neg, r, tables, felt, rhetoric, ints, reals, rejected, packages, gaining)
            if neg.majority[r]:
                who, offer, passed = propose(t, ps, neg, r, seed, ints, packages, plan)
                walk, action, package = ONGOING, OFFER, offer if passed else -1
            else:
                who = mover(t, neg.opener[r], n)
                walk, accept, offer = decide(t, ps, neg, r, who, ints, reals, packages, gaining, tables, belief)
                action = action_of(walk, accept)
                learn(who, action, offer, r, ps, ints, packages, tables, belief)
                package = agreed(ints, action, n)
            ballot = votes[i, t - 1]
            if package >= 0:
                vote(t, ps, neg, r, packages, reals, seed, package, ballot)
            settle(t, neg, r, who, action, walk, offer, package, ballot, n, ints, reals, rejected, packages, gaining)
            actions[i, t - 1] = action
            if keep_records:
                record(
                    tables,
                    ps,
                    r,
                    who,
                    action,
                    alarm,
                    pressure,
                    rhetoric,
                    felt,
                    ints,
                    reals,
                    packages,
                    belief,
                    records[i, t - 1],
                )
        for q in range(N_INTS):  # (row assignments would need the runtime)
            ints_out[i, q] = ints[q]
        for q in range(N_REALS):
            reals_out[i, q] = reals[q]


# --------------------------------------------------------------------------- one run


class RunState:
    """One run (the Mesa model's): its package tables, and what carries from one round to
    the next, with its slots by name. ``rows`` are its tables as Tables.compiled() gives them;
    ``counts`` and ``cells`` its outcome space's (OutcomeSpace.counts, .pair_cells)."""

    def __init__(self, rows: tuple, counts: np.ndarray, cells: np.ndarray, seed: int):
        ps, o, neg = rows
        n = self.n = len(ps)
        size = int(np.prod(counts))
        self.seed = np.uint64(seed)
        self.tables = np.empty((table_rows(n), size))
        expand(ps, o, 0, counts, cells, self.tables)
        self.ints, self.reals = np.empty(N_INTS + PER_INT * n, np.int64), np.empty(N_REALS + PER_REAL * n)
        self.rejected, self.packages = np.empty(size, bool), np.empty((package_rows(n), size))
        self.gaining = np.empty((n, size), np.int64)
        self.belief = np.empty((n + 1, max(p.types.shape[1] for p in ps)))
        self.plan = np.empty((int(neg.deadline[0]) + 2, n))
        start(self.ints, self.reals, self.rejected, n)
        self.ints[LAST] = last_round(neg, 0, self.seed)
        start_beliefs(ps, 0, self.belief)

    @property
    def offers(self) -> np.ndarray:
        """Each party's standing offer."""
        return np.array([self.ints[N_INTS + PER_INT * k + STANDING] for k in range(self.n)])

    def mood_slot(self, k: int) -> int:
        return N_REALS + PER_REAL * k + MOOD_OF

    reason = property(lambda self: int(self.ints[REASON]))
    end_round = property(lambda self: int(self.ints[END_ROUND]))
    package = property(lambda self: int(self.ints[PACKAGE]), doc="the package last agreed, -1 for none")
    attempts = property(lambda self: int(self.ints[ATTEMPTS]))
    chance = property(lambda self: float(self.reals[CHANCE]))
    pressure_total = property(lambda self: float(self.reals[PRESSURE_TOTAL]))

    @property
    def active(self) -> bool:
        return self.reason == ONGOING


# --------------------------------------------------------------------------- records


def private_name(party) -> str:
    """What is private about a party (PartyTables), as the record's columns name it
    (sim.scenario.private_label): ``reservation``, ``treaty_value``, ``<issue>_<k>_value``,
    ``<issue>_<k>_otherwise`` or ``<issue>_weight``."""
    return private_label(party.private_key)


def round_columns(tables: Tables) -> list[str]:
    """Names of the per-round record's columns (beyond the run and round)."""
    return list(_record_slots(tables))


def _record_slots(tables: Tables) -> dict[str, int]:
    """Each record column's slot in the record_size(n) values that :func:`record` writes."""
    ids, oid = tables.party_ids, tables.outside_id
    n = len(ids)
    slots = {"mover": 0, "action": 1}
    for k, p in enumerate(ids):
        at = 2 + (n + 2) * k
        slots[f"offer_{p}"] = at
        for j, q in enumerate(ids):
            slots[f"offer_{p}_utility_{q}"] = at + 1 + j
        if oid:
            slots[f"offer_{p}_utility_{oid}"] = at + 1 + n
    at = 2 + n * (n + 2)
    if oid:
        for i, name in enumerate(("alarm", "pressure", "pressure_felt", "rhetoric")):
            slots[f"{oid}_{name}"] = at + i
    at += 4
    for k, p in enumerate(ids):
        slots[f"public_{p}_mood"] = at + (n + 1) * k
        for j, q in enumerate(ids):
            slots[f"public_{p}_accepts_{q}_offer"] = at + (n + 1) * k + 1 + j
    at += n * (n + 1)
    for k, p in enumerate(ids):
        party = tables.parties[k]
        if party.private.any():  # columns only where a belief is private
            others = ids[1 - k] if n == 2 else "others"
            slots[f"{others}_expects_{p}_{private_name(party)}"] = at + k
    return slots


def record_columns(tables: Tables, values: np.ndarray) -> dict[str, np.ndarray]:
    """Rounds' records, (rounds, record_size(n)) values, as named columns: the mover by its
    id, the action by name, offers as package numbers (-1 for none)."""
    cols = {name: values[:, slot] for name, slot in _record_slots(tables).items()}
    cols["mover"] = np.array(tables.party_ids)[cols["mover"].astype(np.int64)]
    cols["action"] = np.array(ACTIONS)[cols["action"].astype(np.int64)]
    for p in tables.party_ids:
        cols[f"offer_{p}"] = cols[f"offer_{p}"].astype(np.int64)
    return cols
