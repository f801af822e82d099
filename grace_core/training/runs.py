"""Past training runs in a project folder: their settings, how they ended, final metrics, checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grace_core.training.history import TrainingHistory, history_from_file
from grace_core.training.job import JOB_FILE
from grace_core.training.run import EVENTS_FILE


@dataclass(frozen=True)
class RunInfo:
    folder: Path
    job: dict
    status: str  # completed | cancelled | failed | interrupted (no end recorded) | running
    epochs_done: int
    final_metrics: dict[str, float] = field(default_factory=dict)
    best: Path | None = None
    last: Path | None = None
    modified: float = 0.0
    last_error: str | None = None

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def resumable(self) -> bool:
        """A run that stopped early with a ``last.pt`` to go on from."""
        return self.status in ("cancelled", "failed", "interrupted") and self.last is not None

    def history(self) -> TrainingHistory:
        events = self.folder / EVENTS_FILE
        return history_from_file(events) if events.is_file() else TrainingHistory(job=dict(self.job))


def load_run(folder: str | Path, running: bool = False) -> RunInfo | None:
    """The run in ``folder`` (None if it is not a run: no ``grace_job.json``). ``running``: the app knows it is live."""
    folder = Path(folder)
    try:
        job = json.loads((folder / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    history = history_from_file(folder / EVENTS_FILE) if (folder / EVENTS_FILE).is_file() else TrainingHistory()
    best, last = folder / "weights" / "best.pt", folder / "weights" / "last.pt"
    status = "running" if running else history.status if history.finished else "interrupted"
    files = [p for p in (folder / EVENTS_FILE, folder / JOB_FILE, last) if p.exists()]
    return RunInfo(
        folder=folder,
        job=job if isinstance(job, dict) else {},
        status=status,
        epochs_done=len(history.epochs),
        final_metrics=history.final_metrics or _last_epoch_metrics(history),
        best=best if best.is_file() else None,
        last=last if last.is_file() else None,
        modified=max(p.stat().st_mtime for p in files),
        last_error=history.last_error,
    )


def _last_epoch_metrics(history: TrainingHistory) -> dict[str, float]:
    return {name: values[-1] for name, values in history.metrics.items() if values and values[-1] is not None}


def list_runs(project: str | Path, running: Path | None = None) -> list[RunInfo]:
    """The runs directly inside ``project``, newest first. ``running`` is the folder of the run now in progress."""
    project = Path(project)
    if not project.is_dir():
        return []
    runs = []
    for folder in project.iterdir():
        if folder.is_dir():
            run = load_run(folder, running=running is not None and folder.resolve() == Path(running).resolve())
            if run is not None:
                runs.append(run)
    return sorted(runs, key=lambda run: run.modified, reverse=True)
