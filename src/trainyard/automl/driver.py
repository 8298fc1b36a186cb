"""The AutoML driver: the parent run's process. It evaluates trials in a pool of worker
processes, records each as a child run, prints a live leaderboard, scores ensembles, refits the
winner on all rows, explains it, saves and registers it, all inside the time budget.
"""

from __future__ import annotations

import math
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from trainyard.automl import ensemble, final, trials
from trainyard.automl.config import AutoMLSettings
from trainyard.automl.data import fold_count, load_frames, make_folds
from trainyard.automl.evaluate import (
    Context,
    choose_target,
    evaluate,
    evaluate_in,
    featurize_folds,
    fit_final,
    fold_pipeline,
    load_context,
    probe_key,
    share,
    target_kind,
)
from trainyard.automl.featurize import ColumnPlan, build_featurizer, guardrails, infer_plan
from trainyard.automl.forecast import BASELINES, ForecastModel, prepare_forecasting
from trainyard.automl.metrics import loss
from trainyard.automl.pool import WorkerPool, warm_up
from trainyard.automl.portfolio import choose, portfolio
from trainyard.automl.record import MODEL_PATH, AutoMLRecord
from trainyard.automl.search import INITIAL_SAMPLE, Proposal, Scheduler
from trainyard.automl.trials import Trial
from trainyard.tracking import TrackedRun, current_run

BOARD_EVERY = 10.0
KEEP_PREDICTIONS = 8
ENSEMBLE_MEMBERS = 5
REGISTER_SECONDS = 1.0  # saving, uploading and registering the model after the refit, unloaded
CLOSE_SECONDS = 1.0  # closing the pool, recording the budget, flushing the run and exiting, unloaded
EXPLAIN_MIN_SECONDS = 1.0  # less than this left after registering: no explanation at all
PHASES = ("startup", "prepare", "workers", "search", "ensembles", "refit", "register", "explain")


class Budget:
    """Where the budget went, phase by phase, from the parent run's creation (what the user
    waits for: queueing and the driver's start count too); recorded on the parent run as
    ``budget_<phase>_seconds`` metrics and the ``budget`` table."""

    def __init__(self, created_at: float, limit: float) -> None:
        self.created_at, self.limit = created_at, limit
        self.seconds: dict[str, float] = {"startup": time.time() - created_at}
        self.cuts: list[str] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.time() - start

    def cut(self, what: str) -> None:
        """Work left out so the run ends within its budget; logged at the end."""
        self.cuts.append(what)

    def record(self, run: TrackedRun) -> str:
        total = time.time() - self.created_at
        names = [p for p in PHASES if p in self.seconds]
        run.log_metrics({f"budget_{p}_seconds": self.seconds[p] for p in names})
        run.log_metrics({"budget_total_seconds": total, "budget_limit_seconds": self.limit})
        run.log_table(
            "budget",
            {
                "phase": [*names, "total"],
                "seconds": [round(self.seconds[p], 3) for p in names] + [round(total, 3)],
            },
        )
        split = ", ".join(f"{p} {self.seconds[p]:.1f}" for p in names)
        cuts = f"; cut to fit: {'; '.join(self.cuts)}" if self.cuts else ""
        return f"budget {self.limit:g} s, used {total:.1f} s: {split}{cuts}"


def _probe() -> float:
    """Seconds a fixed bit of work (tens of ms on an idle core) takes now: how busy the machine is."""
    start = time.perf_counter()
    values = np.random.default_rng(0).random(100_000)
    for _ in range(4):
        np.sort(values)
    return time.perf_counter() - start


class Slowdown:
    """How much slower the machine is now than during the search: the phases after the search
    are estimated from times measured during it, and a machine that gets busier after it would
    overrun them. Probed at each leaderboard (every ``BOARD_EVERY`` s) and when the search ends."""

    def __init__(self) -> None:
        self.during: list[float] = []

    @staticmethod
    def now() -> float:
        """The probe's time now: the least of two (a probe is only ever slowed by noise)."""
        return min(_probe(), _probe())

    def sample(self) -> None:
        self.during.append(self.now())

    def recent(self) -> float:
        """The latest sample against the search's median, between 1 and 4, without probing: what
        the search keeps back for the phases after it scales with it, as ``factor`` scales them."""
        if len(self.during) < 2:
            return 1.0
        return float(min(4.0, max(1.0, self.during[-1] / float(np.median(self.during)))))

    def factor(self) -> float:
        """Now against the search's median, between 1 and 4, measured as the samples are (a
        statistic of its own, such as a median of three, reads a steady machine as slower, and the
        phases after the search would not fit the time the search kept back for them)."""
        if not self.during:
            return 1.0
        return float(min(4.0, max(1.0, self.now() / float(np.median(self.during)))))


