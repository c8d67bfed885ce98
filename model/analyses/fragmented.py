"""The fragmented plans: what the owners commit when each decides for itself, under three
regimes (value of coordination; docs/analyses.md gives the definitions).

- `union`: each owner alone (`owner_alone`) with the whole public budget and every pool; the
  union of the picks. Optimistic: nobody's picks are cut by anyone else's, so the union may
  break a shared limit, and then it is not a plan that could happen.
- `first_come`: owners decide one after another (owners.csv `order`, else the year of their
  first pick in the union, ties by name), each alone as in the union, with the public money and
  pool capacity the earlier owners left.
- `rationed`: every shared limit (each envelope's yearly budget and total,
  total_public_budget, each pool used by several owners) is shared among the owners in
  proportion to what each used of it in the union; each owner re-optimises alone within its
  shares (as in the union, nobody sees the others' plans).
- `in_turn`: as first come, but each owner sees what the earlier owners committed (held fixed
  in its solve), so it counts their spillover into its own sectors' tiers: what announcing
  commitments in turn, without a joint plan, would recover.

The first-come, rationed and in-turn plans respect every shared limit by construction
(attainable); their evaluation in the full case checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from relief.model.analyses.common import TOL
from relief.model.analyses.labellings import owner_order
from relief.model.analyses.owners import Owner, OwnerRun, owner_alone, sector_relief
from relief.model.core.evaluate import evaluate_plan, pool_use, yearly_budgets
from relief.model.core.frames import records

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.evaluate import Evaluation
    from relief.model.core.session import Session

UNION, FIRST_COME, RATIONED, IN_TURN = "union", "first_come", "rationed", "in_turn"
REGIMES = (UNION, FIRST_COME, RATIONED, IN_TURN)
FRAGMENTED = (FIRST_COME, RATIONED)  # attainable, and nobody sees the others' plans: the headline's candidates
LABELS = {
    UNION: "union of each owner's picks alone (optimistic)",
    FIRST_COME: "first come, first served",
    RATIONED: "public money rationed by what each asked",
    IN_TURN: "in turn, each seeing the earlier commitments",
}


@dataclass
class Regime:
    name: str
    runs: list[OwnerRun]  # each owner's solve in this regime (in the order they decided)
    plan: dict  # {(lever, year): modules}: every owner's commitments together
    evaluation: Evaluation  # the plan in the case with the owners' capacities
    attainable: bool  # respects every shared limit by construction (the union does not)
    order: list[str] = field(default_factory=list)  # first_come: who decided when
    shares: list[dict] = field(default_factory=list)  # rationed: each owner's share of each shared limit
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.name]

    def run_of(self, owner: str) -> OwnerRun | None:
        return next((r for r in self.runs if r.owner.name == owner), None)


class OwnerSolves:
    """The owners' solves on one session, each remembered by what determines it (the owner, its
    labels, the regime's context: what was left, its shares, the commitments it saw), so that
    the fragility table re-solves only what a labelling changes. Within one `relief
    coordination`, the case, overrides and forced levers are fixed; a labelling changes only
    owners' kinds and sectors, which are in the key."""

    def __init__(self, session: Session, force=(), overrides=()):
        self.session, self.force, self.overrides = session, tuple(force), tuple(overrides)
        self.exclude = session.exclude
        self.known: dict = {}

    def run(self, o: Owner, context: tuple, make_case, fixed=None) -> OwnerRun:
        key = (o.name, o.kind, o.sectors, o.capacity, context)
        if key not in self.known:
            case_o = make_case()
            forced = tuple(l for l in self.force if l in o.levers)
            self.known[key] = (case_o, self.session.solve(case_o, self.overrides, force=forced, fixed=fixed))
        case_o, result = self.known[key]
        return OwnerRun(o, case_o, result)


def commit(run: OwnerRun, plan: dict, notes: list, why: str) -> OwnerRun:
    """An owner's plan joins `plan`; without one, it commits nothing and a note says why."""
    if run.result.evaluation is not None:
        plan.update(own_part(run.result.evaluation.plan, run.owner))
    else:
        notes.append(f"{run.owner.name}: no plan ({run.result.status}) {why}; it commits nothing")
    return run


def _key(plan: dict) -> tuple:
    return tuple(sorted(plan.items()))


def own_part(plan: dict, owner: Owner) -> dict:
    return {(l, t): v for (l, t), v in plan.items() if l in set(owner.levers) and v}


