"""The training tab: dataset, run settings, a ``grace train`` worker process with live curves, past runs, promotion.

Data flow: the form makes a :class:`TrainJob`; the job's command line runs in a :class:`WorkerProcess`; its protocol
events fold into a :class:`TrainingHistory`, which the curves, progress bar and runs list show. Nothing here trains:
the worker does, so the window stays responsive and a crash in training cannot take the app down.

Promotion: confirmed in the promotion panel's dialog, recorded in the audit log (no record, no promotion), then
handed to the live tab, which loads and checks the file before switching. The tab learns the outcome from the live
model it is told about (``set_live_model``) or from ``model_rejected``; the model that was live before is kept for
*Roll back*.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.settings import TrainingSettings, save_training_settings
from app.training.curves import TrainingCurves
from app.training.dataset_panel import DatasetPanel
from app.training.process import ProcessEnd, WorkerProcess, clean_terminal_text
from app.training.promotion_panel import PromotionPanel, PromotionRequest
from app.training.runs_panel import RunsPanel
from app.training.settings_panel import RunSettingsPanel
from app.wheel_guard import guard_wheel
from app.workers.oneshot import OneShot
from grace_core.devices import torch_devices
from grace_core.paths import free_path
from grace_core.store import audit_events
from grace_core.store.review_store import default_root
from grace_core.training.compare import comparison_details
from grace_core.training.history import TrainingHistory
from grace_core.training.job import TrainJob, default_project
from grace_core.training.protocol import Event
from grace_core.training.runs import RunInfo, load_run

log = logging.getLogger(__name__)

LOG_LINES = 5000
REDRAW_MS = 250  # curves redraw at most this often while batches stream in


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class TrainingTab(QWidget):
    model_promoted = Signal(str)  # the model file now live
    settings_changed = Signal()

    def __init__(
        self,
        settings: TrainingSettings,
        project: Path | None = None,
        store_root: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.project = Path(project or default_project())
        self.store_root = store_root or default_root()
        self.history = TrainingHistory()
        self.run_folder: Path | None = None  # the run being trained (or last trained)
        self.resumable: Path | None = None  # last.pt of a run that stopped early
        self.process = WorkerProcess(self)
        self._cancelling = False  # a stop was asked for: no ETA any more
        self._oneshots: list[OneShot] = []
        self._pending: tuple[str, str, str] | None = None  # (model file, previous model, what) sent to the live tab
        self._build()
        self._connect()
        self.settings_panel.load(settings)
        self.promotion.set_previous_model(settings.previous_live_model)
        self.dataset.set_format(settings.import_format)
        if settings.data:
            self.dataset.set_dataset(settings.data)
        self.runs.refresh()
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_MS, timeout=self._redraw)
        devices = OneShot(torch_devices, "training-devices", self)
        devices.done.connect(self.settings_panel.set_devices)
        self._oneshots.append(devices.start())
        self._update_buttons()

    def _build(self) -> None:
        self.dataset = DatasetPanel()
        self.settings_panel = RunSettingsPanel()
        self.start_button = QPushButton("Start training")
        self.start_button.setStyleSheet("font-weight: bold;")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("stops after the current batch and saves last.pt, so the run can be resumed")
        self.resume_button = QPushButton("Resume")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.cancel_button, self.resume_button):
            buttons.addWidget(button)
        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.addWidget(self.dataset, 1)
        controls_layout.addWidget(self.settings_panel)
        controls_layout.addLayout(buttons)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(controls)
        scroll.setMinimumWidth(380)
        guard_wheel(controls)  # the wheel scrolls the form; it edits only a field the engineer clicked into

        self.banner = Banner()
        self.phase = QLabel("No run yet.")
        self.progress = QProgressBar(minimum=0, maximum=1000, textVisible=True)
        self.progress.setFormat("")
        self.eta = QLabel()
        status_row = QHBoxLayout()
        status_row.addWidget(self.phase, 1)
        status_row.addWidget(self.eta)
        self.curves = TrainingCurves()
        self.log_view = QPlainTextEdit(readOnly=True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # long lines wrap: never sideways
        self.log_view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.runs = RunsPanel(self.project)
        self.promotion = PromotionPanel()
        self.bottom = QTabWidget()
        self.bottom.addTab(self.log_view, "Log")
        self.bottom.addTab(self.runs, "Runs")
        self.bottom.addTab(self.promotion, "Result and promotion")

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.banner)
        top_layout.addLayout(status_row)
        top_layout.addWidget(self.progress)
        top_layout.addWidget(self.curves, 1)
        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(top)
        self.right_splitter.addWidget(self.bottom)
        self.right_splitter.setSizes([520, 300])
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(scroll)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([420, 980])
        layout = QVBoxLayout(self)
        layout.addWidget(self.main_splitter)

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button.clicked.connect(lambda: self.resume(self.resumable) if self.resumable else None)
        self.process.event.connect(self._on_event)
        self.process.log_line.connect(self._append_log)
        self.process.ended.connect(self._on_ended)
        self.dataset.dataset_ready.connect(self._on_dataset_ready)
        self.dataset.dataset_invalid.connect(lambda message: self._update_buttons())
        self.settings_panel.changed.connect(self._store_settings)
        self.runs.open_requested.connect(self.show_run)
        self.runs.resume_requested.connect(lambda run: self.resume(run.last))
        self.promotion.promote_requested.connect(self.promote)
        self.promotion.rollback_requested.connect(self.roll_back)
        self.promotion.log_line.connect(self._append_log)

    # -- public API -------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process.running

    def set_live_model(self, spec: str) -> None:
        """The live tab's model (the last that loaded): a promotion or rollback sent there has now taken effect."""
        self.promotion.set_live_model(spec)
        if self._pending is None or self._pending[0] != spec:
            return
        _, previous, what = self._pending
        self._pending = None
        self._remember_previous(previous if what != "rollback" else "")
        name = Path(spec).name
        done = f"Rolled back: {name} is the live model again." if what == "rollback" else f"{name} is now live."
        self.banner.show_message("info", f"{done} Recorded in the audit log.")
        self._append_log(f"live model is now {spec} (was {previous})")

    def model_rejected(self, spec: str, message: str) -> None:
        """The live tab did not load ``spec``: a promotion or rollback of it did not happen; the live model stays."""
        if self._pending is None or self._pending[0] != spec:
            return
        _, previous, what = self._pending
        self._pending = None
        reason = message.rstrip(".")
        self.banner.show_message(
            "error", f"{Path(spec).name} did not become the live model ({what}): {reason}. {previous} stays live."
        )
        details = {"model": spec, "live_model": previous, "step": what, "error": message}
        self._record(audit_events.MODEL_PROMOTION_FAILED, details)

    def start(self) -> None:
        """Train with the form's settings on the checked dataset."""
        if self.running:
            return
        data = self.dataset.valid_path
        if data is None:
            self.banner.show_message("error", "Choose a dataset that checks out first (open a data.yaml or import).")
            return
        job = self.settings_panel.job(data, str(self.project))
        weights = job.weights
        if weights and not Path(weights).is_file():
            self.banner.show_message("error", f"Pretrained weights not found: {weights}")
            return
        job.name = free_path(self.project, job.run_name()).name  # known now, so the tab can follow its folder
        self._launch(job, self.project / job.name)

    def resume(self, last_pt: Path | str | None) -> None:
        """Continue an interrupted run from its ``weights/last.pt``."""
        if self.running or not last_pt:
            return
        last_pt = Path(last_pt)
        if not last_pt.is_file():
            self.banner.show_message("error", f"Cannot resume: {last_pt} is gone.")
            return
        folder = last_pt.parent.parent
        run = load_run(folder)
        self._launch(TrainJob(resume=str(last_pt), project=str(folder.parent)), folder, run)

    def cancel(self) -> None:
        if self.running:
            self.process.cancel()
            self._cancelling = True
            self.phase.setText("Cancelling: finishing the current batch and saving last.pt…")
            self.eta.clear()
            self.cancel_button.setEnabled(False)

    def show_run(self, run: RunInfo) -> None:
        """Show a past run's curves (not while another run trains: the curves are that run's)."""
        if self.running:
            return
        self.history = run.history()
        self.run_folder = run.folder
        self.curves.clear()
        self.curves.show_history(self.history)
        self.phase.setText(f"Run {run.name}: {run.status}, {run.epochs_done} epochs")
        self.progress.setValue(int(1000 * self.history.progress.fraction))
        self.eta.clear()
        self.resumable = run.last if run.resumable else None
        self.promotion.set_candidate(run)
        self._update_buttons()

    def promote(self, request: PromotionRequest) -> None:
        """Record a confirmed promotion — who, when, which run, both scores, the Δ, the override reason — then hand
        the file to the live tab, which switches to it once it loads."""
        run, model_file = request.run, request.model_file
        if model_file == self.promotion.live_model:
            self.banner.show_message("info", f"{Path(model_file).name} is already the live model.")
            return
        details = {
            "model": model_file,
            "previous_model": request.previous_model,
            "run": str(run.folder),
            "run_name": run.name,
            "job": run.job,
            **comparison_details(list(request.rows), request.check),
            "override_reason": request.reason,
        }
        if not self._record(audit_events.MODEL_PROMOTED, details):
            return  # no record, no promotion: the audit trail must not have holes
        how = f" over a worse comparison ({request.reason})" if request.reason else ""
        self._append_log(f"promoting {model_file} (live: {request.previous_model}){how}")
        self._send_live(model_file, request.previous_model, "promotion")

    def roll_back(self, previous: str) -> None:
        """Put back the model that was live before the last promotion (confirmed in the panel); audited."""
        current = self.promotion.live_model
        if not self._record(audit_events.MODEL_ROLLED_BACK, {"model": previous, "from_model": current}):
            return
        self._append_log(f"rolling back the live model from {current} to {previous}")
        self._send_live(previous, current, "rollback")

    def shutdown(self) -> None:
        """Stop the worker (clean cancel, then terminate and kill) and the helper jobs. Blocks until they are gone."""
        self._redraw_timer.stop()
        if self.process.shutdown():
            log.info("training worker stopped on close")
        self.promotion.shutdown()
        self.dataset.shutdown()
        for job in self._oneshots:
            job.join(5.0)

    # -- the worker -------------------------------------------------------------------------------------------

    def _launch(self, job: TrainJob, folder: Path, previous: RunInfo | None = None) -> None:
        self.banner.clear_message()
        self.history = previous.history() if previous is not None else TrainingHistory(job=job.to_dict())
        self.history.status = "running"
        self.run_folder, self.resumable = folder, None
        self.curves.clear()
        self.curves.show_history(self.history)
        self.log_view.clear()
        self.eta.clear()
        self._cancelling = False
        self.promotion.set_candidate(None)
        # --stop-when-stdin-closes: if this app dies, even killed, the pipe closes and the worker stops too
        command = self.process.start(["train", *job.cli_args(), "--events", "jsonl", "--stop-when-stdin-closes"])
        self._append_log("$ " + " ".join(command))
        self.phase.setText("Starting the training worker…")
        self.runs.set_running(folder)
        self.bottom.setCurrentWidget(self.log_view)
        self._started_at = time.monotonic()
        self._update_buttons()

    def _on_event(self, event: Event) -> None:
        self.history.update(event)
        if event.future:
            self._append_log(
                f"(the trainer speaks protocol v{event.v}; this app knows v1 — some details may be missing)"
            )
        if event.type == "phase":
            self.phase.setText(f"{self.history.phase}: {self.history.phase_message}".rstrip(": "))
        elif event.type in ("batch", "epoch"):
            self._show_progress()
            if event.type == "batch":
                self._redraw_timer.start()  # batches come at up to 2 Hz: redraw once they pause
            else:
                self._redraw()
                self.runs.refresh()
        elif event.type == "warning":
            self._append_log(f"warning: {event.get('message')}")
        elif event.type == "error":
            self.banner.show_message("error", f"Training error: {event.get('message')}")

    def _show_progress(self) -> None:
        p = self.history.progress
        self.progress.setValue(int(1000 * p.fraction))
        batch = f" · batch {p.batch}/{p.batches}" if p.batches else ""
        self.progress.setFormat(f"epoch {p.epoch}/{p.epochs}{batch}")
        if self._cancelling:
            return
        self.eta.setText(f"ETA {format_duration(p.eta_s)}" if p.eta_s is not None else "ETA: after the first epoch")

    def _redraw(self) -> None:
        self.curves.show_history(self.history)

    def _on_ended(self, end: ProcessEnd) -> None:
        self._redraw()
        self.eta.clear()  # however it ended, nothing is left to wait for
        self._cancelling = False
        self.runs.set_running(None)
        folder = self.run_folder
        run = load_run(folder) if folder is not None else None
        if end.status == "completed":
            best = self.history.final_metrics.get("mAP50-95")
            score = f", best mAP50-95 {100 * best:.2f}" if best is not None else ""
            self.phase.setText(f"Completed in {format_duration(self.history.seconds)}{score}.")
            self.banner.clear_message()
            if run is not None:
                self.runs.select(run.folder)
                self.promotion.set_candidate(run)
                self.bottom.setCurrentWidget(self.promotion)
        elif end.status == "cancelled":
            self.phase.setText("Cancelled: last.pt saved; Resume continues the run.")
            self.banner.show_message("info", "Training cancelled. Resume continues from the last saved epoch.")
        else:
            what = "failed" if end.status == "failed" else "stopped unexpectedly (crashed or killed)"
            detail = self.history.last_error if end.status == "failed" and self.history.last_error else end.message
            self.phase.setText(f"Training {what}.")
            can_resume = run is not None and run.last is not None
            hint = " Resume continues from the last saved epoch." if can_resume else ""
            self.banner.show_message("error", f"Training {what}: {detail}.{hint}")
            self._append_log(f"[training {what}: {end.message}]")
        if run is not None and end.status != "completed" and run.last is not None:
            self.resumable = run.last
        self._update_buttons()

    # -- promotion helpers ------------------------------------------------------------------------------------

    def _record(self, action: str, details: dict) -> bool:
        try:
            audit_events.record(self.store_root, action, details)
        except Exception as error:  # any failure to record is said, never swallowed
            self.banner.show_message("error", f"Not done: the audit log could not be written ({error})")
            return False
        return True

    def _send_live(self, model_file: str, previous: str, what: str) -> None:
        self._pending = (model_file, previous, what)
        self.banner.show_message(
            "info",
            f"{Path(model_file).name} goes to the live tab ({what}): it becomes the live model once it loads and "
            f"passes a test prediction; until then {Path(previous).name} stays live.",
        )
        self.model_promoted.emit(model_file)

    def _remember_previous(self, spec: str) -> None:
        self.settings.previous_live_model = spec
        save_training_settings(self.settings)
        self.promotion.set_previous_model(spec)

    # -- small things -----------------------------------------------------------------------------------------

    def _append_log(self, line: str) -> None:
        """Append a line as plain text (terminal colours and progress-bar rewrites from ultralytics removed)."""
        shown = clean_terminal_text(line)
        if shown:
            self.log_view.appendPlainText(shown)

    def _on_dataset_ready(self, path: str) -> None:
        self.settings.data = path
        self._store_settings()
        self._update_buttons()

    def _store_settings(self) -> None:
        self.settings_panel.store(self.settings)
        self.settings.import_format = str(self.dataset.format.currentData())
        save_training_settings(self.settings)
        self.settings_changed.emit()

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(not running and self.dataset.valid_path is not None)
        self.cancel_button.setEnabled(running)
        self.resume_button.setEnabled(not running and self.resumable is not None)
        self.resume_button.setToolTip(f"continue from {self.resumable}" if self.resumable else "")
        self.settings_panel.setEnabled(not running)
        self.dataset.setEnabled(not running)
        self.runs.resume_button.setEnabled(
            not running and bool(self.runs.selected() and self.runs.selected().resumable)
        )