class Driver:
    def __init__(
        self,
        run: TrackedRun,
        settings: AutoMLSettings,
        ctx: Context,
        classes: list[Any] | None,
        budget: Budget | None = None,
        model_path: str = MODEL_PATH,
    ) -> None:
        self.run, self.s, self.ctx, self.classes = run, settings, ctx, classes
        self.model_path = model_path
        self.store = run.workspace.store
        self.info = run.info
        self.metric = settings.metric
        self.deadline = self.info.created_at + settings.timeout_seconds
        self.budget = budget or Budget(self.info.created_at, settings.timeout_seconds)
        self.learners = choose(ctx.task, settings.allowed_models, settings.blocked_models)
        self.specs = portfolio(ctx.task)
        self.train_rows = min(len(t) for t, _ in ctx.folds)
        self.scheduler = Scheduler([self.specs[n] for n in self.learners], self.train_rows, settings.seed)
        self.trials: list[Trial] = []
        self.pending: dict[int, Proposal] = {}
        self.baselines = list(BASELINES) if ctx.task == "forecasting" else []
        self.stopping = ""
        self.last_board = time.monotonic()
        self.writer = trials.Writer()  # child-run writes, off the search's path
        self.slowdown = Slowdown()
        self.search_started = time.time()  # set again when the search starts
        self.fallback: tuple[Trial, Pipeline] | None = None  # the best trial's first fold model
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigterm(self, *_: object) -> None:
        self.stopping = "the run was canceled"

    def say(self, line: str) -> None:
        print(line, flush=True)

    # -- estimates ---------------------------------------------------------------------------------
    def refit_seconds(self, trial: Trial) -> float:
        """How long fitting ``trial`` on every row should take, from its fold fits."""
        folds = len(self.ctx.folds)
        per_fit = trial.seconds / folds
        rows = len(self.ctx.X) / max(1, min(trial.sample_size, self.train_rows))
        return per_fit * rows * 1.2

    def reserve(self) -> float:
        best = trials.ranked(self.trials, self.metric)
        if not best:
            return 0.0
        seconds = self.refit_seconds(best[0])
        if self.s.enable_ensembling:
            seconds = max(
                seconds, sum(self.refit_seconds(t) for t in best[:3]) / self.s.max_concurrent_iterations
            )
        seconds += REGISTER_SECONDS + CLOSE_SECONDS  # every row was featurized before the search
        seconds *= self.slowdown.recent()  # the phases after the search scale these by the load then
        if self.s.model_explainability and self.ctx.task != "forecasting":
            seconds += self.explain_seconds()
        return min(seconds, 0.3 * self.s.timeout_seconds)

    def explain_seconds(self) -> float:
        """Time kept for the permutation importance (it is cut to what is left when it runs)."""
        return min(10.0, 0.05 * self.s.timeout_seconds)

    # -- the search --------------------------------------------------------------------------------
    def _stop_reason(self) -> str:
        best = trials.ranked(self.trials, self.metric)
        exit_score = self.s.experiment_exit_score
        top = loss(self.metric, best[0].metrics[self.metric]) if best else None
        if exit_score is not None and top is not None and top <= loss(self.metric, exit_score):
            return f"experiment_exit_score {exit_score:g} reached"
        if self.s.enable_early_stopping and best:
            since = sum(1 for t in self.trials if t.number > best[0].number and t.status != "running")
            if since >= self.s.early_stopping_iterations:
                return f"early stopping: no better score in the last {since} trials"
        now = time.time()
        if now >= self.deadline - self.reserve() and (best or now >= self.first_trials_end()):
            return "the time budget is spent"
        return ""

    def first_trials_end(self) -> float:
        """How long the first trials may run when none has finished yet (a slow start on a busy
        machine): ``max(5 s, 5 %)`` past the budget, or past the search's start when starting the
        run and preparing the data spent the budget already: a model a little late beats none."""
        return max(self.deadline, self.search_started) + max(5.0, 0.05 * self.s.timeout_seconds)

    def launch(self, pool: WorkerPool) -> bool:
        left = self.deadline - self.reserve() - time.time()
        if not trials.ranked(self.trials, self.metric):  # none finished yet: a model a little late
            left = max(left, self.first_trials_end() - time.time())
        too_slow = {n for n in self.learners if self.scheduler.states[n].last_cost > left}
        if self.baselines:  # forecasting: the naive baselines go on the leaderboard first
            proposal: Proposal | None = Proposal(self.baselines.pop(0), {}, len(self.ctx.y), np.zeros(0))
        else:
            proposal = self.scheduler.next(too_slow)
        if proposal is None:
            return False
        trial = Trial(len(self.trials), "", proposal.learner, proposal.params, proposal.sample_size)
        scaled = proposal.learner in self.specs and self.specs[proposal.learner].scaled
        params = trials.step_params(trial.learner, trial.params, scaled, target_kind(self.ctx))
        self.writer.submit(trials.start, self.store, self.info, trial, params)
        self.trials.append(trial)
        self.pending[trial.number] = proposal
        best = trials.ranked(self.trials, self.metric)
        best_loss = loss(self.metric, best[0].metrics[self.metric]) if best else math.inf
        args = (proposal.learner, proposal.params, proposal.sample_size, self.metric, best_loss)
        pool.submit(trial.number, evaluate, *args)
        return True

    def settle(self, number: int, ok: bool, value: Any, seconds: float) -> None:
        trial = self.trials[number]
        proposal = self.pending.pop(number)
        best_before = trials.ranked(self.trials, self.metric)
        if ok and self.metric in value["metrics"]:
            trial.status, trial.metrics, trial.seconds = "completed", value["metrics"], value["seconds"]
            trial.predictions = value["predictions"]
        else:
            trial.status, trial.seconds = "failed", seconds
            trial.error = value if not ok else f"{self.metric} could not be computed on the validation rows"
        self.writer.submit(trials.finish, self.store, trial)
        result = loss(self.metric, trial.metrics[self.metric]) if trial.status == "completed" else None
        if proposal.learner in self.scheduler.states:
            self.scheduler.tell(proposal, result, trial.seconds)
        best_now = trials.ranked(self.trials, self.metric)
        keep = {t.number for t in best_now[:KEEP_PREDICTIONS]}
        for t in self.trials:
            if t.number not in keep:
                t.predictions = None
        if trial.status != "completed":
            self.say(f"trial {number} {trial.learner} failed: {trial.error}")
            return
        value_text = f"{self.metric}={trial.metrics[self.metric]:.5f}"
        new_best = not best_before or cast(float, result) < loss(
            self.metric, best_before[0].metrics[self.metric]
        )
        if new_best and "fold_model" in value:
            self.fallback = (trial, fold_pipeline(cast(Context, self.ctx), value["fold_model"]))
        mark = "  << new best" if new_best else ""
        self.say(
            f"trial {number} {trial.learner} {value_text} "
            f"({trial.seconds:.2f} s, {trial.sample_size} rows){mark}"
        )
        self.run.log(f"best_{self.metric}", best_now[0].metrics[self.metric])

    def first_here(self) -> bool:
        """The first trial, in the driver's own process, on the data it already holds: no worker
        start, no message, nothing to cancel. The first proposal is a learner's cheapest point
        (the linear learner first), so it ends in a fraction of the time a trial in a fresh
        worker needs on a busy machine, and once it has, the run has a model (its fold model)
        whatever the search's first worker trials do. False when it was left to the workers (k-NN
        alone: scoring many validation rows is not cheap; forecasting: its baselines come first)."""
        if self.trials or self.stopping or not isinstance(self.ctx, Context) or self.baselines:
            return False
        if self.s.iterations < 1:
            return False
        if self.learners[0] == "KNN":  # the scheduler's first proposal: the first untried learner
            return False
        proposal = self.scheduler.next()
        if proposal is None:
            return False
        trial = Trial(0, "", proposal.learner, proposal.params, proposal.sample_size)
        scaled = self.specs[proposal.learner].scaled
        params = trials.step_params(trial.learner, trial.params, scaled, target_kind(self.ctx))
        self.writer.submit(trials.start, self.store, self.info, trial, params)
        self.trials.append(trial)
        self.pending[0] = proposal
        start = time.monotonic()
        key = probe_key(
            self.ctx, proposal.learner, proposal.params, proposal.sample_size, len(self.ctx.folds)
        )
        value: Any = self.ctx.probed.get(key)  # the label-scale probe was this very trial
        ok = value is not None
        if not ok:
            try:  # one core, as a worker has, and its warnings as a worker filters them
                with threadpool_limits(1), warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    value = evaluate_in(self.ctx, proposal.learner, proposal.params, proposal.sample_size)
                ok = True
            except Exception as exc:  # noqa: BLE001 - the trial's failure, recorded as a worker's would be
                text = str(exc).strip().splitlines()
                value = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
        self.ctx.probed.clear()
        self.settle(0, ok, value, time.monotonic() - start)
        return True

    def search(self, pool: WorkerPool) -> None:
        self.search_started = time.time()
        if self.search_started > self.deadline:
            self.budget.cut(f"the search began {self.search_started - self.deadline:.1f} s past the budget")
        self.slowdown.sample()
        self.first_here()  # while the workers load the data
        while True:
            reason = self.stopping or self._stop_reason()
            if not reason and len(self.trials) >= self.s.iterations:
                reason = f"iterations={self.s.iterations} reached"
            if reason:
                for number, started in list(pool.running.items()):
                    pool.cancel(number)
                    trial = self.trials[number]
                    trial.status, trial.error = "canceled", f"canceled: {reason}"
                    self.writer.submit(self._request_cancel, trial)
                    trial.seconds = time.monotonic() - started
                    self.writer.submit(trials.finish, self.store, trial)
                    self.pending.pop(number, None)
                self.say(f"search stopped: {reason}")
                return
            while pool.idle and len(self.trials) < self.s.iterations and self.launch(pool):
                pass
            if not pool.running:
                self.say("search stopped: no learner can finish a trial in the time left")
                return
            for outcome in pool.wait(0.25):
                self.settle(outcome.key, outcome.ok, outcome.value, outcome.seconds)
            if time.monotonic() - self.last_board > BOARD_EVERY:
                self.show_board(5)
                self.slowdown.sample()

    def _request_cancel(self, trial: Trial) -> None:
        self.store.request_cancel(trial.run_id, trial.error)

    def show_board(self, top: int) -> None:
        self.last_board = time.monotonic()
        table = trials.leaderboard(self.trials, self.metric)
        self.say(f"leaderboard after {len(self.trials)} trials:\n{trials.render(table, self.metric, top)}")

    # -- ensembles -----------------------------------------------------------------------------------
    def ensembles(self) -> dict[str, Any]:
        """Voting and stacking rows on the leaderboard; returns how to build each."""
        best = [t for t in trials.ranked(self.trials, self.metric) if t.predictions is not None]
        members = best[:ENSEMBLE_MEMBERS]
        if len(members) < 2:
            return {}
        y = self.ctx.y[self.ctx.valid_index]
        preds = [m.predictions.astype(float) for m in members]
        built: dict[str, Any] = {}
        for name in ("VotingEnsemble", "StackEnsemble"):
            start = time.perf_counter()
            trial = Trial(
                len(self.trials), "", name, {}, members[0].sample_size, members=[m.number for m in members]
            )
            if name == "VotingEnsemble":
                weights, metrics = ensemble.voting(self.ctx.task, preds, y, self.metric)
                trial.members = [m.number for m, w in zip(members, weights, strict=True) if w > 0]
                trial.params = {"weights": [round(float(w), 3) for w in weights if w > 0]}
                built[name] = [float(w) for w in weights if w > 0]
            else:
                meta, metrics = ensemble.stacking(self.ctx.task, preds, y, self.s.seed)
                built[name] = meta
            params = {"model": name, "members": ",".join(str(m) for m in trial.members)}
            params.update({k: str(v) for k, v in trial.params.items()})
            self.writer.submit(trials.start, self.store, self.info, trial, params)
            trial.status, trial.metrics, trial.seconds = "completed", metrics, time.perf_counter() - start
            self.writer.submit(trials.finish, self.store, trial)
            self.trials.append(trial)
            self.say(f"trial {trial.number} {name} {self.metric}={metrics.get(self.metric, math.nan):.5f}")
        return built

    # -- the winner ------------------------------------------------------------------------------------
    def fit_winner(
        self, pool: WorkerPool, winner: Trial, built: dict[str, Any], until: float = math.inf
    ) -> Any:
        """``winner`` refitted on every row, or None when that is not done by ``until`` (the
        refits still running are canceled)."""
        todo = [self.trials[n] for n in winner.members] if winner.members else [winner]
        fitted: dict[int, Any] = {}
        queue = list(todo)
        while queue or pool.running:
            if time.time() > until:
                for number in list(pool.running):
                    pool.cancel(number, replace=False)  # no worker is needed after the refit
                return None
            while queue and pool.idle:
                t = queue.pop(0)
                pool.submit(t.number, fit_final, t.learner, t.params)
            for outcome in pool.wait(max(0.01, min(0.25, until - time.time()))):
                if not outcome.ok:
                    raise RuntimeError(f"refitting trial {outcome.key} on all rows failed: {outcome.value}")
                fitted[outcome.key] = outcome.value
        models = [fitted[t.number] for t in todo]
        k = self.ctx.n_classes
        if winner.learner not in ("VotingEnsemble", "StackEnsemble"):
            return models[0]
        shared = all(isinstance(m, Pipeline) and m.steps[0][0] == "featurize" for m in models)
        if shared:  # every member's featurizer was fitted on the same rows alike: featurize once
            featurizer, models = models[0].steps[0], [Pipeline(m.steps[1:]) for m in models]
        combined: Any = (
            ensemble.VotingModel(models, list(built[winner.learner]), self.ctx.task, k)
            if winner.learner == "VotingEnsemble"
            else ensemble.StackModel(models, built[winner.learner], self.ctx.task, k)
        )
        return Pipeline([featurizer, ("model", combined)]) if shared else combined

    def _refit_need(self, trial: Trial) -> float:
        members = [self.trials[n] for n in trial.members] if trial.members else [trial]
        return sum(self.refit_seconds(m) for m in members) / self.s.max_concurrent_iterations

    def _refit_fits(self, trial: Trial, until: float, slowdown: float) -> bool:
        """Whether refitting ``trial`` (an ensemble: all its members) should end by ``until`` on a
        machine ``slowdown`` times slower than during the search."""
        return time.time() + self._refit_need(trial) * slowdown <= until

    def finish(self, pool: WorkerPool) -> None:
        try:
            self._finish(pool)
        finally:
            self.writer.flush()
            self.writer.close()
            if self.writer.errors:
                self.say(f"{len(self.writer.errors)} child-run write(s) failed: {self.writer.errors[0]}")

    def _finish(self, pool: WorkerPool) -> None:
        """Ensembles, the refit, registration and the explanation, each started only when the
        time left holds it and the fixed costs after it (registering, closing), on the machine as
        busy as it is now; the refit is canceled at its deadline for the best trial's fold model."""
        slowdown = self.slowdown.factor()
        closing = CLOSE_SECONDS * slowdown
        refit_until = self.deadline - REGISTER_SECONDS * slowdown - closing
        if slowdown > 1.2:
            self.say(f"the machine is {slowdown:.1f}x slower than during the search: estimates scaled")
        with self.budget.phase("ensembles"):
            built: dict[str, Any] = {}
            if self.s.enable_ensembling and not self.stopping:
                if time.time() < refit_until:
                    built = self.ensembles()
                else:
                    self.budget.cut("ensembles (no time left after the search)")
            self.writer.flush()  # the leaderboard and the tags name the trials' run ids
        ranked = trials.ranked(self.trials, self.metric)
        table = trials.leaderboard(self.trials, self.metric)
        self.run.log_table("leaderboard", table)
        self.say(f"final leaderboard ({len(self.trials)} trials):\n{trials.render(table, self.metric, 20)}")
        if self.stopping:
            return
        if not ranked:
            errors = {t.error for t in self.trials if t.error}
            if not errors:  # nothing failed: the time went before the first trial could end
                before = sum(self.budget.seconds.get(p, 0.0) for p in ("startup", "prepare", "workers"))
                self.run.fail(
                    f"no trial completed within the budget: starting the run and preparing the data "
                    f"took {before:.0f} s of {self.s.timeout_seconds:g} s: "
                    "give a longer experiment_timeout_minutes"
                )
                return
            self.run.fail(f"no trial completed; errors: {'; '.join(sorted(errors))[:500]}")
            return
        with self.budget.phase("refit"):
            winner, raw = self.refit(pool, ranked, built, refit_until, slowdown)
        with self.budget.phase("register"):
            self.register(raw, winner)
        if self.ctx.task == "forecasting":
            single = raw if isinstance(raw, ForecastModel) else raw.members[0]
            ahead = single.forecast(self.s.forecast_horizon or 1).drop(columns="forecast")
            ahead["forecast"] = raw.predict(ahead)
            self.run.log_table("forecast", {str(c): ahead[c].astype(str).tolist() for c in ahead.columns})
            self.say(f"forecast of the next {self.s.forecast_horizon} step(s) logged as the table 'forecast'")
        elif self.s.model_explainability:
            with self.budget.phase("explain"):
                left = self.deadline - closing - time.time()
                if left >= EXPLAIN_MIN_SECONDS:
                    self.explain(raw, left - 0.5 * slowdown)  # logging the table and the plot
                else:
                    self.budget.cut(f"explanation left out ({max(0.0, left):.1f} s left)")
                    self.say(f"explanation left out to fit the budget ({max(0.0, left):.1f} s left)")

    def refit(
        self, pool: WorkerPool, ranked: list[Trial], built: dict[str, Any], until: float, slowdown: float
    ) -> tuple[Trial, Any]:
        """The best trial whose refit on every row should end by ``until``, refitted; when none
        should, or the refit runs past ``until``, the best trial's model fitted on its first fold
        (already in hand). Without one (forecasting) a refit that runs late beats no model."""
        fits = next((t for t in ranked if self._refit_fits(t, until, slowdown)), None)
        fallback = self.fallback
        if fits is None and fallback is not None:  # a refit the search kept time back for is still
            # tried (canceled at ``until`` for the fold model in hand): the budget used, not wasted
            fits = next((t for t in ranked if self._refit_fits(t, until, self.slowdown.recent())), None)
        if fits is None and fallback is not None:
            trial, model = fallback
            left = max(0.0, until - time.time())
            self._cut_refit(trial, f"no refit on every row fits the {left:.1f} s left")
            return trial, model
        winner = fits or min(ranked, key=self._refit_need)
        if winner is not ranked[0]:
            self.say(
                f"trial {ranked[0].number} {ranked[0].learner} would not refit within the budget; "
                f"using trial {winner.number} {winner.learner}, the best one that should"
            )
        raw = self.fit_winner(pool, winner, built, until if fallback is not None else math.inf)
        if raw is None and fallback is not None:
            trial, model = fallback
            self._cut_refit(trial, f"refitting trial {winner.number} {winner.learner} ran past its deadline")
            return trial, model
        return winner, raw

    def _cut_refit(self, trial: Trial, why: str) -> None:
        rows = min(trial.sample_size, len(self.ctx.folds[0][0]))
        what = f"refit ({why}): trial {trial.number} {trial.learner}'s model fitted on fold 1 ({rows} rows)"
        self.budget.cut(what)
        self.say(f"{what} is used instead")

    def register(self, raw: Any, winner: Trial) -> None:
        """Save and register the model; the parent's tags name it."""
        model = final.decoded(raw, self.classes)
        name = self.s.model_name or f"automl-{self.info.name}"
        registered = final.save_and_register(
            self.run, model, self.ctx.X.head(5), name, self.model_path, self.s.model_tags
        )
        self.run.set_tags(
            {
                "automl.best_run_id": winner.run_id,
                "automl.best_learner": winner.learner,
                "automl.best_value": winner.metrics[self.metric],
                "automl.model": f"{registered.name}:{registered.version}",
            }
        )
        self.say(
            f"best: trial {winner.number} {winner.learner} {self.metric}={winner.metrics[self.metric]:.5f}"
        )
        self.say(f"model saved to {self.model_path} and registered as {registered.name}:{registered.version}")

    def explain(self, model: Any, seconds: float) -> None:
        """Permutation importance on the validation rows, for the model fitted on encoded labels,
        cut (fewer rows, repeats or columns) to the ``seconds`` it gets."""
        rows = self.ctx.valid_index
        table, cut = final.importance(
            model,
            self.ctx.X.iloc[rows],
            self.ctx.y[rows],
            self.ctx.task,
            self.metric,
            self.ctx.n_classes,
            self.s.seed,
            seconds,
        )
        if cut:
            self.budget.cut(f"explanation {cut}")
            self.say(f"explanation cut to fit the budget: {cut}")
        if not table["feature"]:
            return
        self.run.log_table("feature_importance", table)
        self.run.log_image("feature_importance", plot=final.plot_importance(table))
        top = ", ".join(
            f"{f} {v:.4f}" for f, v in list(zip(table["feature"], table["importance"], strict=True))[:5]
        )
        self.say(f"feature importance (permutation): {top}")


