"""Sampled stances with statistical bounds: the multiple-replication procedure (MRP) of
Mak, Morton and Wood (1999) (`relief solve --sample N --replications M --seed S`).

Relief is maximised. With seed S, numpy's SeedSequence(S) spawns three streams: the
candidate's sample, the evaluation sample, and one stream per replication (m = 1..M), so
each sample depends on S and its own index only (not on M, nor on the number of workers).

1. Candidate x̂: the optimal plan of one more sample of N stances (its own stream),
   solved by relief's normal solve (evaluated and checked).
2. Replication m: a sample of N stances, solved; z*_m its optimum and ub_m >= z*_m the
   solver's proven bound (= z*_m when solved to optimality). f_m(x̂) = x̂'s expected relief
   on sample m (the evaluator only). G_m = ub_m − f_m(x̂) >= 0 (x̂ is feasible on every sample:
   no constraint depends on the stance). The SAA optimum is biased upward, so E[G_m] is at
   least x̂'s true optimality gap; ub_m only adds to that conservatism.
3. Ḡ, s_G and the one-sided interval [0, Ḡ + t_{M−1, c} s_G / √M] (c = --confidence).
4. x̂'s expected relief estimated on K independent stances (evaluator, no MILP):
   mean ± t_{K−1, (1+c)/2} s / √K.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from relief.model.core.evaluate import evaluate_plan
from relief.model.core.result import CheckError, NoPlan
from relief.model.sweeps.sampling import SampleSpec, SampleSpecError, draw_case

if TYPE_CHECKING:
    from relief.model.core.case import Case
    from relief.model.core.options import SolveOptions
    from relief.model.core.run import RunResult

GAP_TOLERANCE = 1e-6  # relative: a negative G_m within it is solver noise, set to 0
EVALUATION_CHUNK = 250  # evaluation stances per task: the evaluation sample is cut into these


@dataclass(frozen=True)
class Streams:
    """The seeds of every sample drawn for seed S (module docstring); the evaluation sample
    comes in chunks of EVALUATION_CHUNK stances, each from its own stream (so that workers
    share it), the same chunks whatever the number of workers."""

    candidate: int
    evaluation: tuple[tuple[int, int], ...]  # (stances, seed) of each chunk
    replications: tuple[int, ...]

    @staticmethod
    def of(seed: int, replications: int, evaluation_stances: int = 1000) -> Streams:
        cand, ev, reps = np.random.SeedSequence(seed).spawn(3)
        chunks = -(-evaluation_stances // EVALUATION_CHUNK)
        sizes = [min(EVALUATION_CHUNK, evaluation_stances - i * EVALUATION_CHUNK) for i in range(chunks)]
        return Streams(
            _seed(cand),
            tuple(zip(sizes, map(_seed, ev.spawn(chunks)))),
            tuple(map(_seed, reps.spawn(replications))),
        )


def _seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, np.uint32)[0])


@dataclass
class MrpResult:
    """The candidate's solve (a RunResult on its own sample), each replication's row and
    the candidate's relief on the evaluation sample; `report()` is the `sample` object."""

    candidate: RunResult
    spec: SampleSpec
    n: int
    seed: int
    confidence: float
    streams: Streams
    rows: list[dict]  # one per replication
    evaluation: dict  # the candidate on the evaluation sample
    wall_seconds: float = 0.0
    workers: dict = field(default_factory=dict)

    @property
    def gaps(self) -> np.ndarray:
        return np.array([r["gap"] for r in self.rows], dtype=float)

    def gap_summary(self) -> dict:
        g = self.gaps
        m = len(g)
        mean = float(g.mean())
        sd = float(g.std(ddof=1)) if m > 1 else 0.0
        upper = mean + t_quantile(self.confidence, m - 1) * sd / math.sqrt(m)
        return {"estimate": mean, "sd": sd, "ci_upper": upper, "ci_lower": 0.0, "by_replication": [float(x) for x in g]}

    def report(self) -> dict:
        """The `sample` object of `relief solve --sample --json`."""
        gap = self.gap_summary()
        est = self.evaluation["estimate"]
        return {
            "method": "multiple-replication procedure (Mak, Morton and Wood 1999)",
            "n": self.n,
            "replications": len(self.rows),
            "seed": self.seed,
            "confidence": self.confidence,
            "spec": self.spec.to_list(),
            "spec_source": self.spec.source,
            "candidate_seed": self.streams.candidate,
            "evaluation_seeds": [seed for _, seed in self.streams.evaluation],
            "candidate_relief": self.evaluation,
            "gap": {**gap, "ci_upper_share_of_relief": gap["ci_upper"] / est if est else None},
            "replication_optimum": [r["saa_optimum"] for r in self.rows],
            "replication_bound": [r["saa_bound"] for r in self.rows],
            "wall_seconds": round(self.wall_seconds, 3),
            **self.workers,
        }


