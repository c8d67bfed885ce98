"""Scenario decomposition with mpi-sppy: progressive hedging over groups of stances
(`mpiexec -n K relief solve CASE --decompose ph`, docs/formulation.md, Scenario decomposition).

Each PH subproblem is relief's own model (`build_model`) of a group of stances
(`scenarios_only`): every limit binds it. Its objective is the group's expected relief;
its probability the group's share; the commitments x[l,t] and the built indicators y[l]
are the first stage (nonanticipative). The cylinders (`--ph-spokes auto`), by the number of
MPI ranks K (`none`: every rank to the hub):

    K = 1       the PH hub alone: outer bound = the trivial (wait-and-see) bound
    K = 2       hub + Lagrangian bounder (outer bound from the hub's W)
    K >= 3      hub + Lagrangian bounder + xhatshuffle (inner bound; stops at the gap)

Whatever the cylinders, the plan reported is chosen and valued by relief's evaluator on
the whole case (`evaluate_plan`, no MILP): among the subproblems' commitments after
iteration 0 and after the last, the xhatshuffle incumbent and PH's rounded average. Every subproblem's commitments are a
feasible plan (no limit depends on the stance), so a plan always exists once PH has
solved its first iteration. The spending stage (least public money among the best
plans) is not part of PH.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relief.model.core.case import Case

SUBPROBLEM_SOLVER = "appsi_highs"
MAX_CANDIDATES = 16  # candidate plans tried at the end (PH's rounded average and incumbent, the most frequent)
SCREEN_STANCES = 64  # with more stances, candidates are first screened on this many (best_plan)
FULL_EVALUATIONS = 3  # ... and the best this many evaluated on the whole case
NO_PLAN = (None, None, 0, None)  # best_plan's answer without a plan
EVALUATION_RESERVE = 0.15  # share of --time-limit kept for choosing and checking the plan


@dataclass(frozen=True)
class PHOptions:
    iterations: int = 20
    mip_gap: float = 0.01  # relative gap between the plan's relief and the outer bound
    time_limit: float | None = None
    bundle: int = 4  # stances per PH subproblem
    spokes: str = "auto"  # auto (by the ranks) | none | lagrangian | all (SPOKES)
    rho: float = 0.1  # PH's penalty, USD bn per module (docs/formulation.md, Decomposition)
    subproblem_gap: float = 1e-4
    verbose: bool = False


@dataclass
class PHOutcome:
    plan: dict | None  # {(lever, year): modules}, the best candidate (rank 0 only)
    inner_bound: float | None  # the plan's expected relief (the evaluator's)
    outer_bound: float | None  # no plan can give more
    ranks: int
    cylinders: list
    iterations: int
    seconds: float
    candidates: int = 0
    stop: str = ""  # gap | iterations | time_limit
    rank: int = 0
    bundle: int = 1
    subproblems: int = 0
    evaluation: object = None  # the plan's Evaluation on the whole case (rank 0)
    notes: list = field(default_factory=list)


def no_log_files() -> None:
    """mpi-sppy's cylinders open log files (hub.log, xhatclp.log, ...) in the working directory
    when imported, and log nothing to them at their level: the planner's folder gets no such
    files (a null handler instead). Called before any cylinder is imported."""
    import logging

    import mpisppy.log as mlog

    if getattr(mlog, "relief_no_files", False):
        return
    original = mlog.setup_logger

    def setup_logger(name, out, level=logging.DEBUG, mode="w", fmt=None):
        if not isinstance(out, str):
            return original(name, out, level, mode, fmt)
        log = logging.getLogger(name)
        log.setLevel(level)
        log.propagate = False
        log.addHandler(logging.NullHandler())
        return None

    mlog.setup_logger = setup_logger
    mlog.relief_no_files = True


SPOKES = {"none": (), "lagrangian": ("lagrangian",), "all": ("lagrangian", "xhatshuffle")}


def spokes_for(choice: str, ranks: int) -> tuple:
    """The spokes beside the PH hub: `auto` takes as many as the ranks allow (a rank each);
    `none` gives every rank to the hub (its subproblems shared out: the fastest PH, with the
    trivial bound only). ValueError if `ranks` is too few for the choice."""
    if choice == "auto":
        return SPOKES["all"][: max(0, min(2, ranks - 1))]
    wanted = SPOKES[choice]
    if ranks < 1 + len(wanted):
        raise ValueError(
            f"--ph-spokes {choice} needs at least {1 + len(wanted)} MPI processes (mpiexec -n K), one per cylinder; "
            f"this run has {ranks}"
        )
    return wanted


def stance_groups(case: Case, bundle: int) -> list[tuple]:
    """The case's stances, `bundle` at a time, in the order of scenarios.csv."""
    names = list(case.scenarios)
    size = max(1, int(bundle))
    return [tuple(names[i : i + size]) for i in range(0, len(names), size)]