def main() -> None:
    """The run's process (started by ``python -m trainyard.automl``)."""
    run = current_run(TrackedRun)
    record = AutoMLRecord.of_run(run.info)
    settings = record.automl
    budget = Budget(run.info.created_at, settings.timeout_seconds)
    warm_up()
    with budget.phase("prepare"):
        train, valid = load_frames(run.workspace, record.automl_data)
        ctx, classes = prepare(run, settings, train, valid, budget)
    sweep_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-") as tmp:
        with budget.phase("prepare"):
            if isinstance(ctx, Context):
                path = share(ctx, Path(tmp))
            else:  # forecasting: its frame is small
                path = Path(tmp) / "context.pkl"
                path.write_bytes(pickle.dumps(ctx))
        with budget.phase("workers"):  # waits for the fork server's imports, if still running
            pool = WorkerPool(settings.max_concurrent_iterations, load_context, (str(path),))
        try:
            driver = Driver(run, settings, ctx, classes, budget, record.model_path)
            driver.say(
                f"automl: {settings.task}, {settings.metric}, {len(ctx.X)} rows, {len(ctx.folds)} fold(s), "
                f"learners {', '.join(driver.learners)}; budget {settings.timeout_seconds:g} s, "
                f"{settings.max_concurrent_iterations} trial(s) at a time"
            )
            if settings.model_explainability and settings.task != "forecasting":
                # the plot's imports take seconds: done while the driver waits on the search
                threading.Thread(target=final.import_plotting, daemon=True).start()
            with budget.phase("search"):
                driver.search(pool)
            driver.finish(pool)
        finally:
            pool.close()
    print(budget.record(run), flush=True)
    run.flush()
    # the run's worker finishes the run when this process exits; the interpreter's own teardown
    # of the libraries loaded (seconds on a busy machine) would count against the budget
    sys.stderr.flush()
    os._exit(0)


