"""Evaluating trials for the pages: a synthetic control with its placebos takes seconds on a
few dozen peers (over a minute with 50 on the full panel), far too long to hold a request.

A trial is evaluated on all its KPIs at once (they are judged together: Holm's adjustment
over the trial's KPIs). ``TrialEvaluator.get_trial`` first looks in the bank, where the
command line and earlier requests store what they compute (``tillit.query``'s stored
evaluations, keyed by the store's state, the trial's version, its KPIs, the units left out,
the settings and the method's version): a stored evaluation is shown at once. Otherwise it
starts the evaluation in a background thread (at most ``workers`` at a time), waits ``wait``
seconds for it, and answers None: the page then says the evaluation is being computed and
reloads itself. A finished evaluation is stored in the bank and kept here with its charts,
so a sync, an edit of the trial or a new trial on one of its KPIs computes afresh."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from tillit.bank import Bank, TrialRecord
from tillit.query import (
    EvaluationKeys,
    TrialEvaluation,
    TrialEvaluations,
    evaluate_trial_kpis,
    evaluation_keys,
    save_trial_evaluations,
    stored_trial_evaluations,
)
from tillit.store import Store
from tillit.web._errors import WebError
from tillit.web.pages._trial_figures import TrialFigure, trial_figures

__all__ = ["Prepared", "PreparedTrial", "TrialEvaluator"]

MapFunction = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]
Key = tuple[object, ...]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """An evaluated KPI of a trial (as an anonymous reader sees it) and its charts."""

    result: TrialEvaluation
    figures: tuple[TrialFigure, ...]


@dataclass(frozen=True)
class PreparedTrial:
    """Every KPI of a trial evaluated (judged together), with each KPI's charts."""

    evaluations: TrialEvaluations
    figures: Mapping[str, tuple[TrialFigure, ...]]

    def prepared(self, kpi: str) -> Prepared:
        result = self.evaluations.kpi(kpi)
        return Prepared(result, self.figures.get(result.kpi, ()))


def _prepare(result: TrialEvaluations) -> PreparedTrial:
    return PreparedTrial(result, {e.kpi: trial_figures(e) for e in result.evaluations})


class TrialEvaluator:
    """Trial evaluations read from the bank or computed in the background, stored there
    and kept here (``keep`` of them, least recently used dropped). ``peers`` is the donor
    pool (the structurally nearest units of the trial's kind: municipalities, or for a
    region's trial the other regions, all 20 with the default 50) and ``alpha`` the
    significance level, as `tillit trial evaluate`'s defaults, so that the two share their
    stored evaluations; ``map_function`` runs the placebo fits, or else, with
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
        alpha: float = 0.1,
    ) -> None:
        self.peers = peers
        self.alpha = alpha
        self.wait = wait
        self.keep = keep
        self.pending = pending
        self.map_function = map_function
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._slots = threading.Semaphore(max(1, workers))
        self._lock = threading.Lock()
        self._done: OrderedDict[Key, PreparedTrial] = OrderedDict()
        self._running: dict[Key, Future[PreparedTrial]] = {}

    def keys(self, store: Store, bank: Bank, trial: TrialRecord) -> EvaluationKeys:
        """The keys the trial's evaluations are stored under with this evaluator's settings."""
        return evaluation_keys(store, bank, trial, peers=self.peers, alpha=self.alpha)

    def get(
        self,
        store: Store,
        stamp: object,
        bank: Bank,
        trial: TrialRecord,
        kpi: str,
        *,
        wait: float | None = None,
    ) -> Prepared | None:
        """The evaluation of ``trial`` on ``kpi`` (judged with the trial's other KPIs), or
        None while it is being computed (see :meth:`get_trial`). ``stamp`` is not used: the
        store's state is read from ``store`` itself (``tillit.query.store_state``), the same
        way the command line reads it."""
        found = self.get_trial(store, bank, trial, wait=wait)
        return None if found is None else found.prepared(kpi)

    def get_trial(
        self, store: Store, bank: Bank, trial: TrialRecord, *, wait: float | None = None
    ) -> PreparedTrial | None:
        """Every KPI of ``trial`` evaluated: from this evaluator's memory, else from the bank
        (stored by the command line or an earlier request), else computed in the background
        and stored; None while it is being computed (after waiting ``wait`` seconds, default
        the evaluator's). An error of the evaluation (other than a refusal, which is an
        answer) is raised once, then the next request tries again."""
        keys = self.keys(store, bank, trial)
        key: Key = (keys.store_state, *(keys.keys[k.kpi] for k in trial.kpis))
        with self._lock:
            hit = self._done.get(key)
            if hit is not None:
                self._done.move_to_end(key)
                return hit
            running = key in self._running
        if not running:
            stored = stored_trial_evaluations(
                store, bank, trial, peers=self.peers, alpha=self.alpha, keys=keys
            )
            if stored is not None:
                return self._keep(key, _prepare(stored))
        with self._lock:
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
                    args=(future, store, bank, trial.id),
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
        return self._keep(key, prepared)

    def _keep(self, key: Key, prepared: PreparedTrial) -> PreparedTrial:
        with self._lock:
            self._done[key] = prepared
            self._done.move_to_end(key)
            while len(self._done) > self.keep:
                self._done.popitem(last=False)
        return prepared

    def _run(self, future: Future[PreparedTrial], store: Store, bank: Bank, trial_id: int) -> None:
        with self._slots:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = evaluate_trial_kpis(
                    store,
                    bank,
                    trial_id,
                    peers=self.peers,
                    alpha=self.alpha,
                    map_function=self._map(),
                )
                try:
                    save_trial_evaluations(store, bank, result)
                except Exception:  # a bank that cannot be written: shown, not kept
                    _log.exception("could not store the evaluation of trial %s", trial_id)
                future.set_result(_prepare(result))
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
