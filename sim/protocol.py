"""One round's rules, for one run, compiled (numba), with no Mesa in sight.

A round: the outside power acts on the offers standing; each public's mood moves;
the governments assess every package (their utility, the publics' opinion, the
chance of ratification); the side whose turn it is accepts the standing offer,
counters or walks away; an accepted package goes to ratification in both countries.

Each rule is a function of one run: the Mesa model's agents call them for the run
they play (sim.agents), and the batch engine calls them inside one compiled loop
over many runs (:func:`play`). A run's tables come as the named tuples of
``Tables.compiled()`` with the run's row ``r``. What carries over from round to round
is held in small arrays: ``ints`` and ``reals`` (slots named below), ``rejected``,
``packages`` (how every package looks this round) and ``gaining``; the run's package
tables, expanded from their terms when it starts, in ``tables`` (:class:`RunState`
holds all of them for the Mesa model).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .draws import LAST_ROUND, MOOD, RATIFY, draw
from .kernels import LEAN, exceeds, gaining_row, package_row, top_row, value_of
from .preferences import Tables, actual_threshold, bargaining_gain, clip01, pressed, ratify_chance, swayed
from .scenario import private_label
from .strategies import BAYESIAN, respond

# Why a run ended. Codes 3-4 and 5-6 add the index of the party concerned.
ONGOING = -1
TREATY = 0
NO_ACCEPTABLE_PACKAGE = 1
DEADLINE = 2
WALKED_AWAY = 3
RATIFICATION_FAILED = 5
RATIFICATION_FAILED_BOTH = 7
REASON_CODES = (0, 1, 2, 3, 4, 5, 6, 7)

# What the mover did, per round.
ACTIONS = ("offer", "accept", "walk away")
OFFER, ACCEPT, WALK = 0, 1, 2
NO_ACTION = -1

SQRT3 = float(np.sqrt(3.0))

# The slots of a run's state. Integers (``ints``):
STANDING = 0  # STANDING + k: party k's standing offer, -1 for none
STALE = 2  # STALE + k: offers party k received since the best it saw improved
PACKAGE = 4  # the package last agreed (ratified or not), -1 for none
ATTEMPTS = 5  # packages put to ratification so far
END_ROUND = 6  # 0 while ongoing
REASON = 7  # ONGOING until the run ends
ACCEPTABLE = 8  # 1 if some package leaves both governments better off
ASSESSED = 9  # 1 once the packages have been assessed
TOP_KNOWN = 10  # TOP_KNOWN + k: 1 while party k's best gain (TOP + k) is up to date
GAINING = 12  # GAINING + k: how many packages party k gains from (listed in ``gaining[k]``)
LAST = 14  # the run's last round: the deadline, or drawn around it where it is uncertain
N_INTS = 15
# Reals (``reals``):
BEST_SEEN = 0  # BEST_SEEN + k: best gain party k saw in the other side's offers
MOOD_OF = 2  # MOOD_OF + k: public k's mood
PRESSURE_TOTAL = 4  # the outside power's pressure so far
CHANCE = 5  # chance that the first package put to the publics passes both
TOP = 6  # TOP + k: party k's best gain on offer
FELT = 8  # the pressure felt the assessment was made for
RHETORIC = 9  # the rhetoric the assessment was made for
N_REALS = 10
# How every package looks this round (``packages``, 9 rows): each party's utility,
# each public's opinion before mood (not clipped), each government's negotiating gain
# (-inf for a package a public rejected), the chance both publics ratify as the
# governments anticipate it; and, as the mover believes them where the other side's
# number is private (or its strategy reads them), the other side's gain and the
# chance it accepts. With them, ``gaining`` (2, packages): the numbers of the packages
# each government gains from, in order, the first GAINING + k.
UTILITY, OPINION, GAIN, BOTH, BELIEVED, ACCEPTS = 0, 2, 4, 6, 7, 8
N_PACKAGE_ROWS = 9

# What each side believes of the other's private number (``belief``, 3 rows): row k, the
# other side's posterior over party k's types (PartyRows.types), as many entries as
# party k has types; row 2, scratch for an update.

# A run's package tables (``tables``, 10 rows), expanded from their terms as it starts:
T_UTILITY = 0  # T_UTILITY + k: party k's utility of each package, before pressure
T_ACCEPTANCE = 2  # T_ACCEPTANCE + k: public k's base acceptance
T_RHETORIC = 4  # T_RHETORIC + k: change in public k's acceptance at full rhetoric
T_OUTSIDE = 6  # the outside power's utility
T_SHIFT = 7  # change in the pressed party's utility per unit of pressure felt
T_SLOPE = 8  # T_SLOPE + k: the slope of party k's gain in its private number (only where it has one)
N_TABLES = 10  # (and one more row, scratch for expanding them)

# The per-round record, one value per slot (see round_columns for the names).
RECORD = 22


def reason_label(code: int, party_labels: tuple[str, str]) -> str:
    if code == TREATY:
        return "treaty"
    if code == NO_ACCEPTABLE_PACKAGE:
        return "no package acceptable to both"
    if code == DEADLINE:
        return "deadline reached"
    if code in (WALKED_AWAY, WALKED_AWAY + 1):
        return f"{party_labels[code - WALKED_AWAY]} walked away"
    if code in (RATIFICATION_FAILED, RATIFICATION_FAILED + 1):
        return f"ratification failed in {party_labels[code - RATIFICATION_FAILED]}"
    if code == RATIFICATION_FAILED_BOTH:
        return "ratification failed in both"
    return "ongoing"


# --------------------------------------------------------------------------- rules


@njit(cache=True, nogil=True, inline="always")
def mover(round_, opener):
    """Index of the party whose turn it is: the opener in round 1, then alternating."""
    return (opener + (round_ - 1)) % 2


@njit(cache=True, nogil=True, inline="always")
def start(ints, reals, rejected):
    """A run's state before its first round."""
    ints[:] = 0
    ints[STANDING] = ints[STANDING + 1] = ints[PACKAGE] = -1
    ints[REASON] = ONGOING
    reals[:] = 0.0
    reals[BEST_SEEN] = reals[BEST_SEEN + 1] = -np.inf
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
def start_beliefs(p0, p1, r, belief):
    """Each side's prior over the other's private number (its reservation, treaty value
    or another number of its utility; under complete information, one type), before the
    first round."""
    belief[:] = 0.0
    for q in range(p0.prior.shape[1]):
        belief[0, q] = p0.prior[r, q]
    for q in range(p1.prior.shape[1]):
        belief[1, q] = p1.prior[r, q]