FOLDER_PREFIX = "trainyard-automl-"  # then the driver's pid: its workers' shared files


def sweep_stale_folders() -> None:
    """Remove the shared files of drivers that were killed (a normal exit removes its own)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).split("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's live process
            pass


PILOT_ROWS = 2000  # featurized once to estimate how long the folds' featurization takes
CUT_MIN_ROWS = 5 * PILOT_ROWS  # tables at most this long are never cut
PREPARE_SHARE = 0.25  # the folds' featurization may take this share of the time left; rows are cut to fit
GUARDRAIL_SHARE = 0.1  # the leakage check stops after this share of the time left
PROBE_SHARE = 0.25  # less of the budget left than this: a skewed label's log scale is taken untried


def cut_rows(
    s: AutoMLSettings,
    X: pd.DataFrame,
    y: np.ndarray,
    plan: ColumnPlan,
    n_train: int,
    deadline: float,
) -> tuple[np.ndarray, str]:
    """The rows to prepare: all of them, or when featurizing every training row once per fold
    and once more for the refit would take more than ``PREPARE_SHARE`` of the time left (an
    estimate from a ``PILOT_ROWS`` pilot, scaled linearly), a random sample of the training
    rows that fits (validation_data's rows are all kept). Returns the rows and what was cut."""
    everything = np.arange(len(X))
    if n_train <= CUT_MIN_ROWS:
        return everything, ""
    left = deadline - time.time()
    pilot = np.sort(np.random.default_rng(s.seed).choice(n_train, PILOT_ROWS, replace=False))
    start = time.perf_counter()
    with warnings.catch_warnings():  # an estimate only: what the real featurization says is logged
        warnings.simplefilter("ignore")
        build_featurizer(plan, X, s.task).fit_transform(X.iloc[pilot], y[pilot])
    per_row = (time.perf_counter() - start) / PILOT_ROWS
    fits = fold_count(s, n_train, X.shape[1], left) + 1  # the folds, and every row for the refit
    whole = per_row * n_train * fits + per_row * (len(X) - n_train)
    if whole <= PREPARE_SHARE * left:
        return everything, ""
    keep = max(CUT_MIN_ROWS, int(n_train * PREPARE_SHARE * max(left, 0.0) / whole))
    if keep >= n_train:
        return everything, ""
    rows = _sample(s, y[:n_train], keep)
    what = (
        f"training rows: a sample of {keep} of {n_train} (featurizing all of them would take about "
        f"{whole:.0f} s of the {max(left, 0.0):.0f} s left)"
    )
    return np.concatenate([rows, np.arange(n_train, len(X))]), what


KEEP_PER_CLASS = 5  # a sample of a classification table keeps this many rows of each class (or all)


def _sample(s: AutoMLSettings, y: np.ndarray, size: int) -> np.ndarray:
    """``size`` random row numbers of ``y``, sorted; for classification every class keeps
    ``KEEP_PER_CLASS`` rows (all of a rarer one), so the folds can still be stratified."""
    rng = np.random.default_rng(s.seed)
    if s.task != "classification":
        return np.sort(rng.choice(len(y), size, replace=False))
    kept = [rng.permutation(np.flatnonzero(y == c))[:KEEP_PER_CLASS] for c in np.unique(y)]
    must = np.concatenate(kept)
    rest = np.setdiff1d(np.arange(len(y)), must)
    more = rng.choice(rest, max(0, min(size - len(must), len(rest))), replace=False)
    return np.sort(np.concatenate([must, more]))


def prepare(
    run: TrackedRun,
    s: AutoMLSettings,
    train: pd.DataFrame,
    valid: pd.DataFrame | None,
    budget: Budget | None = None,
) -> tuple[Context, list[Any] | None]:
    """Features plan, guardrails, encoded labels and folds: what every worker needs, bounded by
    the budget: rows are cut to a sample when featurizing them all would not fit the time left,
    the leakage check stops at its share of it, and the number of automatic folds follows it."""
    if s.task == "forecasting":
        fctx = prepare_forecasting(s, train)
        f = fctx.features
        print(
            f"forecasting: {fctx.frame.groupby(f.ids).ngroups if f.ids else 1} series, frequency {f.freq}, "
            f"season {f.season}, lags {f.lags}, rolling means {f.windows}, {len(fctx.folds)} rolling origins",
            flush=True,
        )
        return fctx, None  # type: ignore[return-value]
    deadline = run.info.created_at + s.timeout_seconds
    frame = train if valid is None else pd.concat([train, valid], ignore_index=True)
    n_train = len(train)
    X = frame.drop(columns=[s.label_column_name])
    labels = frame[s.label_column_name]
    plan = infer_plan(X, s.featurization)
    classes = None
    if s.task == "classification":
        classes_arr, y = np.unique(labels.to_numpy(), return_inverse=True)
        classes = classes_arr.tolist()
    else:
        y = labels.to_numpy(dtype=float)
    rows, cut = cut_rows(s, X, y, plan, n_train, deadline)
    if cut:
        n_train -= len(X) - len(rows)
        X, labels, y = X.iloc[rows].reset_index(drop=True), labels.iloc[rows].reset_index(drop=True), y[rows]
        if budget is not None:
            budget.cut(cut)
        print(f"data cut to fit the budget: {cut}", flush=True)
    rails = guardrails(X, labels, plan, s.task, time.time() + GUARDRAIL_SHARE * (deadline - time.time()))
    run.log_table("data_guardrails", {k: [r[k] for r in rails] for k in ("guardrail", "status", "detail")})
    for r in rails:
        print(f"guardrail {r['guardrail']}: {r['status']} - {r['detail']}", flush=True)
    unchecked = next((r["detail"] for r in rails if "checked in the time left" in r["detail"]), "")
    if unchecked and budget is not None:
        budget.cut(f"leakage check {unchecked.rsplit('(', 1)[-1].rstrip(')')}")
    folds = make_folds(s, n_train, len(X), y, X.shape[1], deadline - time.time())
    k = len(classes) if classes else 0
    ctx = Context(s.task, X, y, plan, folds, k, s.seed)
    start = time.perf_counter()
    featurize_folds(ctx)
    width = ctx.features[0].train.shape[1]
    print(
        f"featurization: fitted once per fold ({len(folds)} fold(s), {width} features) "
        f"in {time.perf_counter() - start:.2f} s; trials reuse it",
        flush=True,
    )
    with warnings.catch_warnings():  # the probes' scores already say how well they converged
        warnings.simplefilter("ignore", ConvergenceWarning)
        sample = min(INITIAL_SAMPLE, min(len(t) for t, _ in folds))
        left = deadline - time.time()
        tried = choose_target(ctx, s.metric, sample, left >= PROBE_SHARE * s.timeout_seconds)
    if tried:
        print(tried, flush=True)
    return ctx, classes


if __name__ == "__main__":
    main()
