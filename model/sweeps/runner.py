"""Run the points of a sweep: here, on a local process pool, or on a Dask cluster.

Every way of running uses one `SweepWorker` per process: its `Session` builds the model
and its HiGHS engine once, and a point only carries override strings. Tasks are scheduled one
at a time (solve times vary tenfold between points) and each result is a plain dict.
No home-made scheduler: `concurrent.futures` locally, `distributed` beyond one machine.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from relief.model.core import limits as limit_table
from relief.model.core.options import SolveOptions, SolveOutcome
from relief.model.core.overrides import OverrideError, apply_overrides
from relief.model.core.result import CheckError, RunResult
from relief.model.core.session import Session
from relief.model.sweeps.designs import SweepError

if TYPE_CHECKING:
    from relief.model.core.case import Case

RESULT_COLUMNS = ("status", "expected_relief", "public_spend", "mip_gap", "solve_seconds")


class SweepWorker:
    """A model built once (one `Session`); `run` solves one point by changing its parameters."""

    def __init__(self, case: Case, options: SolveOptions, force=(), exclude=()):
        self.case, self.options = case, options
        self.force, self.exclude = tuple(force), tuple(exclude)
        self.session = Session(case, options, self.force, self.exclude)

    def run(self, point_id: int, overrides, candidate=None) -> dict:
        """Solve one point. `candidate` = (source point, its row) may offer the plan of a
        point whose limits were all at least as loose (see `PlanReuse`): if that plan
        is still feasible here it is lexicographically optimal here too, and no solve is needed."""
        row = {"point": point_id, "message": ""}
        t0 = time.perf_counter()
        try:
            case = apply_overrides(self.case, list(overrides))
        except OverrideError as e:
            return {**row, "status": "invalid", "message": str(e), "wall_seconds": time.perf_counter() - t0}
        if candidate is not None:
            reused = self._reuse(case, row, candidate, t0)
            if reused is not None:
                return reused
        try:
            # a point whose structure differs (a lead time, the horizon) gets its own model
            result = self.session.solve(case, overrides)
        except CheckError as e:
            return {**row, "status": "check_failed", "message": str(e), "wall_seconds": time.perf_counter() - t0}
        except Exception as e:  # a point that fails is recorded; the sweep goes on
            return {
                **row,
                "status": "error",
                "message": f"{type(e).__name__}: {e}",
                "wall_seconds": time.perf_counter() - t0,
            }
        conflicts = "; ".join(result.conflicts) if result.conflicts else ""
        plan = self.session.plan() if result.evaluation else None
        return self._row(row, result, t0, conflicts, plan)

    def _reuse(self, case: Case, row: dict, candidate, t0: float) -> dict | None:
        source, src = candidate
        outcome = SolveOutcome(status=src["status"], has_solution=True, mip_gap=src["mip_gap"], solve_seconds=0.0)
        result = self.session.reuse(case, src["plan"], src.get("expected_relief"), outcome)
        if result is None:
            return None
        message = f"plan of point {source} reused: it is feasible under these tighter limits, so still optimal"
        return self._row(row, result, t0, message, src["plan"])

    @staticmethod
    def _row(row: dict, result: RunResult, t0: float, message: str, plan: dict | None) -> dict:
        ev, outcome = result.evaluation, result.outcome
        row.update(
            {
                "status": outcome.status,
                "expected_relief": ev.expected_relief if ev else None,
                "public_spend": ev.public_spend if ev else None,
                "mip_gap": outcome.mip_gap,
                "solve_seconds": outcome.solve_seconds,
                "wall_seconds": time.perf_counter() - t0,
                "message": message,
            }
        )
        if ev:
            row["modules"] = dict(ev.portfolio)
            row["by_scenario"] = dict(ev.by_scenario)
            row["plan"] = plan
        return row


# --- reusing plans along limits that only tighten ----------------------------------------
# Lowering a budget, a pool limit or a lever's size limit only removes plans and leaves
# the objectives alone. A plan that is lexicographically optimal under looser limits and
# still feasible under tighter ones is therefore lexicographically optimal there too (the
# best relief cannot rise when plans are removed, and the cheapest plan at that relief is
# still there). Budget sweeps and frontiers run from the loosest point down and try the
# plan of a finished point whose every varied limit was at least as loose before solving.
# Which case paths are such limits is the table's flag `tightening_removes_plans` (model/core/limits.py).
LIMITS = frozenset(row.source for row in limit_table.LIMITS if row.tightening_removes_plans)


class PlanReuse:
    def __init__(self, params):
        self.labels = [p.label for p in params]
        self.done: dict[int, tuple[dict, dict]] = {}  # point -> (values, row)

    @staticmethod
    def applies(defn, case: Case) -> bool:
        """Every varied parameter is a limit (its value or a factor on it), none fixed by the sweep's own values."""
        from relief.model.core.overrides import resolve_path

        for p in defn.parameters:
            target, column, _ = resolve_path(case, p.path)
            if not limit_table.tightening_removes_plans(target, column) or any(
                not isinstance(v, (int, float)) for v in (p.values or ())
            ):
                return False
        return defn.method in ("grid", "oat", "lhs", "sobol", "morris")

    def order(self, points):
        """Loosest points first, so that tighter points find a source."""
        return sorted(points, key=lambda p: (-sum(self._num(p.values.get(l)) for l in self.labels), p.id))

    @staticmethod
    def _num(v) -> float:
        return float(v) if isinstance(v, (int, float)) else 0.0

    def record(self, values: dict, row: dict) -> None:
        if row.get("status") == "optimal" and row.get("plan") is not None:
            self.done[row["point"]] = (values, {k: row[k] for k in ("status", "mip_gap", "plan", "expected_relief")})

    def candidate(self, point):
        """The finished optimal point nearest to `point` among those at least as loose in every limit."""
        best, best_gap = None, None
        for pid, (vals, row) in self.done.items():
            gaps = []
            for l in self.labels:
                a, b = vals.get(l), point.values.get(l)
                if a == "" and b == "":
                    gaps.append(0.0)
                    continue
                if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a < b:
                    break
                gaps.append(a - b)
            else:
                gap = sum(gaps)
                if best_gap is None or gap < best_gap:
                    best, best_gap = (pid, row), gap
        return best