@njit(**LEAN)
def expand(p0, p1, o, r, counts, cells, tables):
    """Run r's package tables from their terms (``counts``: the options of each issue;
    ``cells``: the cell of each pair of issues each package picks, OutcomeSpace.pair_cells);
    a party's slope only where a number of its is private (no other rule reads it)."""
    scratch = tables[N_TABLES]
    package_row(p0.utility_terms[r], counts, cells, tables[T_UTILITY], scratch)
    package_row(p1.utility_terms[r], counts, cells, tables[T_UTILITY + 1], scratch)
    package_row(p0.acceptance_terms[r], counts, cells, tables[T_ACCEPTANCE], scratch)
    package_row(p1.acceptance_terms[r], counts, cells, tables[T_ACCEPTANCE + 1], scratch)
    package_row(p0.rhetoric_terms[r], counts, cells, tables[T_RHETORIC], scratch)
    package_row(p1.rhetoric_terms[r], counts, cells, tables[T_RHETORIC + 1], scratch)
    package_row(o.utility_terms[r], counts, cells, tables[T_OUTSIDE], scratch)
    package_row(o.shift_terms[r], counts, cells, tables[T_SHIFT], scratch)
    if p0.private[r]:
        package_row(p0.private_terms[r], counts, cells, tables[T_SLOPE], scratch)
    if p1.private[r]:
        package_row(p1.private_terms[r], counts, cells, tables[T_SLOPE + 1], scratch)


