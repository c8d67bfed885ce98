"""Why coordination is worth what it is worth, read from the numbers of a value-of-coordination
analysis (model/analyses/coordination.py), in a planner's words:

- `joint_tiers`: tiers the joint plan reaches and the headline fragmented plan misses, that no
  single owner's part of the joint plan reaches, and who contributes to them (owners whose
  relief alone is zero among them);
- `money_timing`: public money the owners alone ask for beyond a year's budget, and budget
  the headline fragmented plan leaves unused in years the joint plan spends it;
- `pool_capacity`: a shared pool filled in the headline fragmented plan by a lever the joint
  plan gives less of it to, while another lever gets more.

Each returns rows {mechanism, text, owners, track, tier, years, scenarios, amount};
docs/analyses.md explains each test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relief.model.analyses.common import TOL, probabilities
from relief.model.analyses.fragmented import UNION, own_part
from relief.model.core.evaluate import evaluate_plan
from relief.model.core.frames import records

if TYPE_CHECKING:
    from relief.model.analyses.coordination import CoordinationAnalysis

MAX_ROWS = 6  # of each mechanism (the largest first)
IDLE_SHARE = 0.01  # budget left unused is said when it is over 1% of the year's budget


def mechanisms(a: CoordinationAnalysis) -> list[dict]:
    if a.coordinated.evaluation is None:
        return []
    return joint_tiers(a) + money_timing(a) + pool_capacity(a)


def _row(mechanism: str, text: str, **kw) -> dict:
    row = {"mechanism": mechanism, "text": text, "owners": "", "track": "", "tier": "", "years": "", "scenarios": ""}
    row.update(kw)
    row.setdefault("amount", None)
    return row


def _years(ys) -> str:
    """2026, 2026-2029 (a run of years) or 2026, 2029."""
    ys = sorted(ys)
    if len(ys) == 1:
        return str(ys[0])
    if ys == list(range(ys[0], ys[-1] + 1)):
        return f"{ys[0]}-{ys[-1]}"
    return ", ".join(map(str, ys))


def zero_alone(a: CoordinationAnalysis) -> set[str]:
    """Owners with levers whose own plan alone (whole budget) gives their sectors nothing."""
    out = set()
    for r in a.owners:
        if r.result is None:
            continue
        ev = r.result.evaluation
        if ev is None or abs(ev.expected_relief) <= TOL:
            out.add(r.owner.name)
    return out


def joint_tiers(a: CoordinationAnalysis) -> list[dict]:
    """Tiers of the joint plan that the headline fragmented plan misses and that no owner's
    part of the joint plan reaches by itself, grouped by track, tier and the owners whose part
    adds to the track's score there (amount: the stances' probability times the relief the
    tier adds over the fragmented plan's, undiscounted)."""
    full, ev_c = a.with_capacities, a.coordinated.evaluation
    owners = [r.owner for r in a.owners if r.owner.levers and own_part(ev_c.plan, r.owner)]

    def by_key(ev):
        return {(r["scenario"], r["track"], int(r["year"])): r for r in records(ev.tiers)}

    joint, none, frag = by_key(ev_c), by_key(evaluate_plan(full, {})), by_key(a.fragmented)
    parts = {o.name: by_key(evaluate_plan(full, own_part(ev_c.plan, o))) for o in owners}
    prob = probabilities(full)
    groups: dict = {}
    for k, r in joint.items():
        if r["relief"] <= max(none[k]["relief"], frag[k]["relief"]) + TOL:
            continue  # nothing gained over no commitment, or the headline fragmented plan has it too
        if any(p[k]["relief"] >= r["relief"] - TOL for p in parts.values()):
            continue
        who = tuple(sorted(n for n, p in parts.items() if p[k]["score"] > none[k]["score"] + TOL))
        g = groups.setdefault((r["track"], r["tier"], who), {"years": set(), "scenarios": set(), "weight": 0.0})
        g["years"].add(k[2])
        g["scenarios"].add(k[0])
        g["weight"] += prob[k[0]] * (r["relief"] - frag[k]["relief"])
    zero = zero_alone(a)
    rows = []
    for (track, tier, who), g in sorted(groups.items(), key=lambda kv: -kv[1]["weight"])[:MAX_ROWS]:
        nothing = [n for n in who if n in zero]
        text = (
            f"Tier {tier} on track {track} ({_years(g['years'])}, stances {', '.join(sorted(g['scenarios']))}), "
            f"missed without a joint plan, is out of every single owner's reach: it takes "
            f"{' + '.join(who) or 'the plan as a whole'} together."
        )
        if nothing:
            text += f" Alone, {' and '.join(nothing)} commit{'s' if len(nothing) == 1 else ''} nothing that pays."
        rows.append(
            _row(
                "joint_tier",
                text,
                owners=",".join(who),
                track=track,
                tier=tier,
                years=_years(g["years"]),
                scenarios=",".join(sorted(g["scenarios"])),
                amount=g["weight"],
            )
        )
    return rows