def group_probability(case: Case, group) -> float:
    sc = case.table("scenarios")
    return float(sc[sc["scenario"].isin(set(group))]["probability"].sum())


def scenario_creator(name: str, case=None, groups=None, force=(), exclude=()):
    """mpi-sppy's scenario creator: the relief model of group `name` ("g<i>")."""
    from mpisppy.utils.sputils import attach_root_node

    from relief.model.core.build import build_model
    from relief.model.core.information import scenarios_only

    group = groups[int(name[1:])]
    m = build_model(scenarios_only(case, group), force, exclude)
    flatten(m)
    attach_root_node(m, m.max_relief, [m.x, m.y])
    m._mpisppy_probability = group_probability(case, group)
    return m


def flatten(m) -> None:
    """Each active constraint and the relief objective as plain numbers times variables.

    relief's models hold their numbers in mutable Params (for re-solves with changed numbers);
    Pyomo's HiGHS interface then tracks every coefficient as a parameter expression, which made
    translating a subproblem 0.16 s instead of 0.07 s (4 stances), and re-pushes them all on every
    PH iteration. A subproblem's numbers never change, so they are fixed here, exactly (the
    values of the same expressions)."""
    import pyomo.core as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression
    from pyomo.repn import generate_standard_repn

    def linear(expr):
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        pairs = [(c, v) for c, v in zip(repn.linear_coefs, repn.linear_vars) if c != 0]
        body = LinearExpression(linear_coefs=[c for c, _ in pairs], linear_vars=[v for _, v in pairs])
        return float(repn.constant), body, bool(pairs)

    for c in m.component_data_objects(pyo.Constraint, active=True):
        constant, body, has_terms = linear(c.body)
        lower = None if c.lower is None else pyo.value(c.lower) - constant
        upper = None if c.upper is None else pyo.value(c.upper) - constant
        if not has_terms:  # no variable left (every coefficient 0): met by any plan, or left as built
            if (lower is None or lower <= 1e-9) and (upper is None or upper >= -1e-9):
                c.deactivate()
            continue
        c.set_value((lower, body, upper))
    constant, body, _ = linear(m.max_relief.expr)
    m.max_relief.set_value(body + constant if constant else body)


def _config(opts: PHOptions, time_limit: float | None):
    from mpisppy.utils import config

    cfg = config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.add_mipgap_specs()
    cfg.add_solver_specs() if "solver_name" not in cfg else None
    cfg.solver_name = SUBPROBLEM_SOLVER
    cfg.default_rho = opts.rho
    cfg.max_iterations = opts.iterations
    cfg.time_limit = time_limit
    cfg.rel_gap = opts.mip_gap
    cfg.abs_gap = 0.0
    cfg.linearize_proximal_terms = True  # HiGHS solves no MIQP: the proximal term piecewise linear
    cfg.linearize_binary_proximal_terms = True
    cfg.iter0_mipgap = opts.subproblem_gap
    cfg.iterk_mipgap = opts.subproblem_gap
    cfg.display_progress = opts.verbose
    cfg.tee_rank0_solves = False
    return cfg