@njit(cache=True, nogil=True, inline="always")
def outside_move(round_, p0, p1, o, r, tables, packages, offer0, offer1):
    """The outside power's rule: (alarm, pressure, rhetoric, pressure felt). It watches the
    standing offers of both sides; its threat is what the worse of them for it would cost
    it against the status quo, counting only offers within reach: both governments prefer
    them to no agreement by their own preferences, before any pressure (so its own
    pressure does not talk it out of pressing). Talks going nowhere cost it nothing. It
    presses once the threat exceeds the goodwill one round of full pressure costs it, its
    alarm rising by `response` per unit beyond (L11, L19, L25), linearly up to full alarm
    or, if the scenario says so, smoothly (1 - exp(-response x excess)); the threat may
    count the chance that both publics ratify the offer, as last assessed. Pressure is
    felt less the more autonomous the target is (L15, L17)."""
    threat = 0.0
    for package in (offer0, offer1):
        if (
            package >= 0
            and exceeds(tables[T_UTILITY, package], p0.reservation[r])
            and exceeds(tables[T_UTILITY + 1, package], p1.reservation[r])
        ):
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
    u = draw(seed, round_, MOOD[public])
    return mood + volatility * SQRT3 * (2.0 * u - 1.0)


@njit(cache=True, nogil=True, inline="always")
def assess(p0, p1, o, neg, r, tables, felt, rhetoric, rejected, packages):
    """Each government's utility and negotiating gain for every package, and each public's
    opinion, written to ``packages``; returns whether some package leaves both sides
    better off. Governments anticipate ratification from the publics' known opinion
    (polls and rhetoric) and their belief about each ratifier's threshold (``threshold``
    and ``margin``: the public's, or a named institution's); they do not see the mood,
    which moves only the vote itself, and take it at its mean, 0.

    Per package: the pressed party's utility is sim.preferences.pressed, each public's
    opinion sim.preferences.swayed, each ratifier's chance sim.preferences.ratify_chance of
    the clipped opinion (1 without ratification), the chance that both ratify their
    product, each gain sim.preferences.bargaining_gain (with the government's own
    ratifier's chance and its failure cost), and a package a public rejected gains nothing.
    (Three passes over few arrays each, without branches: they vectorise.)"""
    u0, u1 = packages[UTILITY], packages[UTILITY + 1]
    v0, v1 = packages[OPINION], packages[OPINION + 1]
    g0, g1 = packages[GAIN], packages[GAIN + 1]
    shift = tables[T_SHIFT]
    _pressed_row(tables[T_UTILITY], shift, felt if o.target[r] == 0 else 0.0, u0)
    _pressed_row(tables[T_UTILITY + 1], shift, felt if o.target[r] == 1 else 0.0, u1)
    _swayed_row(tables[T_ACCEPTANCE], tables[T_RHETORIC], rhetoric, v0)
    _swayed_row(tables[T_ACCEPTANCE + 1], tables[T_RHETORIC + 1], rhetoric, v1)
    ratifies = neg.ratification[r]
    threshold0, margin0, threshold1, margin1 = p0.threshold[r], p0.margin[r], p1.threshold[r], p1.margin[r]
    reservation0, anticipation0, cost0 = p0.reservation[r], p0.anticipation[r], p0.failure_cost[r]
    reservation1, anticipation1, cost1 = p1.reservation[r], p1.anticipation[r], p1.failure_cost[r]
    chances = packages[BOTH]
    acceptable = False
    for j in range(packages.shape[1]):
        chance0 = ratify_chance(clip01(v0[j]), threshold0, margin0) if ratifies else 1.0
        chance1 = ratify_chance(clip01(v1[j]), threshold1, margin1) if ratifies else 1.0
        both = chance0 * chance1
        chances[j] = both
        a = bargaining_gain(u0[j], reservation0, anticipation0, both, chance0, cost0)
        b = bargaining_gain(u1[j], reservation1, anticipation1, both, chance1, cost1)
        out = rejected[j]
        g0[j] = -np.inf if out else a
        g1[j] = -np.inf if out else b
        acceptable |= (not out) & exceeds(a, 0.0) & exceeds(b, 0.0)
    return acceptable


