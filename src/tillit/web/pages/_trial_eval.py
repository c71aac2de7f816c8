"""Evaluating trials for the pages: a synthetic control with its placebos takes seconds on a
few dozen peers (over a minute with 50 on the full panel), far too long to hold a request.

``TrialEvaluator.get`` starts the evaluation in a background thread (at most ``workers`` at a
time), waits ``wait`` seconds for it, and otherwise answers None: the page then says the
evaluation is being computed and reloads itself. A finished evaluation, with its charts, is
kept per (store state, trial, version, KPI, municipalities excluded for their own trial on
the KPI), so a sync, an edit of the trial or a new trial on the same KPI computes afresh."""

from __future__ import annotations

import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from tillit.bank import Bank, TrialRecord
from tillit.query import TrialEvaluation, evaluate_trial
from tillit.store import Store
from tillit.web._errors import WebError
from tillit.web.pages._trial_figures import TrialFigure, trial_figures

__all__ = ["Prepared", "TrialEvaluator"]

MapFunction = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
Key = tuple[object, ...]


@dataclass(frozen=True)
class Prepared:
    """An evaluated trial (as an anonymous reader sees it) and its charts."""

    result: TrialEvaluation
    figures: tuple[TrialFigure, ...]


class TrialEvaluator:
    """Trial evaluations computed in the background and kept (``keep`` of them, least
    recently used dropped). ``peers`` is the donor pool (the structurally nearest
    units of the trial's kind: municipalities, or for a region's trial the other regions,
    all 20 with the default 50); ``map_function`` runs the placebo fits, or else, with
    ``processes`` > 1, a process pool of that many started on first use (by a fork server:
    forking the threaded server itself could copy a held lock) and shut down by
    :meth:`close`.
    At most ``pending`` evaluations wait or run at once; beyond that a request gets 503."""

    def __init__(
        self,
        *,
        peers: int = 50,
        wait: float = 2.0,
        workers: int = 1,
        keep: int = 200,
        pending: int = 32,
        map_function: MapFunction | None = None,
        processes: int = 1,
    ) -> None:
        self.peers = peers
        self.wait = wait
        self.keep = keep
        self.pending = pending
        self.map_function = map_function
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._slots = threading.Semaphore(max(1, workers))
        self._lock = threading.Lock()
        self._done: OrderedDict[Key, Prepared] = OrderedDict()
        self._running: dict[Key, Future[Prepared]] = {}

    def key(self, stamp: tuple[int, ...], bank: Bank, trial: TrialRecord, kpi: str) -> Key:
        excluded = tuple(sorted(bank.trial_municipalities(kpi, exclude_trial=trial.id)))
        return (stamp, trial.id, trial.version, kpi, excluded, self.peers)

    def get(
        self,
        store: Store,
        stamp: tuple[int, ...],
        bank: Bank,
        trial: TrialRecord,
        kpi: str,
        *,
        wait: float | None = None,
    ) -> Prepared | None:
        """The evaluation of ``trial`` on ``kpi``, or None while it is being computed
        (after waiting ``wait`` seconds, default the evaluator's). An error of the
        evaluation (other than a refusal, which is an answer) is raised once, then the
        next request tries again."""
        key = self.key(stamp, bank, trial, kpi)
        with self._lock:
            hit = self._done.get(key)
            if hit is not None:
                self._done.move_to_end(key)
                return hit
            future = self._running.get(key)
            if future is None:
                if len(self._running) >= self.pending:
                    raise WebError(
                        503,
                        "Servern räknar redan på många utvärderingar.",
                        hint="Försök igen om en stund.",
                    )
                future = Future()
                self._running[key] = future
                threading.Thread(
                    target=self._run,
                    args=(future, store, bank, trial.id, kpi),
                    name=f"tillit-trial-{trial.id}",
                    daemon=True,
                ).start()
        try:
            prepared = future.result(timeout=self.wait if wait is None else wait)
        except FutureTimeout:
            return None
        except BaseException:
            with self._lock:
                if self._running.get(key) is future:
                    del self._running[key]
            raise
        with self._lock:
            self._running.pop(key, None)
            self._done[key] = prepared
            self._done.move_to_end(key)
            while len(self._done) > self.keep:
                self._done.popitem(last=False)
        return prepared

    def _run(
        self, future: Future[Prepared], store: Store, bank: Bank, trial_id: int, kpi: str
    ) -> None:
        with self._slots:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = evaluate_trial(
                    store, bank, trial_id, kpi, peers=self.peers, map_function=self._map()
                )
                future.set_result(Prepared(result, trial_figures(result)))
            except BaseException as error:  # handed to the request that waits for it
                future.set_exception(error)

    def _map(self) -> MapFunction | None:
        if self.map_function is not None or self.processes <= 1:
            return self.map_function
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("forkserver")
                )
            return self._pool.map

    def close(self) -> None:
        """Shut the process pool down (the app does this as it stops)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