# --- a local process pool -------------------------------------------------------------
_WORKER: SweepWorker | None = None


def _init_worker(case, options, force, exclude):
    global _WORKER
    _WORKER = SweepWorker(case, options, force, exclude)


def _run_in_worker(point_id, overrides, candidate=None):
    return _WORKER.run(point_id, overrides, candidate)


def _ordered(points, reuse):
    return reuse.order(points) if reuse else list(points)


def _finish(row, values, reuse, on_result):
    if reuse:
        reuse.record(values, row)
    row.pop("plan", None)
    on_result(row)


def run_serial(points, case, options, force, exclude, on_result, reuse=None) -> None:
    worker = SweepWorker(case, options, force, exclude)
    for p in _ordered(points, reuse):
        _finish(worker.run(p.id, p.overrides, reuse.candidate(p) if reuse else None), p.values, reuse, on_result)


def run_pool(points, case, options, force, exclude, on_result, workers: int, reuse=None, max_restarts: int = 3) -> None:
    """One process per worker (spawned: HiGHS and Pyomo state never crosses a fork), each
    with one HiGHS thread and its own model. Points are handed out a few at a time, so
    that each carries the best plan to try known when it leaves; a crashed worker's pool
    is replaced and its unfinished points are sent again."""
    import multiprocessing as mp

    queue = _ordered(points, reuse)
    restarts = 0
    while queue:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=mp.get_context("spawn"),
            initializer=_init_worker,
            initargs=(case, options, force, exclude),
        )
        in_flight: dict = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers:
                    p = queue.pop(0)
                    in_flight[pool.submit(_run_in_worker, p.id, p.overrides, reuse.candidate(p) if reuse else None)] = p
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    row = fut.result()  # raises BrokenProcessPool if a worker died: the point stays in flight
                    p = in_flight.pop(fut)
                    _finish(row, p.values, reuse, on_result)
        except BrokenProcessPool:
            queue = list(in_flight.values()) + queue
            restarts += 1
            if restarts > max_restarts:
                raise RuntimeError(
                    f"the worker processes crashed {restarts} times; {len(queue)} point(s) unfinished "
                    "(run again with --resume)"
                ) from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# --- a Dask distributed cluster -----------------------------------------------------------