@njit(cache=True, nogil=True, inline="always")
def _pressed_row(utility, shift, pressure, out):
    for j in range(out.shape[0]):
        out[j] = pressed(utility[j], shift[j], pressure)


@njit(cache=True, nogil=True, inline="always")
def _swayed_row(base, effect, rhetoric, out):
    for j in range(out.shape[0]):
        out[j] = swayed(base[j], effect[j], rhetoric)


@njit(cache=True, nogil=True, inline="always")
def refresh(p0, p1, o, neg, r, tables, felt, rhetoric, ints, reals, rejected, packages, gaining):
    """Assess the packages if they have not been, or if the pressure felt or the rhetoric
    changed since they were (nothing else they depend on changes within a run). The
    comparison is exact on purpose: it only spares recomputing what would come out the same."""
    if ints[ASSESSED] and felt == reals[FELT] and rhetoric == reals[RHETORIC]:
        return
    ints[ACCEPTABLE] = assess(p0, p1, o, neg, r, tables, felt, rhetoric, rejected, packages)
    ints[ASSESSED] = 1
    reals[FELT], reals[RHETORIC] = felt, rhetoric
    _gains_changed(ints, packages, gaining)


@njit(cache=True, nogil=True, inline="always")
def _gains_changed(ints, packages, gaining):
    """List again the packages each side gains from; its best gain is to be found again."""
    for k in range(2):
        ints[GAINING + k] = gaining_row(packages[GAIN + k], gaining[k])
    ints[TOP_KNOWN] = ints[TOP_KNOWN + 1] = 0


@njit(cache=True, nogil=True, inline="always")
def top(ints, reals, packages, k):
    """Party k's best gain on offer (0 if it gains from nothing), kept until the gains change."""
    if not ints[TOP_KNOWN + k]:
        reals[TOP + k] = top_row(packages[GAIN + k])
        ints[TOP_KNOWN + k] = 1
    return reals[TOP + k]


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
def believe(party, r, k, packages, slope, weights, own_gain):
    """How party k's side of every package looks to the other side, which holds the
    posterior ``weights`` over party k's types (PartyRows.types) where a number of party
    k's is private (its gain's ``slope`` in it, :func:`gain_if`): its gain at the
    posterior mean of that number (row BELIEVED) and the
    chance that it accepts, the weight of the types that gain from the package (row
    ACCEPTS); a package a public rejected gains nothing and is never accepted. Under
    complete information, its gain and 1 or 0. Returns whether the believer, whose own
    gains are ``own_gain``, sees a package that leaves it better off and that the other
    side may accept."""
    both, gain = packages[BOTH], packages[GAIN + k]
    believed, accepts = packages[BELIEVED], packages[ACCEPTS]
    hidden = party.private[r]
    value, anticipation, types = party.private_value[r], party.anticipation[r], party.types[r]
    mean = 0.0
    for q in range(types.shape[0]):
        mean += weights[q] * types[q]
    acceptable = False
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
        acceptable |= exceeds(own_gain[j], 0.0) & (accepts[j] > 0.0)
    return acceptable