def union_regime(full: Case, solves: OwnerSolves, owners: dict) -> tuple[Regime, list[str]]:
    """Each owner alone with the whole budget; the union of their picks. Also returns
    warnings where an owner's own relief differs from its sectors' relief in the full case."""
    runs, plan, warnings = [], {}, []
    for o in owners.values():
        if not o.levers:
            runs.append(OwnerRun(o, None, None))
            continue
        run = solves.run(o, (UNION,), lambda o=o: owner_alone(full, o.name))
        res = run.result
        if res.evaluation is not None:
            plan.update(res.evaluation.plan)
            run.own_relief_check = sector_relief(evaluate_plan(full, res.evaluation.plan), full, o.sectors)
            if abs(run.own_relief_check - res.evaluation.expected_relief) > TOL * max(1.0, abs(run.own_relief_check)):
                warnings.append(
                    f"{o.name}: relief of its sectors alone {res.evaluation.expected_relief:.6g} differs from "
                    f"the same plan's relief of those sectors in the full case {run.own_relief_check:.6g} "
                    "(a ladder whose higher tier does not lower every sector's rate)"
                )
        runs.append(run)
    ev = evaluate_plan(full, plan, force=solves.force, exclude=solves.exclude)
    return Regime(UNION, runs, plan, ev, attainable=False), warnings


# ----------------------------------------------------------------------------------
# first come, first served
# ----------------------------------------------------------------------------------


def decision_order(case: Case, owners: dict, union_plan: dict) -> list[str]:
    """Owners with levers, in the order they decide: owners.csv `order` first (where given),
    then by the year of their first pick in the union (owners who picked nothing alone
    last), ties by name."""
    given = owner_order(case)
    owner_of = {l: o.name for o in owners.values() for l in o.levers}
    first: dict = {}
    for (l, t), v in union_plan.items():
        if v > 0:
            o = owner_of[l]
            first[o] = min(first.get(o, t), t)

    def key(name):
        k, f = given.get(name), first.get(name)
        return (k is None, k or 0, f is None, f or 0, name)

    return sorted((n for n, o in owners.items() if o.levers), key=key)


def first_come_regime(full: Case, solves: OwnerSolves, owners: dict, union: Regime) -> Regime:
    """Owners decide in turn, each alone (its own levers, its own sectors, as in the union)
    with what public money and pool capacity the earlier owners left."""
    order = decision_order(full, owners, union.plan)
    plan: dict = {}
    runs, notes = [], []
    for name in order:
        o = owners[name]
        run = solves.run(
            o, (FIRST_COME, _key(plan)), lambda o=o, p=dict(plan): left_case(owner_alone(full, o.name), full, owners, p)
        )
        runs.append(commit(run, plan, notes, "with what the earlier owners left"))
    runs += [OwnerRun(o, None, None) for o in owners.values() if not o.levers]
    ev = evaluate_plan(full, plan, force=solves.force, exclude=solves.exclude)
    return Regime(FIRST_COME, runs, plan, ev, attainable=True, order=order, notes=notes)


def left_case(owner_case: Case, full: Case, owners: dict, earlier_plan: dict) -> Case:
    """An owner's case with every shared limit lowered by what the earlier owners' plan uses of
    it (never below 0), and its levers that exclude an earlier commitment shut."""
    used = use_of(full, earlier_plan)
    left = [
        {"limit": kind, "key": key, "share": max(0.0, limit - used.get((kind, key), 0.0))}
        for kind, key, limit, _ in shared_limits(full, owners)
    ]
    case = rationed_case(owner_case, left)
    taken = {l for (l, _), v in earlier_plan.items() if v}
    shut = {
        (r["lever"] if r["other"] in taken else r["other"])
        for r in records(full.table("relations"))
        if r["relation"] == "excludes" and (r["other"] in taken or r["lever"] in taken)
    } - taken
    if not shut:
        return case
    lv = case.table("levers").copy()
    lv.loc[lv["lever"].isin(shut), ["min_modules", "max_modules"]] = 0.0
    return case.replaced(levers=lv)


def in_turn_regime(full: Case, solves: OwnerSolves, owners: dict, union: Regime) -> Regime:
    """Owners decide in turn, as in first come, but each sees what the earlier owners committed:
    its solve holds their commitments fixed (`Session.solve(..., fixed=...)`), so it has what
    money and pool capacity they left and counts their spillover into its own sectors' tiers."""
    order = decision_order(full, owners, union.plan)
    plan: dict = {}
    earlier: list[str] = []
    runs, notes = [], []
    for name in order:
        o = owners[name]
        fixed = (tuple(earlier), dict(plan)) if earlier else None
        context = (IN_TURN, tuple(earlier), _key(plan))
        run = solves.run(o, context, lambda o=o, e=tuple(earlier): owner_alone(full, o.name, also=e), fixed=fixed)
        runs.append(commit(run, plan, notes, "after the earlier owners' commitments"))
        earlier += list(o.levers)
    runs += [OwnerRun(o, None, None) for o in owners.values() if not o.levers]
    ev = evaluate_plan(full, plan, force=solves.force, exclude=solves.exclude)
    return Regime(IN_TURN, runs, plan, ev, attainable=True, order=order, notes=notes)


# ----------------------------------------------------------------------------------
# rationed
# ----------------------------------------------------------------------------------