_DASK_WORKERS: dict = {}


def _run_on_dask(case, options, force, exclude, key, point_id, overrides, candidate=None):
    """Runs on a Dask worker: the SweepWorker is built once per worker process and key."""
    worker = _DASK_WORKERS.get(key)
    if worker is None:
        worker = _DASK_WORKERS[key] = SweepWorker(case, options, force, exclude)
    return worker.run(point_id, overrides, candidate)


SCHEDULER_TIMEOUT = 5.0  # seconds to reach a Dask scheduler (distributed's own default is 30)


def check_scheduler(scheduler: str, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """Connect to the Dask scheduler at `scheduler` and leave; a SweepError (exit 2) naming
    the address if it cannot be reached within `timeout` seconds. Called before a sweep
    creates its folder, so that a wrong address leaves nothing behind."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler needs the Dask distributed package (pip install distributed)") from None
    try:
        with Client(scheduler, timeout=timeout):
            pass
    except ValueError:
        raise SweepError(f"--scheduler {scheduler}: not a Dask scheduler address (like tcp://host:8786)") from None
    except (OSError, TimeoutError):
        raise SweepError(
            f"cannot reach the Dask scheduler at {scheduler} (waited {timeout:g} s); "
            "check the address and that the scheduler is running"
        ) from None


def run_dask(points, case, options, force, exclude, on_result, scheduler: str, reuse=None) -> None:
    from distributed import Client
    from distributed import wait as dask_wait

    key = f"{case.sha256()}:{force}:{exclude}:{options}"
    queue = _ordered(points, reuse)
    with Client(scheduler, timeout=SCHEDULER_TIMEOUT) as client:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        case_f = client.scatter(case, broadcast=True)
        in_flight: dict = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * n_workers:
                    p = queue.pop(0)
                    fut = client.submit(
                        _run_on_dask,
                        case_f,
                        options,
                        tuple(force),
                        tuple(exclude),
                        key,
                        p.id,
                        p.overrides,
                        reuse.candidate(p) if reuse else None,
                        pure=False,
                    )
                    in_flight[fut] = p
                done = dask_wait(list(in_flight), return_when="FIRST_COMPLETED").done
                for fut in done:
                    row = fut.result()
                    p = in_flight.pop(fut)
                    _finish(row, p.values, reuse, on_result)
        finally:
            client.cancel(list(in_flight))


def run_points(
    points,
    case,
    options,
    force=(),
    exclude=(),
    on_result=None,
    workers: int = 1,
    scheduler: str | None = None,
    reuse: PlanReuse | None = None,
) -> None:
    """Run every point and hand each result dict to `on_result` as it completes."""
    if not points:
        return
    if scheduler:
        run_dask(points, case, options, force, exclude, on_result, scheduler, reuse)
    elif workers > 1:
        run_pool(points, case, options, force, exclude, on_result, workers, reuse)
    else:
        run_serial(points, case, options, force, exclude, on_result, reuse)


def run_sweep(
    defn,
    case: Case,
    options: SolveOptions,
    out_dir,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    on_progress=None,
    reuse: bool = True,
):
    """Design the points, skip those already in out_dir (resume), run the rest, store each.
    Returns (store, points, matrix); `on_progress(n_done, n_total, row)` after each point."""
    from relief.model.sweeps.spec import definition_hash, design
    from relief.model.sweeps.store import SweepStore

    points, matrix = design(defn, case)
    store = SweepStore(
        out_dir,
        [p.label for p in defn.parameters],
        case.levers,
        defn.to_dict(),
        definition_hash(defn, case, options),
        resume,
        scenarios=case.scenarios,
    )
    todo = [p for p in points if p.id not in store.done]
    values = {p.id: p.values for p in points}
    total = len(points)

    def on_result(row):
        store.append(row, values[row["point"]])
        if on_progress:
            on_progress(len(store.done), total, row)

    if on_progress:
        on_progress(len(store.done), total, None)
    try:
        policy = PlanReuse(defn.parameters) if reuse and PlanReuse.applies(defn, case) else None
        run_points(
            todo, case, options, defn.force, defn.exclude, on_result, workers=workers, scheduler=scheduler, reuse=policy
        )
    finally:
        store.close()
    return store, points, matrix
