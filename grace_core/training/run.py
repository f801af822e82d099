"""Run one training job: build the trainer, translate its progress into protocol events, cancel cleanly.

Used by ``grace train`` (and so by the app's training subprocess). ``events`` is anything with
``emit(type, **fields)`` and ``batch(**fields)`` — :class:`grace_core.training.protocol.EventWriter`, or a recorder in
tests. ``cancel`` is a ``threading.Event``: once set, training stops after the current batch, ``last.pt`` is saved
(resumable: the optimizer is kept), the unfinished epoch is not validated, and the result says ``cancelled``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grace_core.training.job import JOB_FILE, TrainJob

EVENTS_FILE = "events.jsonl"  # in the run folder: the run's events (no batch events), for reopening its curves


class EventSink(Protocol):
    def emit(self, type: str, **fields) -> None: ...

    def batch(self, **fields) -> bool: ...


class NullSink:
    """Drops every event (plain ``grace train`` without ``--events``)."""

    def emit(self, type: str, **fields) -> None:
        pass

    def batch(self, **fields) -> bool:
        return False


class RunLogSink:
    """Every event but ``batch`` to ``primary`` and, as JSON lines, to the run folder's :data:`EVENTS_FILE`.

    The log is appended to, so a resumed run continues its curves in the same file.
    """

    def __init__(self, primary: EventSink, folder: Path) -> None:
        from grace_core.training.protocol import EventWriter

        self.primary = primary
        self._file = open(Path(folder) / EVENTS_FILE, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._log = EventWriter(self._file)

    def emit(self, type: str, **fields) -> None:
        self.primary.emit(type, **fields)
        self._log.emit(type, **fields)

    def batch(self, **fields) -> bool:
        return self.primary.batch(**fields)

    def log_only(self, type: str, **fields) -> None:
        self._log.emit(type, **fields)

    def close(self) -> None:
        self._file.close()


@dataclass
class RunResult:
    status: str  # completed | cancelled
    save_dir: str
    best: str | None
    last: str | None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


_METRIC_NAMES = {
    "metrics/precision(B)": "precision",
    "metrics/recall(B)": "recall",
    "metrics/mAP50(B)": "mAP50",
    "metrics/mAP50-95(B)": "mAP50-95",
}


def _metrics(raw: dict | None) -> dict[str, float]:
    out = {}
    for key, value in (raw or {}).items():
        if key in _METRIC_NAMES or key.startswith("val/"):
            out[_METRIC_NAMES.get(key, key)] = float(value)
    return out


class EventBridge:
    """ultralytics callbacks → protocol events, and the cancel flag → ``trainer.stop`` between batches."""

    def __init__(self, trainer, events: EventSink, cancel: threading.Event) -> None:
        self.trainer, self.events, self.cancel = trainer, events, cancel
        self.batch_index = 0
        self.epoch_started = time.monotonic()
        self.epoch_seconds: list[float] = []
        self.final_metrics: dict[str, float] = {}
        for event, handler in (
            ("on_train_start", self.on_train_start),
            ("on_train_epoch_start", self.on_epoch_start),
            ("on_train_batch_end", self.on_batch_end),
            ("on_train_epoch_end", self.on_train_epoch_end),
            ("on_fit_epoch_end", self.on_fit_epoch_end),
            ("on_model_save", self.on_model_save),
            ("on_final_eval_start", self.on_final_eval_start),
        ):
            trainer.add_callback(event, handler)

    def _eta(self, within_epoch: float = 0.0) -> float | None:
        if not self.epoch_seconds:
            return None
        remaining = self.trainer.epochs - (self.trainer.epoch + 1)
        return max(0.0, within_epoch) + remaining * sum(self.epoch_seconds) / len(self.epoch_seconds)

    def on_train_start(self, trainer) -> None:
        plan = getattr(trainer, "cpu_plan", None)
        how = f"; {plan.describe()}" if plan is not None else ""
        self.events.emit(
            "phase", name="train", message=f"{trainer.epochs} epochs from epoch {trainer.start_epoch + 1}{how}"
        )

    def on_epoch_start(self, trainer) -> None:
        self.batch_index = 0
        self.epoch_started = time.monotonic()

    def on_batch_end(self, trainer) -> None:
        self.batch_index += 1
        batches = len(trainer.train_loader)
        elapsed = time.monotonic() - self.epoch_started
        per_batch = elapsed / self.batch_index
        self.events.batch(
            epoch=trainer.epoch + 1,
            epochs=trainer.epochs,
            batch=self.batch_index,
            batches=batches,
            losses={k: float(v) for k, v in (trainer.tloss or {}).items()},
            lr=float(trainer.optimizer.param_groups[0]["lr"]),
            eta_s=self._eta(per_batch * (batches - self.batch_index)) if self.epoch_seconds else None,
        )
        if self.cancel.is_set() and not trainer.cancelled:
            trainer.cancelled = True
            trainer.stop = True
            reason = getattr(self.cancel, "reason", "") or "cancel requested"
            self.events.emit("warning", message=f"{reason}: stopping after the current batch")
            self.events.emit("phase", name="cancel", message="stopping after this batch; saving last.pt")

    def on_train_epoch_end(self, trainer) -> None:
        if not trainer.cancelled:
            self.events.emit("phase", name="val", message=f"validating epoch {trainer.epoch + 1}")

    def on_fit_epoch_end(self, trainer) -> None:
        if trainer.epoch >= trainer.epochs or getattr(trainer, "_final_eval_running", False):
            self.final_metrics = _metrics(trainer.metrics)  # final_eval re-fires this callback for best.pt
            return
        self.epoch_seconds.append(time.monotonic() - self.epoch_started)
        report = trainer.latest_dscbsm_report
        self.events.emit(
            "epoch",
            epoch=trainer.epoch + 1,
            epochs=trainer.epochs,
            losses={k: float(v) for k, v in (trainer.tloss or {}).items()},
            metrics={} if trainer.cancelled else _metrics(trainer.metrics),
            seconds=round(self.epoch_seconds[-1], 3),
            eta_s=self._eta(),
            sampler=report.to_dict() if report is not None and report.epoch == trainer.epoch + 1 else None,
        )

    def on_final_eval_start(self, trainer) -> None:
        self.events.emit("phase", name="final_val", message="validating best.pt")

    def on_model_save(self, trainer) -> None:
        self.events.emit("checkpoint", path=str(trainer.last), kind="last", epoch=trainer.epoch + 1)
        if trainer.fitness is not None and trainer.best_fitness == trainer.fitness and Path(trainer.best).exists():
            self.events.emit("checkpoint", path=str(trainer.best), kind="best", epoch=trainer.epoch + 1)


def _overrides(job: TrainJob) -> dict:
    if job.resume:
        return {"resume": str(job.resume), "model": str(job.resume)}
    overrides = dict(
        model=str(job.model),
        data=str(job.data),
        epochs=job.epochs,
        imgsz=job.imgsz,
        batch=job.batch,
        device=job.device,
        seed=job.seed,
        workers=job.workers,
        patience=job.patience,
        project=str(job.project),
        name=job.run_name(),
        exist_ok=False,
        pretrained=str(job.weights) if job.weights else False,
        verbose=True,
    )
    if job.hours:
        overrides["time"] = job.hours
    overrides.update(job.extra)
    return overrides


def run_training(job: TrainJob, events: EventSink | None = None, cancel: threading.Event | None = None) -> RunResult:
    """Train ``job``; raises :class:`GraceError` for bad input before training starts."""
    job.check()
    events = events or NullSink()
    cancel = cancel or threading.Event()
    if job.resume:  # the sampler settings live with the run, not in ultralytics' checkpoint args
        saved = Path(job.resume).resolve().parent.parent / JOB_FILE
        if saved.is_file():  # threads belong to the machine that resumes, not to the run
            job = TrainJob(
                **{**TrainJob.load(saved).to_dict(), "resume": job.resume, "threads": job.threads, "trust": job.trust}
            )

    from grace_core.training.dscbsm import DSCBSMConfig
    from grace_core.training.trainer import GraceTrainer

    started = time.monotonic()
    events.emit("phase", name="setup", message="checking the dataset and building the model")
    trainer = GraceTrainer(
        overrides=_overrides(job),
        sampler=job.sampler,
        dscbsm_config=DSCBSMConfig(
            warmup_epochs=job.dscbsm_warmup,
            loss_weighting=job.dscbsm_loss_weighting,
            signal=job.dscbsm_signal,
            rarity=job.dscbsm_rarity,
            **job.dscbsm_options,
        ),
        precision=job.precision,
        threads=job.threads,
        workers=job.workers,
        trust=job.trust,
    )

    Path(trainer.save_dir).mkdir(parents=True, exist_ok=True)
    job.save(Path(trainer.save_dir))
    log = RunLogSink(events, Path(trainer.save_dir))
    log.log_only("hello", job=job.to_dict())
    bridge = EventBridge(trainer, log, cancel)
    try:
        trainer.train()
    except BaseException as error:  # the caller reports it on its stream; the run's own log must say so too
        log.log_only("error", message=f"{type(error).__name__}: {error}", traceback=None, kind="internal")
        log.log_only("done", status="failed", best=None, last=None, save_dir=str(trainer.save_dir), metrics={})
        log.close()
        raise
    best, last = Path(trainer.best), Path(trainer.last)
    result = RunResult(
        status="cancelled" if trainer.cancelled else "completed",
        save_dir=str(trainer.save_dir),
        best=str(best) if best.exists() else None,
        last=str(last) if last.exists() else None,
        metrics=bridge.final_metrics or _metrics(trainer.metrics),
        seconds=round(time.monotonic() - started, 3),
    )
    log.log_only("done", **dataclasses.asdict(result))
    log.close()
    return result