def _wheel(case: Case, opts: PHOptions, ranks: int, time_limit, force, exclude):
    """The hub and spokes for `ranks` MPI ranks (see the module's docstring)."""
    import mpisppy.utils.cfg_vanilla as vanilla

    groups = stance_groups(case, opts.bundle)
    names = [f"g{i}" for i in range(len(groups))]
    kwargs = {"case": case, "groups": groups, "force": tuple(force), "exclude": tuple(exclude)}
    cfg = _config(opts, time_limit)
    beans = (cfg, scenario_creator, None, names)
    keeper = _keeper_class(case, opts.mip_gap, tuple(force), tuple(exclude))
    hub = vanilla.ph_hub(*beans, scenario_creator_kwargs=kwargs, ph_extensions=keeper)
    spokes, cylinders = [], ["ph"]
    wanted = spokes_for(opts.spokes, ranks)
    if "lagrangian" in wanted:
        spokes.append(vanilla.lagrangian_spoke(*beans, scenario_creator_kwargs=kwargs))
        cylinders.append("lagrangian")
    if "xhatshuffle" in wanted:
        spokes.append(vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kwargs))
        cylinders.append("xhatshuffle")
    for cylinder in [hub, *spokes]:
        _tune(cylinder)
    if ranks % len(cylinders):  # ranks left over go to the hub
        hub["rank_ratio"] = 1.0 + (ranks % len(cylinders)) / (ranks // len(cylinders))
    return hub, spokes, cylinders, len(groups)


def _tune(cylinder: dict) -> None:
    """relief's HiGHS settings (model/core/options.py HIGHS_TUNING: no RINS, RENS or restarts,
    one thread) for every subproblem solve of a cylinder."""
    from mpisppy.utils.sputils import solver_options_layer

    from relief.model.core.options import HIGHS_TUNING

    options = cylinder["opt_kwargs"]["options"]
    options.setdefault("solver_options_layers", []).append(
        solver_options_layer("default", {**HIGHS_TUNING, "threads": 1})
    )


def _keeper_class(case: Case, mip_gap: float, force, exclude):
    """A PH extension on the hub. After iteration 0 it gathers every subproblem's commitments
    (each a feasible plan: the wait-and-see plans) to the hub's first rank, which picks the best
    by relief's evaluator (`best_plan`); when that plan is already within `mip_gap` of the
    trivial bound, PH stops before iteration 1 (needed without an inner-bound spoke: the hub
    alone cannot stop at a gap)."""
    from mpisppy.extensions.extension import Extension

    class PlanKeeper(Extension):
        def __init__(self, opt):
            super().__init__(opt)
            self.best: tuple = NO_PLAN  # (plan, its expected relief, candidates tried, its Evaluation)
            self.stopped = False  # stopped after iteration 0: the plan is within the gap

        def post_iter0_after_sync(self):
            opt = self.opt
            plans = [p for ps in opt.mpicomm.allgather(_local_plans(opt)) for p in ps]
            self.best = best_plan(case, consensus_plans(plans), plans, force, exclude, comm=opt.mpicomm)
            stop = False
            if opt.cylinder_rank == 0:
                value = self.best[1]
                if value is not None:
                    opt.best_solution_obj_val = value
                    stop = relative_gap(value, opt.trivial_bound) <= mip_gap
            self.stopped = opt.mpicomm.bcast(stop, root=0)
            if self.stopped:
                opt.options["convthresh"] = float("inf")  # PH's own test then stops it at iteration 1

    return PlanKeeper


def consensus_plans(plans: list[dict]) -> list[dict]:
    """Two plans every subproblem has a say in: the most common number of modules of each lever
    and year (the mode), and the average (best_plan rounds whole-module levers)."""
    if not plans:
        return []
    keys = set().union(*plans)
    mode = {k: Counter(round(p.get(k, 0.0), 6) for p in plans).most_common(1)[0][0] for k in keys}
    mean = {k: sum(p.get(k, 0.0) for p in plans) / len(plans) for k in keys}
    return [mode, mean]


def _local_plans(opt) -> list[dict]:
    """Each local subproblem's commitments {(lever, year): modules} as they stand."""
    plans = []
    for s in opt.local_scenarios.values():
        plans.append({v.index(): float(v.value or 0.0) for v in s.x.values()})
    return plans


def _xbar_plan(opt) -> dict:
    """PH's average commitments (xbar), as stored on a local subproblem."""
    s = next(iter(opt.local_scenarios.values()))
    xbars = s._mpisppy_model.xbars
    out = {}
    for ndn_i, var in s._mpisppy_data.nonant_indices.items():
        if var.parent_component().name == "x":
            out[var.index()] = float(xbars[ndn_i].value or 0.0)
    return out


def solve_ph(case: Case, opts: PHOptions, force=(), exclude=(), comm=None, started=None) -> PHOutcome:
    """Run PH on every rank of `comm` (MPI.COMM_WORLD); the plan and bounds on rank 0.
    `started`: when the request began (time.perf_counter()), so that --time-limit counts it."""
    no_log_files()
    from mpi4py import MPI
    from mpisppy.spin_the_wheel import WheelSpinner

    comm = comm or MPI.COMM_WORLD
    start = time.perf_counter() if started is None else started
    ranks, rank = comm.Get_size(), comm.Get_rank()
    limit = None
    if opts.time_limit is not None:
        spent = time.perf_counter() - start
        limit = max(1.0, opts.time_limit * (1 - EVALUATION_RESERVE) - spent)
    hub, spokes, cylinders, subproblems = _wheel(case, opts, ranks, limit, force, exclude)
    wheel = WheelSpinner(hub, spokes)
    wheel.spin(comm_world=comm)
    first, others, iterations = _candidates(wheel, cylinders)
    outer = wheel.BestOuterBound if rank == 0 else None
    gathered = comm.gather((first, others), root=0)
    iterations = comm.bcast(iterations, root=0)
    if rank != 0:
        return PHOutcome(None, None, None, ranks, cylinders, iterations, time.perf_counter() - start, rank=rank)
    keeper = wheel.spcomm.opt.extobject
    known = keeper.best  # the best plan after iteration 0, valued already
    if keeper.stopped:  # PH stopped before iteration 1: the candidates are those of iteration 0
        plan, inner, count, evaluation = known
    else:
        firsts = [p for f, _ in gathered for p in f]
        plans = [p for _, o in gathered for p in o]
        plan, inner, count, evaluation = best_plan(case, firsts, plans, force, exclude, known)
    seconds = time.perf_counter() - start
    stop = "converged"  # why PH stopped: every subproblem commits the same
    spoke_gap = "xhatshuffle" in cylinders and None not in (inner, outer) and relative_gap(inner, outer) <= opts.mip_gap
    if wheel.spcomm.opt.extobject.stopped or spoke_gap:
        stop = "gap"
    elif iterations >= opts.iterations:
        stop = "iterations"
    elif limit is not None and seconds >= limit:
        stop = "time_limit"
    out = PHOutcome(plan, inner, outer, ranks, cylinders, iterations, seconds, count, stop)
    out.bundle, out.subproblems, out.evaluation = opts.bundle, subproblems, evaluation
    return out


def _candidates(wheel, cylinders) -> tuple[list, list, int]:
    """This rank's candidate plans: those always tried (the xhatshuffle incumbent, PH's rounded
    average) and the subproblems' last commitments; and PH's iteration count (hub ranks)."""
    if wheel.on_hub():
        opt = wheel.spcomm.opt
        first = [_xbar_plan(opt)] if wheel.spcomm.cylinder_rank == 0 else []
        return first, _local_plans(opt), int(opt._PHIter)
    if "xhatshuffle" in cylinders and _is_inner(wheel) and wheel.spcomm.cylinder_rank == 0:
        return [_best_xhat(wheel)], [], 0
    return [], [], 0


def _is_inner(wheel) -> bool:
    from mpisppy.cylinders.xhatshufflelooper_bounder import XhatShuffleInnerBound

    return isinstance(wheel.spcomm, XhatShuffleInnerBound)


def _best_xhat(wheel) -> dict:
    """The xhatshuffle spoke's incumbent (loaded back by its finalize), as commitments."""
    plans = _local_plans(wheel.spcomm.opt)
    return plans[0] if plans else {}


def relative_gap(inner: float, outer: float) -> float:
    diff = max(0.0, outer - inner)
    return 0.0 if diff <= 1e-12 else diff / max(abs(inner), 1e-10)


def best_plan(case: Case, firsts: list[dict], plans: list[dict], force=(), exclude=(), known=NO_PLAN, comm=None):
    """The candidate plan with the most expected relief by relief's evaluator on the whole
    case (feasible ones only): (plan, its relief, candidates tried, its Evaluation).

    Candidates: `firsts` (rounded), then the most frequent of `plans`, MAX_CANDIDATES in all.
    With many stances they are first screened on SCREEN_STANCES stances spread over the case
    (evaluate_plan's time grows with the stances: 3 s a plan at 1,000); the best FULL_EVALUATIONS
    of them are then evaluated on the whole case, and the best of those is the plan. `known`:
    a plan valued already, which the result must beat. With `comm` (every rank of it calling
    with the same candidates) the evaluations are shared out; the answer is on its rank 0."""
    from relief.model.core.evaluate import clean_plan

    if known[0] is not None:
        plans = [p for p in plans if clean_plan(case, p) != known[0]]
    keys = [tuple(sorted(clean_plan(case, p).items())) for p in firsts]
    counts = Counter(tuple(sorted(clean_plan(case, p).items())) for p in plans)
    keys += [k for k, _ in counts.most_common(MAX_CANDIDATES)]
    keys = list(dict.fromkeys(keys))[:MAX_CANDIDATES]
    tried = len(keys)
    screen = screening_case(case)
    if screen is not case and len(keys) > FULL_EVALUATIONS:
        worth = {
            k: -1.0 if ev.violations else ev.expected_relief for k, ev in _evaluate(screen, keys, force, exclude, comm)
        }
        keys = sorted(keys, key=lambda k: -worth[k])[:FULL_EVALUATIONS]
    best, best_value, best_ev = known[0], known[1], known[3]
    for key, ev in _evaluate(case, keys, force, exclude, comm, root_only=True):
        if not ev.violations and (best_value is None or ev.expected_relief > best_value):
            best, best_value, best_ev = dict(key), ev.expected_relief, ev
    return best, best_value, tried + known[2], best_ev


def _evaluate(case: Case, keys: list, force, exclude, comm=None, root_only=False) -> list:
    """[(key, Evaluation)] of each candidate plan `key` on `case`; with `comm`, each rank
    evaluates every n-th and the results are gathered (to rank 0 only if `root_only`)."""
    from relief.model.core.evaluate import evaluate_plan

    if comm is None or comm.Get_size() == 1:
        return [(k, evaluate_plan(case, dict(k), force=force, exclude=exclude)) for k in keys]
    rank, size = comm.Get_rank(), comm.Get_size()
    mine = [(k, evaluate_plan(case, dict(k), force=force, exclude=exclude)) for k in keys[rank::size]]
    if root_only:
        parts = comm.gather(mine, root=0)
        return [kv for part in parts for kv in part] if rank == 0 else []
    brief = [(k, _Worth(ev.violations, ev.expected_relief)) for k, ev in mine]  # no tables sent
    return [kv for part in comm.allgather(brief) for kv in part]


@dataclass
class _Worth:
    violations: list
    expected_relief: float


def screening_case(case: Case) -> Case:
    """SCREEN_STANCES stances spread evenly over the case (the case itself if it has no more)."""
    from relief.model.core.information import scenarios_only

    names = list(case.scenarios)
    if len(names) <= SCREEN_STANCES:
        return case
    step = len(names) / SCREEN_STANCES
    return scenarios_only(case, [names[int(i * step)] for i in range(SCREEN_STANCES)])


SPEND_STAGE_NOTE = (
    "--decompose ph maximises expected relief only: the second stage (least public spending among "
    "the plans with that relief) is not run, so the plan may spend more than it needs"
)


def ph_status(out: PHOutcome, mip_gap: float) -> str:
    """optimal (the plan is within `mip_gap` of the outer bound), time_limit, iteration_limit,
    or no_solution."""
    if out.plan is None:
        return "no_solution"
    if out.outer_bound is not None and relative_gap(out.inner_bound, out.outer_bound) <= mip_gap:
        return "optimal"
    return "time_limit" if out.stop == "time_limit" else "iteration_limit"


def ph_result(case: Case, out: PHOutcome, options, force=(), exclude=(), overrides=()):
    """The RunResult of a PH run (rank 0): the plan evaluated on the whole case and checked
    like any solve's (feasible; its relief no more than the outer bound), and `decompose`,
    the PH record for the report."""
    from relief.model.core.evaluate import evaluate_plan
    from relief.model.core.options import SolveOutcome, solver_info
    from relief.model.core.result import RunResult, check

    status = ph_status(out, options.mip_gap)
    gap = relative_gap(out.inner_bound, out.outer_bound) if out.plan is not None and out.outer_bound else None
    outcome = SolveOutcome(
        status=status,
        has_solution=out.plan is not None,
        objective=out.inner_bound,
        bound=out.outer_bound,
        mip_gap=gap,
        solve_seconds=out.seconds,
        wall_seconds=out.seconds,
        solver={**solver_info(), "decomposition": f"mpi-sppy {_mpisppy_version()}"},
    )
    result = RunResult(case, outcome, None, options, tuple(force), tuple(exclude), tuple(overrides))
    if out.plan is not None:
        ev = out.evaluation or evaluate_plan(case, out.plan, force=force, exclude=exclude)
        check(ev, outcome, case)
        result.evaluation = ev
    result.notes.append(SPEND_STAGE_NOTE)
    result.decompose = {
        "method": "ph",
        "ranks": out.ranks,
        "cylinders": list(out.cylinders),
        "stances_per_subproblem": out.bundle,
        "subproblems": out.subproblems,
        "iterations": out.iterations,
        "inner_bound": out.inner_bound,
        "outer_bound": out.outer_bound,
        "gap": gap,
        "candidates_evaluated": out.candidates,
        "stopped_by": out.stop,
        "seconds": round(out.seconds, 3),
    }
    return result


def _mpisppy_version() -> str:
    from importlib.metadata import version

    return version("mpi-sppy")
