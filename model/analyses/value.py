"""Value of information: what knowing the U.S. stance in advance would be worth, and what
planning for one average stance would cost (the standard stochastic-programming measures;
docs/analyses.md states them with this model's words).

With RP the optimum of the case (the roadmap committed before the stance is known):

- wait-and-see, WS = sum_s p_s max_x R_s(x): each stance solved alone, as if it were known;
- EVPI = WS - RP >= 0: the most it is worth to learn the stance before committing;
- EV: the plan optimal for one expected-value scenario (every number of the scenarios at its
  probability-weighted mean: weights, commitment credit, tier thresholds, rates and tier
  requirements; only possible when every scenario has the same tiers, and the same
  baseline tier, on each track, else
  the most probable scenario stands in for it and the result says so);
- EEV = sum_s p_s R_s(x_EV), VSS = RP - EEV >= 0: what solving the stochastic problem gains
  over planning for the average stance;
- AR(R), the adaptive recourse value: the optimum when commitments before year R are shared by
  every stance and each stance has its own from R on (case.yaml reveal_year, docs/formulation.md
  Adaptive); value of flexibility = AR - RP >= 0, and RP <= AR <= WS always. For several R
  (`--reveal-years`), WS - AR(R) is the cost of learning at R rather than before committing.

Every plan is valued by `evaluate_plan` on the full case. All analyses here transform the
case (pure functions Case -> Case) and solve in one `Session`: one build/solve path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from relief.model.core.evaluate import evaluate_plan
from relief.model.core.information import Information, static_case
from relief.model.core.rates import is_dated, yearly_rates
from relief.model.core.result import NoPlan, RunResult
from relief.model.core.schema import tables_referring_to
from relief.model.core.session import Session, check_levers

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions

# the tables with a row per scenario: those whose rows name a scenario (schema.py)
SCENARIO_TABLES = tables_referring_to("scenarios.scenario")
EV_SCENARIO = "expected_value"


def risk_neutral(case: Case) -> Case:
    """Value of information is defined for expected relief: drop any risk measure."""
    if (case.meta.get("risk_measure") or "expected") == "expected":
        return case
    return case.replaced({**case.meta, "risk_measure": "expected"})


def scenario_alone(case: Case, scenario: str) -> Case:
    """The case with only `scenario`, at probability 1."""
    t = case.tables
    sc = t["scenarios"][t["scenarios"]["scenario"] == scenario].copy()
    sc["probability"] = 1.0
    kept = {name: t[name][t[name]["scenario"] == scenario].copy() for name in SCENARIO_TABLES if name in t}
    return case.replaced(scenarios=sc, **kept)


def expected_value_case(case: Case) -> tuple[Case, str]:
    """(case, how): the one-scenario case of the mean stance ('mean'), or of the most
    probable stance ('modal: <scenario>') when the scenarios' ladders differ."""
    t = case.tables
    sc = t["scenarios"]
    prob = dict(zip(sc["scenario"], sc["probability"].astype(float)))
    ladders = {
        s: set(zip(g["track"], g["tier"], g["threshold"].astype(float) == 0)) for s, g in t["tiers"].groupby("scenario")
    }
    if len({frozenset(v) for v in ladders.values()}) > 1:
        modal = max(prob, key=lambda s: (prob[s], s == sc["scenario"].iloc[0]))
        return scenario_alone(case, modal), f"modal: {modal}"

    def mean(df: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
        """The probability-weighted mean of `value` over scenarios, a missing row counting 0."""
        w = df.assign(_w=df["scenario"].map(prob) * df[value].astype(float))
        out = w.groupby(keys, sort=False, as_index=False)["_w"].sum().rename(columns={"_w": value})
        out.insert(0, "scenario", EV_SCENARIO)
        return out

    ev_sc = pd.DataFrame(
        [
            {
                "scenario": EV_SCENARIO,
                "name": "expected-value stance",
                "probability": 1.0,
                "commitment_credit": sum(prob[s] * float(k) for s, k in zip(sc["scenario"], sc["commitment_credit"])),
            }
        ]
    )
    tables = {
        "scenarios": ev_sc[
            [c for c in ev_sc.columns if c in sc.columns or c in ("scenario", "probability", "commitment_credit")]
        ],
        "pillar_weights": mean(t["pillar_weights"], ["track", "pillar"], "weight"),
        "tiers": mean(t["tiers"], ["track", "tier"], "threshold"),
        "tariffs": _mean_rates(case, prob)
        if is_dated(case)
        else mean(t["tariffs"], ["track", "tier", "sector"], "rate"),
    }
    if "tier_requirements" in t and len(t["tier_requirements"]):
        tables["tier_requirements"] = mean(t["tier_requirements"], ["track", "tier", "pillar"], "min_score")
    elif "tier_requirements" in t:
        tables["tier_requirements"] = t["tier_requirements"].iloc[0:0].copy()
    return case.replaced(**tables), "mean"


def _mean_rates(case: Case, prob: dict) -> pd.DataFrame:
    """Dated rates (tariffs.csv from_year): the probability-weighted mean rate of each
    (track, tier, sector) in each year, one row per year (V is linear in the rates, year by year)."""
    rate = yearly_rates(case)
    acc: dict = {}
    for (s, r, k, j, t), v in rate.items():
        acc[(r, k, j, t)] = acc.get((r, k, j, t), 0.0) + prob[s] * v
    rows = [
        {"scenario": EV_SCENARIO, "track": r, "tier": k, "sector": j, "rate": v, "from_year": t}
        for (r, k, j, t), v in acc.items()
    ]
    return pd.DataFrame(rows)


@dataclass
class Adaptive:
    """The adaptive roadmap with the stance known from `reveal_year` (None: the case's own
    information.csv), against the static roadmap (RP) and wait-and-see (WS)."""

    reveal_year: int | None
    relief: float
    value_of_flexibility: float  # relief - RP
    cost_of_learning_late: float  # WS - relief
    public_spend: float  # expected over the stances
    public_spend_saved: float  # the static roadmap's public spending less the expected one here
    first_moves: dict  # lever -> modules committed before the stance is known
    first_moves_years: list
    by_scenario: dict
    status: str

    def report(self) -> dict:
        return {
            "reveal_year": self.reveal_year,
            "adaptive": self.relief,
            "value_of_flexibility": self.value_of_flexibility,
            "cost_of_learning_late": self.cost_of_learning_late,
            "expected_public_spend": self.public_spend,
            "public_spend_saved": self.public_spend_saved,
            "first_moves_years": self.first_moves_years,
            "first_moves": {l: v for l, v in self.first_moves.items() if v},
            "by_scenario": self.by_scenario,
            "status": self.status,
        }


def reveal_cases(case: Case, reveal_years=()) -> list[tuple[int | None, Case]]:
    """The adaptive cases to value: each of `reveal_years`; without them, the case's own
    information structure if it adapts, else the stance known from the second year on (commit
    the first year's tranche, then adapt), or nothing with a one-year horizon."""
    base = static_case(case)
    if reveal_years:
        return [(int(r), base.replaced({**base.meta, "reveal_year": int(r)})) for r in reveal_years]
    if not Information.of(case).static:
        return [(case.meta.get("reveal_year"), case)]
    first, last = case.meta["first_year"], case.meta["last_year"]
    return [(first + 1, base.replaced({**base.meta, "reveal_year": first + 1}))] if last > first else []


@dataclass
class ValueOfInformation:
    rp: float  # the case's optimum (expected relief)
    ws: float  # wait-and-see
    evpi: float
    eev: float
    vss: float
    ev_how: str  # 'mean' or 'modal: <scenario>'
    ev_objective: float  # the EV plan's relief in the EV scenario
    probability: dict
    alone: dict[str, RunResult]  # scenario -> its optimum when solved alone
    # label ('stochastic', 'ev', and each scenario) -> {(lever, year): modules}
    plans: dict[str, dict[tuple[str, int], float]]
    values: dict[str, dict[str, float]]  # label -> {scenario: relief of that plan if the scenario comes true}
    expected: dict[str, float]  # label -> expected relief of that plan in the full case
    portfolio: dict[str, dict[str, float]]  # label -> {lever: modules}
    statuses: dict = field(default_factory=dict)
    adaptive: list = field(default_factory=list)  # one Adaptive per reveal year asked

    def report(self) -> dict:
        main = self.adaptive[0] if self.adaptive else None
        return {
            "adaptive": main.relief if main else None,
            "value_of_flexibility": main.value_of_flexibility if main else None,
            "reveal_year": main.reveal_year if main else None,
            "by_reveal_year": [a.report() for a in self.adaptive],
            "recourse_problem": self.rp,
            "wait_and_see": self.ws,
            "evpi": self.evpi,
            "expected_value_solution": self.eev,
            "vss": self.vss,
            "expected_value_scenario": self.ev_how,
            "ev_plan_relief_in_ev_scenario": self.ev_objective,
            "probability": self.probability,
            "alone": self.alone,
            "plans_expected_relief": self.expected,
            "plans_by_scenario": self.values,
            "portfolio": self.portfolio,
            "statuses": self.statuses,
        }


def value_of_information(
    case: Case, options: SolveOptions, force=(), exclude=(), reveal_years=()
) -> ValueOfInformation:
    adaptive_cases = reveal_cases(risk_neutral(case), reveal_years)
    case = static_case(risk_neutral(case))
    prob = {
        str(s): float(p) for s, p in zip(case.table("scenarios")["scenario"], case.table("scenarios")["probability"])
    }
    statuses, plans = {}, {}
    check_levers(case, force, exclude)
    # one session; each scenario alone and the expected-value case have other scenarios,
    # so the session builds their models itself
    session = Session(case, options, force, exclude)

    def solve(label: str, c: Case) -> RunResult:
        r = session.solve(c)
        statuses[label] = r.status
        if r.evaluation is None:
            raise NoPlan(f"{label}: no plan (status {r.status})")
        plans[label] = r.evaluation.plan
        return r

    rp_ev = solve("stochastic", case).evaluation
    rp = rp_ev.expected_relief
    alone = {}
    for s in prob:
        alone[s] = solve(s, scenario_alone(case, s)).evaluation.expected_relief
    ev_case, how = expected_value_case(case)
    ev_obj = solve("ev", ev_case).evaluation.expected_relief
    values, expected, portfolio = {}, {}, {}
    for label, plan in plans.items():
        e = evaluate_plan(case, plan, force=force, exclude=exclude)
        if e.violations:  # scenario-free limits: a plan feasible alone is feasible here
            raise NoPlan(f"the plan of {label} breaks a limit of the full case: {e.violations[0]}")
        values[label], expected[label], portfolio[label] = dict(e.by_scenario), e.expected_relief, dict(e.portfolio)
    ws = sum(prob[s] * alone[s] for s in prob)
    eev = expected["ev"]
    adaptive = [_adaptive(session, r, c, (rp, rp_ev.public_spend), ws, statuses) for r, c in adaptive_cases]
    return ValueOfInformation(
        adaptive=adaptive,
        rp=rp,
        ws=ws,
        evpi=ws - rp,
        eev=eev,
        vss=rp - eev,
        ev_how=how,
        ev_objective=ev_obj,
        probability=prob,
        alone=alone,
        plans=plans,
        values=values,
        expected=expected,
        portfolio=portfolio,
        statuses=statuses,
    )


def _adaptive(session: Session, reveal_year, case: Case, static: tuple, ws: float, statuses: dict) -> Adaptive:
    """Solve the adaptive case; RP <= AR <= WS is checked (a tolerance of the solver's).
    `static`: (RP, the static roadmap's public spending)."""
    rp, rp_spend = static
    r = session.solve(case)
    label = f"adaptive {reveal_year}" if reveal_year is not None else "adaptive"
    statuses[label] = r.status
    if r.evaluation is None:
        raise NoPlan(f"{label}: no plan (status {r.status})")
    ev = r.evaluation
    tol = 1e-6 * max(1.0, abs(ws))
    if not rp - tol <= ev.expected_relief <= ws + tol:
        raise NoPlan(f"{label}: relief {ev.expected_relief:.9g} lies outside static {rp:.9g} .. wait-and-see {ws:.9g}")
    return Adaptive(
        reveal_year=reveal_year,
        relief=ev.expected_relief,
        value_of_flexibility=max(0.0, ev.expected_relief - rp),
        cost_of_learning_late=max(0.0, ws - ev.expected_relief),
        public_spend=ev.public_spend,
        public_spend_saved=rp_spend - ev.public_spend,
        first_moves=dict(ev.portfolio),
        first_moves_years=list(ev.reveal.get("first_moves_years", case.years)) if ev.adaptive else list(case.years),
        by_scenario=dict(ev.by_scenario),
        status=r.status,
    )
