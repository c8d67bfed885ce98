"""`relief serve`'s model side: a page's settings, checked on the server, turned into the
`--set` overrides `relief solve` takes, solved on a persistent `Session` and laid out as the
figures the page shows. No web framework here (cli/serve.py is the page).

A page's settings are plain text from a browser (the address's query string): every value is
checked here, and a bad one becomes a `SettingsError` with a short message, never a crash.
Nothing from the browser names a file: the case is the one `relief serve` was started with.

One `WhatIf` per case: its sessions (one per set of excluded levers and reveal year, since
those change the model's structure) are built once and reused; a lock makes one solve at a
time. `request(sid, settings)` is one browser session's solve: a newer request of the same
session, or `cancel(sid)`, interrupts it (HiGHS stops at its next interrupt point) and its
answer is discarded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

if TYPE_CHECKING:
    from relief.model.core.case import Case

RISKS = ("expected", "worst", "cvar")
BUDGET_SCALE = (0.0, 3.0)  # the slider's range; the server refuses anything outside it
CAPEX_SCALE = (0.1, 5.0)
TOTAL_BUDGET = (0.0, 10_000.0)  # USD bn
MARGIN = (0.0, 0.99)  # case.tier_margin (--margin): below 1
SID_LENGTH = 64  # a browser session's id (made by the page): at most this long
MAX_REQUESTS = 256  # browser sessions remembered (their newest request), the oldest dropped
MAX_ANSWERS = 16  # the last answers, by settings (the baseline's among them)
MAX_SESSIONS = 8  # one model per set of excluded levers, the least recently used dropped


class SettingsError(ValueError):
    """A setting from the page that cannot be used (the message says which and why)."""


@dataclass(frozen=True)
class Settings:
    """What a planner changed from the case: only the changed values are kept."""

    budget_scale: float = 1.0
    budget_part: str = ""  # one budget year ("2027") or envelope ("cash") scaled by part_scale
    part_scale: float = 1.0
    total: float | None = None  # case.total_public_budget (None: the case's)
    reveal: str = ""  # case.reveal_year: "" the case's, else a year (last_year + 1: none)
    margin: float | None = None  # case.tier_margin (None: the case's)
    probability: tuple = ()  # ((stance, p), ...): the others rescale to sum 1
    credit: tuple = ()  # ((stance, commitment credit), ...)
    capex: tuple = ()  # ((lever, multiplier), ...)
    force: tuple = ()
    exclude: tuple = ()
    risk: str = "expected"
    alpha: float = 0.8
    weight: float = 0.5

    # --- to and from the page address ---------------------------------------------------
    def query(self) -> str:
        """The settings as a query string (a copied address reproduces them)."""
        q: list = []
        if self.budget_scale != 1.0:
            q.append(("budget", _num(self.budget_scale)))
        if self.budget_part:
            q.append((f"budget.{self.budget_part}", _num(self.part_scale)))
        if self.total is not None:
            q.append(("total", _num(self.total)))
        q += [(f"p.{s}", _num(v)) for s, v in self.probability]
        q += [(f"credit.{s}", _num(v)) for s, v in self.credit]
        q += [(f"capex.{l}", _num(v)) for l, v in self.capex]
        q += [("force", l) for l in self.force]
        q += [("exclude", l) for l in self.exclude]
        if self.risk != "expected":
            q.append(("risk", self.risk_text()))
        if self.reveal:
            q.append(("reveal", self.reveal))
        if self.margin is not None:
            q.append(("margin", _num(self.margin)))
        return "?" + urlencode(q) if q else ""

    def risk_text(self) -> str:
        return f"cvar:{_num(self.alpha)}:{_num(self.weight)}" if self.risk == "cvar" else self.risk

    def overrides(self, case: Case | None = None) -> list[str]:
        """Exactly what `relief solve --set` takes for these settings (and the overrides of
        --risk, --reveal and --margin); `case` says how budget.csv's rows are keyed (a year, or
        an envelope and a year) when one year or envelope is scaled."""
        from relief.model.core.risk import Risk

        out = []
        if self.budget_scale != 1.0:
            out.append(f"budget.*.public_budget_usd_bn*={_num(self.budget_scale)}")
        if self.budget_part:
            out.append(f"budget.{budget_key(case, self.budget_part)}.public_budget_usd_bn*={_num(self.part_scale)}")
        if self.total is not None:
            out.append(f"case.total_public_budget={_num(self.total)}")
        out += [f"scenarios.{s}.probability={_num(v)}" for s, v in self.probability]
        out += [f"scenarios.{s}.commitment_credit={_num(v)}" for s, v in self.credit]
        out += [f"levers.{l}.capex_per_module*={_num(v)}" for l, v in self.capex]
        if self.risk != "expected":
            out += list(Risk.parse(self.risk_text()).overrides())
        if self.reveal:
            out.append(f"case.reveal_year={self.reveal}")
        if self.margin is not None:
            out.append(f"case.tier_margin={_num(self.margin)}")
        return out


def budget_parts(case: Case) -> dict:
    """What one budget control can scale: {"2027": "year", "cash": "envelope", ...}."""
    b = case.table("budget")
    parts = {str(int(y)): "year" for y in dict.fromkeys(b["year"])}
    if "envelope" in b.columns and b["envelope"].nunique() > 1:
        parts.update({str(e): "envelope" for e in dict.fromkeys(b["envelope"]) if str(e) not in parts})
    return parts


def budget_key(case: Case | None, part: str) -> str:
    """budget.csv's row key for one year or one envelope (`*` for the other part of a
    composite key, as --set takes it)."""
    if case is None or "envelope" not in case.table("budget").columns:
        return part
    return f"*:{part}" if budget_parts(case).get(part) == "year" else f"{part}:*"


def _num(v: float) -> str:
    return f"{float(v):.6g}"


def _number(name: str, text, low: float, high: float) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: '{text}' is not a number") from None
    if not low <= v <= high:  # also refuses nan
        raise SettingsError(f"{name}: {_num(v)} is outside [{_num(low)}, {_num(high)}]")
    return v


def parse_settings(case: Case, query: str | dict) -> Settings:  # long: one check per kind of setting
    """The settings of a query string (or a dict of its values), each checked against the
    case: unknown stances or levers, values out of range, a lever both forced and excluded."""
    pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True) if isinstance(query, str) else _pairs(query)
    stances, levers = list(case.scenarios), list(case.levers)
    kw: dict = {"probability": [], "credit": [], "capex": [], "force": [], "exclude": []}
    for key, value in pairs:
        kind, _, name = key.partition(".")
        if kind == "budget" and not name:
            kw["budget_scale"] = _number("budget scale", value, *BUDGET_SCALE)
        elif kind == "budget":
            if name not in budget_parts(case):
                raise SettingsError(f"no budget year or envelope '{name}' in this case")
            if kw.get("budget_part", name) != name:
                raise SettingsError("one budget year or envelope at a time")
            kw["budget_part"] = name
            kw["part_scale"] = _number(f"budget scale of {name}", value, *BUDGET_SCALE)
        elif kind == "total" and not name:
            kw["total"] = _number("total public budget", value, *TOTAL_BUDGET)
        elif kind == "margin" and not name:
            kw["margin"] = _number("tier margin", value, *MARGIN)
        elif kind == "reveal" and not name:
            kw["reveal"] = _reveal(case, value)
        elif kind in ("p", "credit"):
            if name not in stances:
                raise SettingsError(f"no stance '{name}' in this case (stances: {', '.join(stances)})")
            label = "probability" if kind == "p" else "commitment credit"
            kw["probability" if kind == "p" else "credit"].append((name, _number(f"{label} of {name}", value, 0, 1)))
        elif kind == "capex":
            if name not in levers:
                raise SettingsError(f"no lever '{name}' in this case")
            kw["capex"].append((name, _number(f"capex multiplier of {name}", value, *CAPEX_SCALE)))
        elif kind in ("force", "exclude") and not name:
            if value not in levers:
                raise SettingsError(f"no lever '{value}' in this case")
            if value not in kw[kind]:
                kw[kind].append(value)
        elif kind == "risk" and not name:
            kw.update(_risk(value))
        else:
            raise SettingsError(f"unknown setting '{key}'")
    both = set(kw["force"]) & set(kw["exclude"])
    if both:
        raise SettingsError(f"lever(s) both forced and excluded: {', '.join(sorted(both))}")
    total = sum(v for _, v in kw["probability"])
    if len(kw["probability"]) == len(stances) and abs(total - 1) > 1e-6:
        raise SettingsError(f"the stances' probabilities sum to {_num(total)}, not 1")
    if total > 1 + 1e-9:
        raise SettingsError(f"the probabilities set sum to {_num(total)}, more than 1")
    return Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()})


def _reveal(case: Case, value) -> str:
    """A reveal year of the horizon, or "none": one roadmap for all (the case's own when it
    has no reveal year, else a year after the horizon, which schema.py reads as none)."""
    first, last = int(case.meta["first_year"]), int(case.meta["last_year"])
    if str(value) == "none":
        return "" if case.meta.get("reveal_year") is None else str(last + 1)
    try:
        year = int(str(value))
    except ValueError:
        raise SettingsError(f"reveal year: '{value}' is not a year (or none)") from None
    if not first <= year <= last + 1:
        raise SettingsError(f"reveal year: {year} is outside the horizon {first}-{last} (or none)")
    return str(year)


def _pairs(d: dict) -> list:
    out = []
    for k, v in d.items():
        out += [(k, x) for x in v] if isinstance(v, (list, tuple)) else [(k, v)]
    return out


def _risk(text) -> dict:
    from relief.model.core.risk import Risk

    try:
        r = Risk.parse(str(text))
    except ValueError as e:
        raise SettingsError(str(e).replace("--risk ", "risk ")) from None
    if r.kind == "cvar":
        return {"risk": "cvar", "alpha": r.alpha, "weight": r.weight}
    return {"risk": r.kind}


@dataclass
class Answer:
    """One re-solve, laid out for the page."""

    settings: Settings
    overrides: list
    status: str = "optimal"
    message: str = ""  # a bad setting or an infeasible case, in words
    conflicts: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    seconds: float = 0.0
    result: object = field(default=None, repr=False)  # the RunResult (for the comparison with a baseline)

    @property
    def ok(self) -> bool:
        return not self.message

    @property
    def dropped(self) -> bool:
        """A newer request or Cancel stopped it: nothing to show, nothing to remember."""
        return self.status in ("superseded", "cancelled")


class Ticket:
    """One browser session's request: `stop(reason)` interrupts its solve."""

    def __init__(self):
        self.stopped = threading.Event()
        self.reason = ""

    def stop(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.stopped.set()


class WhatIf:
    """A case's persistent sessions: `answer(settings)` re-solves with only numbers changed."""

    def __init__(self, case: Case, options=None):
        from relief.model.core.checks import with_checks
        from relief.model.core.options import SolveOptions

        self.case = case
        self.base = with_checks(case)
        self.options = options or SolveOptions.resolve(case.meta)
        self.lock = threading.Lock()  # one solve at a time: the engine is not re-entrant
        self._sessions: dict = {}
        self._answers: dict = {}
        self._requests: dict = {}  # browser session id -> its newest request's Ticket
        self._guard = threading.Lock()  # for _requests

    def defaults(self) -> dict:
        """The case's own values of every control (each control resets to these)."""
        sc = self.case.table("scenarios")
        return {
            "probability": dict(zip(sc["scenario"], map(float, sc["probability"]))),
            "credit": dict(zip(sc["scenario"], map(float, sc["commitment_credit"]))),
            "levers": list(self.case.levers),
            "risk": (self.case.meta.get("risk_measure") or "expected"),
            "budget_parts": budget_parts(self.case),
            "total": self.case.meta.get("total_public_budget"),
            "reveal": self.case.meta.get("reveal_year"),
            "margin": float(self.case.meta.get("tier_margin") or 0.0),
            "years": list(range(int(self.case.meta["first_year"]), int(self.case.meta["last_year"]) + 1)),
        }

    # --- one browser session's requests --------------------------------------------------
    def request(self, sid: str, settings: Settings) -> Answer:
        """`cached(settings)` as browser session `sid`'s newest request: an older request of
        the same session still waiting or solving is stopped (its answer is "superseded")."""
        sid = str(sid or "")[:SID_LENGTH]
        ticket = Ticket()
        with self._guard:
            older = self._requests.pop(sid, None)
            self._requests[sid] = ticket
            while len(self._requests) > MAX_REQUESTS:
                self._requests.pop(next(iter(self._requests))).stop("superseded")
        if older is not None:
            older.stop("superseded")
        try:
            return self.cached(settings, ticket)
        finally:
            with self._guard:
                if self._requests.get(sid) is ticket:
                    del self._requests[sid]

    def cancel(self, sid: str, wait: float = 0.0) -> bool:
        """Stop browser session `sid`'s running request (its answer is "cancelled"); False
        when it has none, after waiting up to `wait` seconds for one (a click on Cancel can
        reach the server just before the move it cancels)."""
        import time

        until = time.monotonic() + wait
        while True:
            with self._guard:
                ticket = self._requests.get(str(sid or "")[:SID_LENGTH])
            if ticket is not None:
                ticket.stop("cancelled")
                return True
            if time.monotonic() >= until:
                return False
            time.sleep(0.05)

    def answer(self, settings: Settings, ticket: Ticket | None = None) -> Answer:
        import time

        from relief.model.core.overrides import apply_overrides
        from relief.model.core.result import CheckError, NoPlan

        overrides = settings.overrides(self.case)
        ans = Answer(settings, overrides)
        started = time.perf_counter()
        try:
            work = self.base if not overrides else apply_overrides(self.base, overrides)
            from relief.model.core.checks import with_checks

            work = with_checks(work)
            with self.lock:
                if ticket is not None and ticket.stopped.is_set():  # stopped while waiting its turn
                    ans.status = ticket.reason
                    return ans
                result = self._solve(work, settings, ticket)
        except (ValueError, NoPlan, CheckError) as e:
            ans.status, ans.message = "invalid", str(e)
            return ans
        if ticket is not None and ticket.stopped.is_set():
            ans.status = ticket.reason
            return ans
        ans.seconds = time.perf_counter() - started
        ans.status = result.status
        if result.evaluation is None:
            ans.conflicts = list(result.conflicts)
            ans.message = (
                "No plan meets every limit with these settings."
                if ans.conflicts
                else (f"No plan found ({result.status}).")
            )
            return ans
        ans.figures = figures(result)
        ans.result = result
        return ans

    def cached(self, settings: Settings, ticket: Ticket | None = None) -> Answer:
        """`answer`, remembered for the last few settings (a pure function of the settings: the
        same settings always give the same plan, so a cache holds no browser's state)."""
        with self.lock:
            hit = self._answers.pop(settings, None)
        ans = hit if hit is not None else self.answer(settings, ticket)
        if ans.dropped:
            return ans
        with self.lock:
            self._answers[settings] = ans
            while len(self._answers) > MAX_ANSWERS:
                self._answers.pop(next(iter(self._answers)))
        return ans

    def against(self, baseline: Settings, settings: Settings) -> dict | None:
        """What changed from the pinned baseline and why (model/analyses/compare.py's attribution):
        the difference in expected relief, the levers changed (those forced or excluded first),
        the stance x track cells that explain the difference, largest first. None without two plans."""
        from relief.model.analyses.compare import compare, run_from_result

        ref, cur = self.cached(baseline), self.cached(settings)
        if ref.result is None or cur.result is None:
            return None
        c = compare([run_from_result("baseline", ref.result), run_from_result("now", cur.result)])
        changes = c["changes"].get("now", {})
        asked = [l for l in (*settings.exclude, *settings.force) if l not in (*baseline.exclude, *baseline.force)]
        order = asked + [l for l in changes if l not in asked]
        return {
            "difference": cur.figures["expected_relief"] - ref.figures["expected_relief"],
            "baseline_relief": ref.figures["expected_relief"],
            "public_spend_difference": cur.figures["public_spend"] - ref.figures["public_spend"],
            "changes": [(l, changes.get(l, ["asked"])) for l in order],
            "attribution": [
                {k: a[k] for k in ("scenario", "track", "difference", "levers")}
                for a in c["attribution"][:6]
                if abs(a["difference"]) > 1e-9
            ],
        }

    def _solve(self, work: Case, settings: Settings, ticket: Ticket | None = None):
        from relief.model.core.run import solved_case
        from relief.model.core.session import Session

        model_case = solved_case(work)
        key = (tuple(sorted(settings.exclude)), model_case.scenarios != self.case.scenarios, settings.reveal)
        session = self._sessions.pop(key, None)
        if session is None:
            session = Session(model_case, self.options, settings.force, settings.exclude)
        self._sessions[key] = session  # the most recently used last
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.pop(next(iter(self._sessions)))
        session.interrupt = None if ticket is None else ticket.stopped.is_set
        try:
            outcome = session.run(model_case, tuple(settings.force))
        finally:
            session.interrupt = None
        if ticket is not None and ticket.stopped.is_set():
            return None  # interrupted: not evaluated, never shown
        return session.finish(work, outcome, tuple(settings.overrides(self.case)), tuple(settings.force))


def figures(result) -> dict:
    """What the page's views show: key figures, the roadmap, relief by stance, tiers, spending."""
    ev = result.evaluation
    rep = result.report()
    sp = ev.envelope_spending if len(ev.envelope_spending) else ev.spending.assign(envelope="public")
    worst = min(ev.by_scenario, key=ev.by_scenario.get)
    return {
        "expected_relief": ev.expected_relief,
        "expected_relief_vs_current": rep.get("expected_relief_vs_current"),
        "public_spend": ev.public_spend,
        "worst_stance": worst,
        "worst_relief": ev.by_scenario[worst],
        "risk": rep["risk"],
        "by_scenario": dict(ev.by_scenario),
        "schedule": {l: {str(y): float(m) for y, m in ys.items()} for l, ys in rep.get("schedule", {}).items()},
        "tier_margins": rep["tier_margins"],
        "spending": [  # by funding envelope; budget None where the envelope has no yearly limit
            {"envelope": str(e), "year": int(y), "public_spend": float(x), "budget": None if b != b else float(b)}
            for e, y, x, b in zip(sp["envelope"], sp["year"], sp["public_spend"], sp["budget"])
        ],
        "warnings": rep["warnings"] + list(result.notes),
        "phases": phases(result),
        "by_track": by_track(result),
    }


def phases(result) -> dict:
    """Each committed lever's years of building (committed, not yet operating: its lead time)
    and of operating, from the roadmap (roadmap.csv's cumulative and operating); an adaptive
    plan's roadmap is its first stance's (the years before the reveal are the same in all)."""
    rm = result.evaluation.roadmap
    if "scenario" in rm.columns and len(rm):
        rm = rm[rm["scenario"] == rm["scenario"].iloc[0]]
    out: dict = {}
    for l, y, cum, op in zip(rm["lever"], rm["year"], rm["cumulative"], rm["operating"]):
        if cum > 1e-9:
            ph = out.setdefault(str(l), {"build": [], "operate": []})
            if cum - op > 1e-9:
                ph["build"].append(int(y))
            if op > 1e-9:
                ph["operate"].append(int(y))
    return out


def by_track(result) -> list:
    """Discounted relief by stance and tariff track (relief.csv summed over sectors and years):
    each stance's tracks add up to its relief."""
    rel = result.evaluation.relief
    sums: dict = {}
    for s, t, v in zip(rel["scenario"], rel["track"], rel["discounted_relief"]):
        sums[(str(s), str(t))] = sums.get((str(s), str(t)), 0.0) + float(v)
    return [{"scenario": s, "track": t, "relief": v} for (s, t), v in sums.items()]