@njit(cache=True, nogil=True, inline="always")
def learn(who, action, offer, mover, r, ints, packages, tables, belief):
    """The other side's posterior over the mover's types after the mover's answer, by
    Bayes' rule, where a number of the mover's is private (Zeng and Sycara 1998). An offer
    made rules out the types that would not gain from it (no strategy offers a package it
    does not gain from); the standing offer turned down weighs each type that would have
    gained from it by ``noise``, the chance of turning down a gain (0: rules it out). On a
    divisible issue with a uniform prior, the posterior after a rejected x is uniform
    above x. Evidence that no type explains leaves the posterior as it was."""
    if not mover.private[r] or action != OFFER or offer < 0:
        return
    weights, likes = belief[who], belief[2]
    types, anticipation, noise = mover.types[r], mover.anticipation[r], mover.noise[r]
    value, gain, both, slope = mover.private_value[r], packages[GAIN + who], packages[BOTH], tables[T_SLOPE + who]
    turned_down = ints[STANDING + 1 - who]
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
    """The best a side can expect from the talks: its largest gain x the chance the other
    side accepts, over the packages it gains from (0 if none)."""
    best = 0.0
    for j in range(own_gain.shape[0]):
        if exceeds(own_gain[j], 0.0):
            best = max(best, own_gain[j] * accepts[j])
    return best


@njit(cache=True, nogil=True, inline="always")
def decide(round_, own, other, neg, r, who, ints, reals, packages, gaining, tables, belief):
    """The moving side's answer: (walk reason or ONGOING, accept, offer). ``own`` and
    ``other`` are the mover's and the other side's PartyRows. A side walks away

    - when no package leaves both better off than no agreement (where the other's
      number is private: none that leaves it better off and that the other may accept,
      as it believes), unless the scenario says such talks stall;
    - when its patience with unimproved offers has run out, or when another round costs
      it (``round_cost``) at least the best it can expect from the talks
      (:func:`prospect`), and its strategy would not accept the offer standing.

    Otherwise its strategy accepts or counters, reading the other side's gain as it
    believes it (:func:`believe`); in stalled talks a side that gains from no package
    withdraws its offer (it has none standing). In the last round no counter-offer could
    be answered, so the mover accepts any standing offer that leaves it better off than no
    agreement; where the last round is uncertain, it knows the last only in the last one
    possible."""
    own_gain, other_gain = packages[GAIN + who], packages[GAIN + 1 - who]
    own_offer, other_offer = ints[STANDING + who], ints[STANDING + 1 - who]
    kind = own.strategy[r]
    acceptable = ints[ACCEPTABLE] != 0
    costly = own.round_cost[r] > 0.0
    if other.private[r] or kind == BAYESIAN or costly:
        believed = believe(other, r, 1 - who, packages, tables[T_SLOPE + 1 - who], belief[1 - who], own_gain)
        if other.private[r]:
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
        gaining[who, : ints[GAINING + who]],
        own_offer,
        other_offer,
        own.beta[r],
        own.tolerance[r],
        own.discount[r],
        other.discount[r],
        known,
    )
    if round_ >= deadline + neg.deadline_spread[r] and exceeds(value_of(own_gain, other_offer), 0.0):
        accept = True  # the last round, as far as the mover knows
    patience = own.patience[r]
    impatient = patience > 0 and ints[STALE + who] >= patience and not accept
    if costly and not accept and not exceeds(prospect(own_gain, packages[ACCEPTS]), own.round_cost[r]):
        impatient = True  # the talks no longer pay for another round
    if not acceptable and not neg.stall[r]:
        walk = NO_ACCEPTABLE_PACKAGE
    elif impatient:
        walk = WALKED_AWAY + who
    else:
        walk = ONGOING
    return walk, accept and walk == ONGOING, offer


@njit(cache=True, nogil=True, inline="always")
def action_of(walk, accept):
    return WALK if walk != ONGOING else (ACCEPT if accept else OFFER)


@njit(cache=True, nogil=True, inline="always")
def agreed(ints, who):
    """The package the mover accepts: the other side's standing offer."""
    return ints[STANDING + 1 - who]


@njit(cache=True, nogil=True, inline="always")
def acceptance_today(packages, mood, package, public):
    """Share of a public accepting a package today (its opinion plus mood); NaN for none."""
    return clip01(value_of(packages[OPINION + public], package) + mood)


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
        return prob, draw(seed, round_, RATIFY[public]) < prob
    share = acceptance_today(packages, mood, package, public)
    prob = ratify_chance(share, party.threshold[r], party.margin[r])
    if party.institution[r] > 0:
        return prob, exceeds(share, institution_threshold(party, r, seed, public))
    return prob, draw(seed, round_, RATIFY[public]) < prob


