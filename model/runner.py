"""Run the points of a sweep: here, on a local process pool, or on a Dask cluster.

Every way of running uses one `SweepWorker` per process: it builds the model and its
HiGHS engine once, and a point only carries override strings. Tasks are scheduled one
at a time (solve times vary tenfold between points) and each result is a plain dict.
No home-made scheduler: `concurrent.futures` locally, `distributed` beyond one machine.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .build import StructureChanged, build_model, set_parameters
from .case import Case
from .engine import HighsEngine
from .overrides import OverrideError, apply_overrides
from .run import CheckError, finish_run
from .solve import SolveOptions

RESULT_COLUMNS = ("status", "expected_relief", "public_spend", "mip_gap", "solve_seconds")


class SweepWorker:
    """A model built once; `run` solves one point by changing its parameters."""

    def __init__(self, case: Case, options: SolveOptions, force=(), exclude=()):
        self.case, self.options = case, options
        self.force, self.exclude = tuple(force), tuple(exclude)
        self.model = build_model(case, force=self.force, exclude=self.exclude)
        self.engine = HighsEngine(self.model, options)

    def run(self, point_id: int, overrides) -> dict:
        row = {"point": point_id, "message": ""}
        t0 = time.perf_counter()
        try:
            case = apply_overrides(self.case, list(overrides))
        except OverrideError as e:
            return {**row, "status": "invalid", "message": str(e), "wall_seconds": time.perf_counter() - t0}
        try:
            try:
                engine = self.engine
                engine.refresh(set_parameters(self.model, case, self.force, self.exclude))
            except StructureChanged:  # e.g. a lead time or the horizon: this point needs its own model
                engine = HighsEngine(build_model(case, self.force, self.exclude), self.options)
            outcome = engine.solve()
            result = finish_run(case, engine, outcome, self.options, self.force, self.exclude, overrides)
        except CheckError as e:
            return {**row, "status": "check_failed", "message": str(e), "wall_seconds": time.perf_counter() - t0}
        except Exception as e:  # a point that fails is recorded; the sweep goes on
            return {**row, "status": "error", "message": f"{type(e).__name__}: {e}", "wall_seconds": time.perf_counter() - t0}
        ev = result.evaluation
        row.update({
            "status": outcome.status,
            "expected_relief": ev.expected_relief if ev else None,
            "public_spend": ev.public_spend if ev else None,
            "mip_gap": outcome.mip_gap,
            "solve_seconds": outcome.solve_seconds,
            "wall_seconds": time.perf_counter() - t0,
        })
        if ev:
            row["modules"] = dict(ev.portfolio)
            row["by_scenario"] = dict(ev.by_scenario)
        if result.conflicts:
            row["message"] = "; ".join(result.conflicts)
        return row


# --- a local process pool -------------------------------------------------------------
_WORKER: SweepWorker | None = None


def _init_worker(case, options, force, exclude):
    global _WORKER
    _WORKER = SweepWorker(case, options, force, exclude)


def _run_in_worker(point_id, overrides):
    return _WORKER.run(point_id, overrides)


def run_serial(points, case, options, force, exclude, on_result) -> None:
    worker = SweepWorker(case, options, force, exclude)
    for p in points:
        on_result(worker.run(p.id, p.overrides))


def run_pool(points, case, options, force, exclude, on_result, workers: int, max_restarts: int = 3) -> None:
    """One process per worker (spawned: HiGHS and Pyomo state never crosses a fork), each
    with one HiGHS thread and its own model; a crashed worker's pool is replaced and the
    unfinished points are sent again."""
    import multiprocessing as mp

    todo = {p.id: p for p in points}
    restarts = 0
    while todo:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                   initializer=_init_worker, initargs=(case, options, force, exclude))
        try:
            pending = {pool.submit(_run_in_worker, p.id, p.overrides): p.id for p in todo.values()}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    pid = pending.pop(fut)
                    row = fut.result()
                    todo.pop(pid, None)
                    on_result(row)
        except BrokenProcessPool:
            restarts += 1
            if restarts > max_restarts:
                raise RuntimeError(f"the worker processes crashed {restarts} times; {len(todo)} point(s) unfinished (run again with --resume)") from None
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


# --- a Dask distributed cluster -----------------------------------------------------------
_DASK_WORKERS: dict = {}


def _run_on_dask(case, options, force, exclude, key, point_id, overrides):
    """Runs on a Dask worker: the SweepWorker is built once per worker process and key."""
    worker = _DASK_WORKERS.get(key)
    if worker is None:
        worker = _DASK_WORKERS[key] = SweepWorker(case, options, force, exclude)
    return worker.run(point_id, overrides)


def run_dask(points, case, options, force, exclude, on_result, scheduler: str) -> None:
    from distributed import Client, as_completed

    key = f"{case.sha256()}:{force}:{exclude}:{options}"
    with Client(scheduler) as client:
        case_f = client.scatter(case, broadcast=True)
        futures = [
            client.submit(_run_on_dask, case_f, options, tuple(force), tuple(exclude), key, p.id, p.overrides, pure=False)
            for p in points
        ]
        try:
            for fut in as_completed(futures):
                on_result(fut.result())
        finally:
            client.cancel(futures)


def run_points(points, case, options, force=(), exclude=(), on_result=None, workers: int = 1, scheduler: str | None = None) -> None:
    """Run every point and hand each result dict to `on_result` as it completes."""
    if not points:
        return
    if scheduler:
        run_dask(points, case, options, force, exclude, on_result, scheduler)
    elif workers > 1:
        run_pool(points, case, options, force, exclude, on_result, workers)
    else:
        run_serial(points, case, options, force, exclude, on_result)


def run_sweep(defn, case: Case, options: SolveOptions, out_dir, workers: int = 1, scheduler: str | None = None,
              resume: bool = False, on_progress=None):
    """Design the points, skip those already in out_dir (resume), run the rest, store each.
    Returns (store, points, matrix); `on_progress(n_done, n_total, row)` after each point."""
    from .sweep import definition_hash, design
    from .sweep_store import SweepStore

    points, matrix = design(defn, case)
    store = SweepStore(out_dir, [p.label for p in defn.parameters], case.levers, defn.to_dict(),
                       definition_hash(defn, case, options), resume)
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
        run_points(todo, case, options, defn.force, defn.exclude, on_result, workers=workers, scheduler=scheduler)
    finally:
        store.close()
    return store, points, matrix