def shared_limits(full: Case, owners: dict) -> list[tuple]:
    """The limits the owners share: (kind, key, limit, owners who may draw on it).
    kind: "year" (envelope, year), "envelope" (envelope), "total", "pool" (pool, used by the
    levers of more than one owner; an owner's own capacity pool is its own)."""
    lv = {r["lever"]: r for r in records(full.table("levers"))}
    owner_of = {l: o.name for o in owners.values() for l in o.levers}
    by_envelope: dict = {}
    for l, r in lv.items():
        if l in owner_of:
            by_envelope.setdefault(r["envelope"], set()).add(owner_of[l])
    out = []
    for (e, t), b in yearly_budgets(full).items():
        if e in by_envelope:
            out.append(("year", (e, t), b, by_envelope[e]))
    for e, cap in zip(full.table("envelopes")["envelope"], full.table("envelopes")["total_usd_bn"]):
        if e in by_envelope:
            out.append(("envelope", e, float(cap), by_envelope[e]))
    if full.meta.get("total_public_budget") is not None:
        out.append(("total", None, float(full.meta["total_public_budget"]), set(owner_of.values())))
    users: dict = {}
    for r in records(full.table("lever_pools")):
        if r["lever"] in owner_of:
            users.setdefault(r["pool"], set()).add(owner_of[r["lever"]])
    for q, limit in zip(full.table("pools")["pool"], full.table("pools")["limit"]):
        if len(users.get(q, ())) > 1:
            out.append(("pool", q, float(limit), users[q]))
    return out


def use_of(full: Case, plan: dict) -> dict:
    """What a plan uses of each shared limit: {(kind, key): amount} (the public money of each
    envelope's years and of all years, all public money, and each pool's use)."""
    ev = evaluate_plan(full, plan)
    use: dict = {("year", (r.envelope, int(r.year))): float(r.public_spend) for r in ev.envelope_spending.itertuples()}
    use.update({("envelope", e): float(v) for e, v in ev.envelope_totals.items()})
    use[("total", None)] = float(ev.public_spend)
    use.update({("pool", q): float(v) for q, v in pool_use(full, ev.portfolio).items()})
    return use


def rationed_shares(full: Case, owners: dict, union: Regime) -> list[dict]:
    """Each owner's share of each shared limit: the limit times its part of what all asked
    for in the union; a limit nobody asked for is shared equally among those who may use it."""
    asks = {n: use_of(full, own_part(union.plan, owners[n])) for n in owners if owners[n].levers}
    rows = []
    for kind, key, limit, who in shared_limits(full, owners):
        want = {n: asks[n].get((kind, key), 0.0) for n in sorted(who)}
        total = sum(want.values())
        for n, a in want.items():
            share = limit * a / total if total > TOL else limit / len(want)
            rows.append({"owner": n, "limit": kind, "key": key, "budget": limit, "asked": a, "share": share})
    return rows


def rationed_case(owner_case: Case, shares: list[dict]) -> Case:
    """An owner's case with each shared limit replaced by its share."""
    mine = {(r["limit"], r["key"]): r["share"] for r in shares}
    b = owner_case.table("budget").copy()
    b["public_budget_usd_bn"] = [
        mine.get(("year", (e, int(t))), v) for e, t, v in zip(b["envelope"], b["year"], b["public_budget_usd_bn"])
    ]
    env = owner_case.table("envelopes").copy()
    env["total_usd_bn"] = [mine.get(("envelope", e), v) for e, v in zip(env["envelope"], env["total_usd_bn"])]
    pools = owner_case.table("pools").copy()
    pools["limit"] = [mine.get(("pool", q), v) for q, v in zip(pools["pool"], pools["limit"])]
    meta = dict(owner_case.meta)
    if ("total", None) in mine:
        meta["total_public_budget"] = mine[("total", None)]
    return owner_case.replaced(meta=meta, budget=b, envelopes=env, pools=pools)


def rationed_regime(full: Case, solves: OwnerSolves, owners: dict, union: Regime) -> Regime:
    """Each owner alone within its shares of the shared limits; the union of those plans."""
    shares = rationed_shares(full, owners, union)
    runs, plan, notes = [], {}, []
    for o in owners.values():
        if not o.levers:
            runs.append(OwnerRun(o, None, None))
            continue
        mine = [r for r in shares if r["owner"] == o.name]
        context = (RATIONED, tuple((r["limit"], r["key"], r["share"]) for r in mine))
        run = solves.run(o, context, lambda o=o, mine=mine: rationed_case(owner_alone(full, o.name), mine))
        runs.append(commit(run, plan, notes, "within its shares"))
    ev = evaluate_plan(full, plan, force=solves.force, exclude=solves.exclude)
    return Regime(RATIONED, runs, plan, ev, attainable=True, shares=shares, notes=notes)