@njit(cache=True, nogil=True, inline="always")
def institution_threshold(party, r, seed, public):
    """The run's actual threshold of a country's institution: the quantile of the
    negotiators' belief given by the run's draw for round 0 (no round plays it) in the
    public's ratification slot. One seed decides it, whatever the machine or engine."""
    return actual_threshold(party.threshold[r], party.margin[r], draw(seed, 0, RATIFY[public]))


@njit(cache=True, nogil=True, inline="always")
def settle(
    round_, neg, r, who, action, walk, offer, prob0, prob1, passed0, passed1, ints, reals, rejected, packages, gaining
):
    """Carry out the mover's answer: a walk-out ends the run; an accepted package, put to
    both publics (probabilities and votes given), ends it as a treaty or a failed
    ratification, or talks go on without that package if the scenario says so; an offer
    stands. A run still going at its last round (ints[LAST]) ends there."""
    if action == WALK:
        _end(ints, round_, walk)
    elif action == ACCEPT:
        package = agreed(ints, who)
        ints[PACKAGE] = package
        if ints[ATTEMPTS] == 0:
            reals[CHANCE] = prob0 * prob1
        ints[ATTEMPTS] += 1
        if passed0 and passed1:
            _end(ints, round_, TREATY)
        elif neg.continue_after_failure[r] and round_ < ints[LAST]:
            _reopen(package, ints, reals, rejected, packages, gaining)
        elif not passed0 and not passed1:
            _end(ints, round_, RATIFICATION_FAILED_BOTH)
        else:
            _end(ints, round_, RATIFICATION_FAILED + (0 if not passed0 else 1))
    else:
        _record_offer(who, offer, ints, reals, packages)
    if ints[REASON] == ONGOING and round_ >= ints[LAST]:
        _end(ints, round_, DEADLINE)


@njit(cache=True, nogil=True, inline="always")
def _end(ints, round_, reason):
    ints[REASON] = reason
    ints[END_ROUND] = round_


@njit(cache=True, nogil=True, inline="always")
def _record_offer(who, offer, ints, reals, packages):
    """The mover's counter-offer stands; the receiver notes whether it improved (by more than TIE).
    In stalled talks a side that gains from no package has none standing (-1), which improves nothing."""
    ints[STANDING + who] = offer
    receiver = 1 - who
    if offer < 0:
        ints[STALE + receiver] += 1
        return
    gain = packages[GAIN + receiver, offer]
    if exceeds(gain, reals[BEST_SEEN + receiver]):
        reals[BEST_SEEN + receiver] = gain
        ints[STALE + receiver] = 0
    else:
        ints[STALE + receiver] += 1


@njit(cache=True, nogil=True, inline="always")
def _reopen(package, ints, reals, rejected, packages, gaining):
    """After a failed ratification, talks go on without that package."""
    rejected[package] = True
    packages[GAIN, package] = packages[GAIN + 1, package] = -np.inf
    _gains_changed(ints, packages, gaining)
    acceptable = False
    for j in range(packages.shape[1]):
        acceptable = acceptable or (exceeds(packages[GAIN, j], 0.0) and exceeds(packages[GAIN + 1, j], 0.0))
    ints[ACCEPTABLE] = acceptable
    ints[STANDING] = ints[STANDING + 1] = -1
    reals[BEST_SEEN] = reals[BEST_SEEN + 1] = -np.inf
    ints[STALE] = ints[STALE + 1] = 0