def t_quantile(confidence: float, df: int) -> float:
    """The `confidence` quantile of Student's t with df degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(confidence, df)) if df > 0 else math.inf


def run_mrp(
    case: Case,
    options: SolveOptions,
    spec: SampleSpec,
    n: int,
    replications: int,
    seed: int,
    confidence: float = 0.95,
    evaluation_stances: int = 1000,
    force=(),
    exclude=(),
    workers: int = 1,
    scheduler: str | None = None,
) -> MrpResult:
    """The MRP on `case` (module docstring). Raises SampleSpecError (bad request), NoPlan."""
    if n < 1 or replications < 2 or evaluation_stances < 2 or not 0 < confidence < 1:
        raise SampleSpecError(
            "--sample needs N >= 1, --replications >= 2, --evaluate-sample >= 2, 0 < --confidence < 1"
        )
    if (case.meta.get("risk_measure") or "expected") != "expected":
        raise SampleSpecError("--sample estimates expected relief; drop --risk (or case.yaml risk_measure)")
    spec.check(case)
    t0 = time.perf_counter()
    streams = Streams.of(seed, replications, evaluation_stances)
    context = Context(case, spec, options, tuple(force), tuple(exclude))
    with executor(context, workers, scheduler) as submit:
        first = submit(solve_job, n, streams.candidate, True)
        solves = [submit(solve_job, n, s, False) for s in streams.replications]
        candidate = first.result()
        plan = candidate.evaluation.plan
        chunks = [submit(evaluate_job, size, s, plan) for size, s in streams.evaluation]
        rows = []
        for m, (s, f) in enumerate(zip(streams.replications, solves), start=1):
            sample = draw_case(case, spec, n, np.random.default_rng(s), validate=False)  # as the solve drew it
            rows.append(replication_row(m, s, sample, f.result(), plan, force, exclude))
        values = [v for f in chunks for v in f.result()]
    evaluation = estimate(values, confidence)
    return MrpResult(
        candidate=candidate,
        spec=spec,
        n=n,
        seed=seed,
        confidence=confidence,
        streams=streams,
        rows=rows,
        evaluation={**evaluation, "evaluation_stances": evaluation_stances},
        wall_seconds=time.perf_counter() - t0,
        workers={"workers": 1 if scheduler else workers, "scheduler": scheduler},
    )


def replication_row(m: int, seed: int, sample: Case, result: dict, plan: dict, force, exclude) -> dict:
    """One replication: its SAA optimum, bound, the candidate's relief on its sample, G_m."""
    ev = evaluate_plan(sample, plan, force=force, exclude=exclude)
    if ev.violations:
        raise CheckError(f"the candidate plan breaks limits on replication {m}'s sample: {ev.violations[0]}")
    z, bound = result["expected_relief"], result["bound"]
    if bound is None and result["status"] != "optimal":
        raise NoPlan(
            f"replication {m} stopped ({result['status']}) with no bound on its sample's optimum, so its gap "
            "cannot be bounded; give it more time (--time-limit)"
        )
    ub = max(z, bound) if bound is not None else z
    gap = ub - ev.expected_relief
    if gap < -GAP_TOLERANCE * max(1.0, abs(ub)):
        raise CheckError(
            f"replication {m}: the candidate is worth {ev.expected_relief:.6g} on a sample whose optimum is "
            f"at most {ub:.6g}"
        )
    return {
        "replication": m,
        "seed": seed,
        "status": result["status"],
        "saa_optimum": z,
        "saa_bound": ub,
        "candidate_on_sample": ev.expected_relief,
        "gap": max(gap, 0.0),
        "solve_seconds": result["solve_seconds"],
    }


def estimate(values, confidence: float) -> dict:
    """Mean of equally likely values and its two-sided t interval at `confidence`."""
    v = np.fromiter(values, dtype=float)
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    h = t_quantile((1 + confidence) / 2, len(v) - 1) * sd / math.sqrt(len(v))
    return {"estimate": mean, "sd": sd, "half_width": h, "ci_low": mean - h, "ci_high": mean + h}


# --- the tasks: here, on local processes, or on a Dask cluster ----------------------------------


@dataclass(frozen=True)
class Context:
    """What every task shares, sent once to each worker."""

    case: Case
    spec: SampleSpec
    options: SolveOptions
    force: tuple = ()
    exclude: tuple = ()


_CONTEXT: Context | None = None  # a local worker process's context (pool initializer)


def _set_context(context: Context) -> None:
    global _CONTEXT
    _CONTEXT = context


def solve_job(n: int, seed: int, keep: bool, context: Context | None = None):
    """Draw a sample of n stances with `seed` and solve it: its RunResult (keep) or what the MRP needs of it."""
    from relief.model.core.run import run_case

    ctx = context or _CONTEXT
    sample = draw_case(ctx.case, ctx.spec, n, np.random.default_rng(seed))
    result = run_case(sample, ctx.options, force=ctx.force, exclude=ctx.exclude)
    if result.evaluation is None:
        raise NoPlan(f"a sample of {n} stances found no plan (status {result.status})")
    if keep:
        return result
    return {
        "status": result.status,
        "expected_relief": result.evaluation.expected_relief,
        "bound": result.outcome.bound,
        "solve_seconds": result.outcome.solve_seconds,
    }


def evaluate_job(n: int, seed: int, plan: dict, context: Context | None = None) -> list[float]:
    """The plan's relief on each of n stances drawn with `seed` (the evaluator only, no MILP)."""
    ctx = context or _CONTEXT
    sample = draw_case(ctx.case, ctx.spec, n, np.random.default_rng(seed), validate=False)
    ev = evaluate_plan(sample, plan, force=ctx.force, exclude=ctx.exclude)
    return [ev.by_scenario[s] for s in sample.scenarios]


@contextmanager
def executor(context: Context, workers: int, scheduler: str | None):
    """`submit(fn, *args)` -> a future, running fn(*args, context): in this process (one
    worker), on `workers` spawned processes, or on the Dask scheduler's workers."""
    if scheduler:
        from distributed import Client

        from relief.model.sweeps.runner import SCHEDULER_TIMEOUT

        with Client(scheduler, timeout=SCHEDULER_TIMEOUT) as client:
            shared = client.scatter(context, broadcast=True)
            yield lambda fn, *args: client.submit(fn, *args, context=shared, pure=False)
        return
    if workers <= 1:
        yield lambda fn, *args: _done(fn, *args, context=context)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_set_context, initargs=(context,)
    )
    try:
        yield pool.submit
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _done(fn, *args, context):
    from concurrent.futures import Future

    f = Future()
    f.set_result(fn(*args, context=context))
    return f