def money_timing(a: CoordinationAnalysis) -> list[dict]:
    """Yearly budgets the owners alone overdraw together (the union), and budget the headline
    fragmented plan leaves unused in years the joint plan spends it."""
    ev_c, union, head = a.coordinated.evaluation, a.regimes[UNION].evaluation, a.fragmented
    label = a.regimes[a.headline].label

    def spend(ev):
        return {(r["envelope"], int(r["year"])): r for r in records(ev.envelope_spending)}

    c, u, h = spend(ev_c), spend(union), spend(head)
    rows = []
    envelopes = dict.fromkeys(e for e, _ in u)
    for e in envelopes:
        over = [
            (t, r["public_spend"], r["budget"])
            for (x, t), r in sorted(u.items())
            if x == e and r["budget"] is not None and r["public_spend"] > r["budget"] + TOL * max(1.0, r["budget"])
        ]
        if over:
            said = ", ".join(f"{s:.2f} in {t} against {b:.2f}" for t, s, b in over)
            rows.append(
                _row(
                    "money_timing",
                    f"Alone, the owners together ask for more of envelope {e} than its yearly budget: {said}. "
                    "Someone has to wait or shrink, and nobody decides who.",
                    years=_years([t for t, _, _ in over]),
                    amount=sum(s - b for _, s, b in over),
                )
            )
        idle = []
        for (x, t), r in sorted(h.items()):
            b = r["budget"]
            if x != e or b is None or (x, t) not in c:
                continue
            unused = min(b, c[(x, t)]["public_spend"]) - r["public_spend"]
            if unused > IDLE_SHARE * max(1.0, b):
                idle.append((t, unused))
        if idle:
            said = ", ".join(f"{v:.2f} in {t}" for t, v in idle)
            rows.append(
                _row(
                    "money_timing",
                    f"The {label} plan leaves envelope {e}'s budget unused where the joint plan spends it: {said}.",
                    years=_years([t for t, _ in idle]),
                    amount=sum(v for _, v in idle),
                )
            )
    return rows[: 2 * MAX_ROWS]


def pool_capacity(a: CoordinationAnalysis) -> list[dict]:
    """A pool several owners draw on, full in the headline fragmented plan, where a lever takes
    more of it than in the joint plan and another gets less."""
    full, ev_c, head = a.with_capacities, a.coordinated.evaluation, a.fragmented
    owner_of = dict(zip(full.table("levers")["lever"], full.table("levers")["owner"]))
    uses = records(full.table("lever_pools"))
    label = a.regimes[a.headline].label
    rows = []
    for q, limit in zip(full.table("pools")["pool"], full.table("pools")["limit"]):
        mine = [r for r in uses if r["pool"] == q]
        if len({owner_of[r["lever"]] for r in mine}) < 2:
            continue
        f = {r["lever"]: r["use_per_module"] * head.portfolio.get(r["lever"], 0.0) for r in mine}
        c = {r["lever"]: r["use_per_module"] * ev_c.portfolio.get(r["lever"], 0.0) for r in mine}
        if sum(f.values()) < limit - TOL * max(1.0, limit):
            continue
        more = sorted((l for l in f if f[l] > c[l] + TOL), key=lambda l: c[l] - f[l])
        less = sorted((l for l in f if c[l] > f[l] + TOL), key=lambda l: f[l] - c[l])
        if not (more and less):
            continue
        took, lost = more[0], less[0]
        rows.append(
            _row(
                "pool_capacity",
                f"Pool {q} is full in the {label} plan: {took} ({owner_of[took]}) takes {f[took] - c[took]:.2f} "
                f"more of it than in the joint plan, which gives {lost} ({owner_of[lost]}) {c[lost] - f[lost]:.2f} "
                "more instead.",
                owners=f"{owner_of[took]},{owner_of[lost]}",
                amount=f[took] - c[took],
            )
        )
    return rows[:MAX_ROWS]