@njit(cache=True, nogil=True, inline="always")
def record(tables, p0, p1, r, who, action, alarm, pressure, rhetoric, felt, ints, reals, packages, belief, out):
    """This round's record (``out``, RECORD slots): the mover and its action; each standing
    offer and its utility to each party (this round's, with pressure) and to the outside
    power; the outside power's alarm, pressure, pressure felt and rhetoric; each public's
    mood and its acceptance today of each standing offer; what the other side expects
    each party's private belief to be (its posterior mean, after this round's lesson)."""
    out[0], out[1] = who, action
    for k in range(2):
        offer = ints[STANDING + k]
        out[2 + 4 * k] = offer
        out[3 + 4 * k] = value_of(packages[UTILITY], offer)
        out[4 + 4 * k] = value_of(packages[UTILITY + 1], offer)
        out[5 + 4 * k] = value_of(tables[T_OUTSIDE], offer)
    out[10], out[11], out[12], out[13] = alarm, pressure, felt, rhetoric
    for k in range(2):
        mood = reals[MOOD_OF + k]
        out[14 + 3 * k] = mood
        for j in range(2):
            out[15 + 3 * k + j] = acceptance_today(packages, mood, ints[STANDING + j], k)
    for k in range(2):
        types = p0.types[r] if k == 0 else p1.types[r]
        mean = 0.0
        for q in range(types.shape[0]):
            mean += belief[k, q] * types[q]
        out[20 + k] = mean


# --------------------------------------------------------------------------- many runs


@njit(cache=True, nogil=True)
def play(
    p0, p1, o, neg, counts, cells, shared, seeds, keep_records, ints_out, reals_out, path, actions, votes, records
):
    """The batch engine: play one negotiation per seed, every round in the order the Mesa
    model plays it (outside power, moods, assessment, the mover's answer, the votes), with
    the same rules. Run i uses row 0 of the tables if ``shared``, else row i; its package
    tables are expanded from their terms (``counts``: the options of each issue; ``cells``:
    the cell of each pair of issues each package picks, OutcomeSpace.pair_cells). Writes each
    run's final state (``ints_out``, ``reals_out``), its pressure per round (``path``), its
    action per round (``actions``, NO_ACTION once ended), the votes of rounds that ended in
    acceptance (``votes``: package, both probabilities, both results) and, if
    ``keep_records``, each round's record."""
    size = 1
    for k in counts:
        size *= k
    ints, reals = np.empty(N_INTS, np.int64), np.empty(N_REALS)
    rejected, tables = np.empty(size, np.bool_), np.empty((N_TABLES + 1, size))
    packages, gaining = np.empty((N_PACKAGE_ROWS, size)), np.empty((2, size), np.int64)
    belief = np.empty((3, max(p0.types.shape[1], p1.types.shape[1])))
    _play(
        p0,
        p1,
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
    )


