"""What a training run has reported so far, folded from its protocol events: curves, class weights, progress.

The app's training tab feeds live events into a :class:`TrainingHistory`; a finished run's curves are rebuilt the same
way from the ``events.jsonl`` in its folder (:func:`history_from_file`). No Qt, no numpy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grace_core.training.protocol import Event, EventDecoder

METRICS_SHOWN = ("mAP50", "mAP50-95", "precision", "recall")


@dataclass
class Progress:
    epoch: int = 0  # 1-based epoch in progress (or last finished)
    epochs: int = 0
    batch: int = 0
    batches: int = 0
    eta_s: float | None = None

    @property
    def fraction(self) -> float:
        """Share of the whole run done, from epochs and batches (0 before the first batch)."""
        if self.epochs <= 0:
            return 0.0
        within = self.batch / self.batches if self.batches else 0.0
        return min(1.0, (max(self.epoch, 1) - 1 + within) / self.epochs)


@dataclass
class TrainingHistory:
    """Curves indexed by epoch (x = epoch number); ``batch_losses`` has x = fractional epoch for a finer line."""

    epochs: list[int] = field(default_factory=list)
    losses: dict[str, list[float | None]] = field(default_factory=dict)
    metrics: dict[str, list[float | None]] = field(default_factory=dict)
    batch_losses: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    class_weights: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    sampler_warmup: list[int] = field(default_factory=list)  # epochs DS-CBSM++ reported as warm-up (uniform sampling)
    progress: Progress = field(default_factory=Progress)
    job: dict = field(default_factory=dict)
    phase: str = ""
    phase_message: str = ""
    status: str = "running"  # running | completed | cancelled | failed
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    last_checkpoint: str | None = None
    best_checkpoint: str | None = None
    save_dir: str | None = None
    final_metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def update(self, event: Event) -> str:
        """Fold one event in; returns its type (unknown types are ignored, as the protocol asks)."""
        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event.data)
        return event.type

    def extend(self, events: Iterable[Event]) -> TrainingHistory:
        for event in events:
            self.update(event)
        return self

    @property
    def last_error(self) -> str | None:
        return self.errors[-1] if self.errors else None

    @property
    def finished(self) -> bool:
        return self.status != "running"

    # -- one handler per event type -------------------------------------------------------------------------------

    def _on_hello(self, data: dict) -> None:
        if isinstance(data.get("job"), dict) and not self.job:
            self.job = data["job"]

    def _on_phase(self, data: dict) -> None:
        self.phase = str(data.get("name", ""))
        self.phase_message = str(data.get("message") or "")

    def _on_batch(self, data: dict) -> None:
        self._set_progress(data)
        self.progress.batch = _int(data.get("batch"))
        self.progress.batches = _int(data.get("batches"))
        if self.progress.batches:
            x = self.progress.epoch - 1 + self.progress.batch / self.progress.batches
            for name, value in _floats(data.get("losses")).items():
                self.batch_losses.setdefault(name, []).append((x, value))

    def _on_epoch(self, data: dict) -> None:
        self._set_progress(data)
        epoch = _int(data.get("epoch"))
        if epoch in self.epochs:  # a resumed run repeats the epoch it was interrupted in: keep the newer report
            index = self.epochs.index(epoch)
            del self.epochs[index:]
            for series in (*self.losses.values(), *self.metrics.values()):
                del series[index:]
            for name, points in self.class_weights.items():
                self.class_weights[name] = [(e, w) for e, w in points if e < epoch]
            self.sampler_warmup = [e for e in self.sampler_warmup if e < epoch]
        self.epochs.append(epoch)
        _append_aligned(self.losses, _floats(data.get("losses")), len(self.epochs))
        _append_aligned(self.metrics, _floats(data.get("metrics")), len(self.epochs))
        sampler = data.get("sampler")
        if isinstance(sampler, dict):
            for name, weight in _floats(sampler.get("class_weights")).items():
                self.class_weights.setdefault(name, []).append((epoch, weight))
            if sampler.get("active") is False:  # weights measured, but sampling stayed uniform
                self.sampler_warmup.append(epoch)

    def _on_checkpoint(self, data: dict) -> None:
        if data.get("kind") == "best":
            self.best_checkpoint = str(data.get("path"))
        elif data.get("kind") == "last":
            self.last_checkpoint = str(data.get("path"))

    def _on_warning(self, data: dict) -> None:
        self.warnings.append(str(data.get("message", "")))

    def _on_error(self, data: dict) -> None:
        self.errors.append(str(data.get("message", "")))

    def _on_done(self, data: dict) -> None:
        self.status = str(data.get("status") or "completed")
        self.save_dir = data.get("save_dir") or self.save_dir
        self.best_checkpoint = data.get("best") or self.best_checkpoint
        self.last_checkpoint = data.get("last") or self.last_checkpoint
        self.final_metrics = _floats(data.get("metrics"))
        self.seconds = float(data.get("seconds") or 0.0)
        if self.status == "completed":
            self.progress.eta_s = 0.0

    def _set_progress(self, data: dict) -> None:
        self.progress.epoch = _int(data.get("epoch"))
        self.progress.epochs = _int(data.get("epochs"))
        eta = data.get("eta_s")
        self.progress.eta_s = float(eta) if isinstance(eta, (int, float)) else None


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _floats(values: object) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _append_aligned(series: dict[str, list[float | None]], values: dict[str, float], length: int) -> None:
    """Append this epoch's values; a name seen for the first time is padded with None for the earlier epochs."""
    for name in values.keys() | series.keys():
        column = series.setdefault(name, [None] * (length - 1))
        column.append(values.get(name))


def read_events(path: str | Path) -> list[Event]:
    """The protocol events of a JSON-lines file (other lines are skipped)."""
    decoder = EventDecoder()
    items = decoder.feed(Path(path).read_bytes()) + decoder.close()
    return [item for item in items if isinstance(item, Event)]


def history_from_file(path: str | Path) -> TrainingHistory:
    """A run's history from its events file; a run whose log has no ``done`` stays ``running`` (see runs.py)."""
    return TrainingHistory().extend(read_events(path))