@njit(**LEAN)
def _play(
    p0,
    p1,
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
):
    """:func:`play`, given the arrays of one run's state to reuse from run to run."""
    if shared:
        expand(p0, p1, o, 0, counts, cells, tables)
    for i in range(seeds.shape[0]):
        r = 0 if shared else i
        if not shared:
            expand(p0, p1, o, r, counts, cells, tables)
        seed = seeds[i]
        start(ints, reals, rejected)
        ints[LAST] = last_round(neg, r, seed)
        start_beliefs(p0, p1, r, belief)
        t = 0
        while ints[REASON] == ONGOING:
            t += 1
            alarm, pressure, rhetoric, felt = outside_move(
                t, p0, p1, o, r, tables, packages, ints[STANDING], ints[STANDING + 1]
            )
            reals[PRESSURE_TOTAL] += pressure
            path[i, t - 1] = pressure
            reals[MOOD_OF] = mood_step(reals[MOOD_OF], p0.volatility[r], seed, t, 0)
            reals[MOOD_OF + 1] = mood_step(reals[MOOD_OF + 1], p1.volatility[r], seed, t, 1)
            refresh(p0, p1, o, neg, r, tables, felt, rhetoric, ints, reals, rejected, packages, gaining)
            who = mover(t, neg.opener[r])
            if who == 0:
                walk, accept, offer = decide(t, p0, p1, neg, r, who, ints, reals, packages, gaining, tables, belief)
            else:
                walk, accept, offer = decide(t, p1, p0, neg, r, who, ints, reals, packages, gaining, tables, belief)
            action = action_of(walk, accept)
            if who == 0:
                learn(who, action, offer, p0, r, ints, packages, tables, belief)
            else:
                learn(who, action, offer, p1, r, ints, packages, tables, belief)
            prob0 = prob1 = np.nan
            passed0 = passed1 = False
            if action == ACCEPT:
                package = agreed(ints, who)
                prob0, passed0 = ratify(t, p0, neg, r, packages, reals[MOOD_OF], seed, package, 0)
                prob1, passed1 = ratify(t, p1, neg, r, packages, reals[MOOD_OF + 1], seed, package, 1)
                votes[i, t - 1, 0] = package
                votes[i, t - 1, 1], votes[i, t - 1, 2] = prob0, prob1
                votes[i, t - 1, 3], votes[i, t - 1, 4] = passed0, passed1
            settle(
                t,
                neg,
                r,
                who,
                action,
                walk,
                offer,
                prob0,
                prob1,
                passed0,
                passed1,
                ints,
                reals,
                rejected,
                packages,
                gaining,
            )
            actions[i, t - 1] = action
            if keep_records:
                record(
                    tables,
                    p0,
                    p1,
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
        size = int(np.prod(counts))
        self.seed = np.uint64(seed)
        self.tables = np.empty((N_TABLES + 1, size))
        expand(*rows[:3], 0, counts, cells, self.tables)
        self.ints, self.reals = np.empty(N_INTS, np.int64), np.empty(N_REALS)
        self.rejected, self.packages = np.empty(size, bool), np.empty((N_PACKAGE_ROWS, size))
        self.gaining = np.empty((2, size), np.int64)
        p0, p1 = rows[:2]
        self.belief = np.empty((3, max(p0.types.shape[1], p1.types.shape[1])))
        start(self.ints, self.reals, self.rejected)
        self.ints[LAST] = last_round(rows[3], 0, self.seed)
        start_beliefs(p0, p1, 0, self.belief)

    offers = property(lambda self: self.ints[STANDING : STANDING + 2].copy(), doc="each party's standing offer")
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
    """Each record column's slot in the RECORD values that :func:`record` writes."""
    ids, oid = tables.party_ids, tables.outside_id
    slots = {"mover": 0, "action": 1}
    for k, p in enumerate(ids):
        slots[f"offer_{p}"] = 2 + 4 * k
        for j, q in enumerate(ids):
            slots[f"offer_{p}_utility_{q}"] = 3 + 4 * k + j
        if oid:
            slots[f"offer_{p}_utility_{oid}"] = 5 + 4 * k
    if oid:
        for i, name in enumerate(("alarm", "pressure", "pressure_felt", "rhetoric")):
            slots[f"{oid}_{name}"] = 10 + i
    for k, p in enumerate(ids):
        slots[f"public_{p}_mood"] = 14 + 3 * k
        for j, q in enumerate(ids):
            slots[f"public_{p}_accepts_{q}_offer"] = 15 + 3 * k + j
    for k, p in enumerate(ids):
        party = tables.parties[k]
        if party.private.any():  # columns only where a belief is private
            slots[f"{ids[1 - k]}_expects_{p}_{private_name(party)}"] = 20 + k
    return slots


def record_columns(tables: Tables, values: np.ndarray) -> dict[str, np.ndarray]:
    """Rounds' records, (rounds, RECORD) values, as named columns: the mover by its id, the
    action by name, offers as package numbers (-1 for none)."""
    cols = {name: values[:, slot] for name, slot in _record_slots(tables).items()}
    cols["mover"] = np.array(tables.party_ids)[cols["mover"].astype(np.int64)]
    cols["action"] = np.array(ACTIONS)[cols["action"].astype(np.int64)]
    for p in tables.party_ids:
        cols[f"offer_{p}"] = cols[f"offer_{p}"].astype(np.int64)
    return cols
