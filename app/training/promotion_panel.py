"""A finished run against the live model on the run's own validation split, class by class; promote or export it.

Both models are validated by ``grace val`` in a worker process (the same numbers the CLI and docs/results.md use).
Promotion needs that evidence first: the button unlocks once the run's own validation is in. It is never one click:
a dialog shows the Δ overall and per class, and a run that is worse than the live model (or not compared with it)
goes live only with a typed reason (:mod:`app.training.promotion_dialogs`). *Roll back* returns to the model that
was live before the last promotion, after a confirmation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.training.process import ProcessEnd, WorkerProcess
from app.training.promotion_dialogs import PromotionDialog, confirm_rollback
from grace_core.engine.runtimes import EXPORT_FORMATS
from grace_core.errors import GraceError
from grace_core.training.compare import ComparisonRow, PromotionCheck, check_promotion, checkpoint_of, compare
from grace_core.training.runs import RunInfo

COLUMNS = ("class", "boxes", "run AP50", "live AP50", "run AP50-95", "live AP50-95", "Δ AP50-95")
COMPARE_FOLDER = "compare"  # in the run folder: candidate.json, live.json, live_model.txt (what live.json scored)
COMPARED_WITH = "live_model.txt"


@dataclass(frozen=True)
class PromotionRequest:
    """A promotion the engineer confirmed: the evidence, the rule's verdict and the override reason (if needed)."""

    run: RunInfo
    model_file: str
    previous_model: str
    rows: tuple[ComparisonRow, ...]
    check: PromotionCheck
    reason: str | None


def promoted_file(run: RunInfo) -> Path | None:
    """What "make live" installs: the run's ONNX export when there is one (fastest on CPU), else its best.pt."""
    if run.best is None:
        return None
    onnx = run.best.with_suffix(".onnx")
    return onnx if onnx.is_file() else run.best


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


class PromotionPanel(QWidget):
    promote_requested = Signal(object)  # PromotionRequest, confirmed in its dialog
    rollback_requested = Signal(str)  # the previous live model, confirmed
    log_line = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate_label = QLabel("No finished run selected.", wordWrap=True)
        self.live_label = QLabel(wordWrap=True)
        self.compare_button = QPushButton("Compare with the live model", clicked=self.compare)
        self.promote_button = QPushButton("Make it the live model…", clicked=self._promote)
        self.rollback_button = QPushButton("Roll back to the previous model…", clicked=self._rollback)
        self.export_format = QComboBox()
        self.export_format.addItems(EXPORT_FORMATS)
        self.export_button = QPushButton("Export", clicked=self.export)
        self.status = QLabel(wordWrap=True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        buttons = QHBoxLayout()
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.promote_button)
        buttons.addWidget(self.rollback_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Export to"))
        buttons.addWidget(self.export_format)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.candidate_label)
        layout.addWidget(self.live_label)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        self.process = WorkerProcess(self)
        self.process.log_line.connect(self.log_line)
        self.process.ended.connect(self._on_ended)
        self.run: RunInfo | None = None
        self.live_model = "shipped"
        self.previous_model = ""  # live before the last promotion: what Roll back returns to
        self.rows: list[ComparisonRow] = []
        self.compared_with: str | None = None  # the live model the shown comparison scored (None: not recorded)
        self._queue: list[tuple[str, list[str]]] = []
        self._step = ""
        self._output: list[str] = []
        self.process.log_line.connect(self._output.append)
        self._update()

    # -- inputs ---------------------------------------------------------------------------------------------------

    def set_candidate(self, run: RunInfo | None) -> None:
        if self.process.running:
            return
        self.run, self.rows, self.compared_with = run, [], None
        self.table.setRowCount(0)
        self.status.clear()
        if run is None:
            self.candidate_label.setText("No finished run selected.")
        elif run.best is None:
            self.candidate_label.setText(f"Run {run.name} ({run.status}) has no best.pt yet.")
        else:
            self.candidate_label.setText(f"Run <b>{run.name}</b> ({run.status}): {run.best}")
            saved = self._saved_comparison()
            if saved is not None:
                self._show(*saved)
        self._update()

    def set_live_model(self, spec: str) -> None:
        self.live_model = spec
        self.live_label.setText(f"Live model now: {spec}")
        self._update()

    def set_previous_model(self, spec: str) -> None:
        self.previous_model = spec
        self._update()

    # -- actions --------------------------------------------------------------------------------------------------

    def compare(self) -> None:
        run = self.run
        if run is None or run.best is None or self.process.running:
            return
        folder = run.folder / COMPARE_FOLDER
        folder.mkdir(exist_ok=True)
        base = ["--data", str(run.job.get("data", "")), "--imgsz", str(run.job.get("imgsz", 640))]
        base += ["--device", str(run.job.get("device", "cpu"))]
        self._queue = [("your run", ["val", "--model", str(run.best), *base, "--json", str(folder / "candidate.json")])]
        (folder / "live.json").unlink(missing_ok=True)
        (folder / COMPARED_WITH).write_text(self.live_model, encoding="utf-8")
        try:
            live = checkpoint_of(self.live_model)
            live_args = ["val", "--model", str(live), *base, "--json", str(folder / "live.json")]
            self._queue.append(("the live model", live_args))
        except GraceError as error:
            self.log_line.emit(f"live model not compared: {error}")
        self._next()

    def export(self) -> None:
        if self.run is None or self.run.best is None or self.process.running:
            return
        fmt = self.export_format.currentText()
        self._queue = [(f"{fmt} export", ["export", "--model", str(self.run.best), "--format", fmt])]
        self._next()

    def shutdown(self) -> None:
        self._queue.clear()
        self.process.shutdown(grace_ms=0)

    def _promote(self) -> None:
        """Confirm in the dialog (Δ shown; a typed reason when the run is worse), then ask the tab to promote."""
        run = self.run
        target = promoted_file(run) if run is not None else None
        if run is None or target is None or not self.rows:
            return
        check = check_promotion(self.rows, self.compared_with, self.live_model)
        dialog = PromotionDialog(run.name, str(target), self.live_model, self.rows, check, self)
        accepted = dialog.exec() == PromotionDialog.DialogCode.Accepted
        reason = dialog.reason()
        dialog.deleteLater()
        if not accepted:
            self.log_line.emit(f"promotion of {target} cancelled")
            return
        request = PromotionRequest(run, str(target), self.live_model, tuple(self.rows), check, reason)
        self.promote_requested.emit(request)

    def _rollback(self) -> None:
        previous = self.previous_model
        if previous and previous != self.live_model and confirm_rollback(self, self.live_model, previous):
            self.rollback_requested.emit(previous)

    # -- the worker queue -----------------------------------------------------------------------------------------

    def _next(self) -> None:
        if not self._queue:
            self._step = ""
            self._update()
            return
        self._step, args = self._queue.pop(0)
        self._output.clear()
        self.status.setText(f"validating {self._step}…" if args[0] == "val" else f"running the {self._step}…")
        self.log_line.emit("$ grace " + " ".join(args))
        self.process.start(args)
        self._update()

    def _on_ended(self, end: ProcessEnd) -> None:
        step, output = self._step, list(self._output)
        saved = self._saved_comparison()
        if saved is not None:
            self._show(*saved)
        if end.exit_code != 0:
            self._queue.clear()
            errors = [line for line in end.stderr_tail if line.startswith("error")]
            detail = errors[-1].removeprefix("error: ") if errors and not end.crashed else end.message
            self.status.setText(f"{self.status.text()}\n{step} failed: {detail}".strip())
            self._step = ""
            self._update()
            return
        if step.endswith("export") and output:
            self.status.setText(f"exported: {output[-1]}")
        self._next()

    def _saved_comparison(self) -> tuple[dict, dict] | None:
        if self.run is None:
            return None
        folder = self.run.folder / COMPARE_FOLDER
        try:
            candidate = json.loads((folder / "candidate.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        try:
            live = json.loads((folder / "live.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            live = {}
        try:
            self.compared_with = (folder / COMPARED_WITH).read_text(encoding="utf-8").strip() or None
        except OSError:
            self.compared_with = None  # a comparison from before this was recorded
        return candidate, live

    def _show(self, candidate: dict, live: dict) -> None:
        self.rows = compare(candidate, live)
        self.table.setRowCount(len(self.rows))
        for row, entry in enumerate(self.rows):
            delta = entry.delta_ap50_95
            cells = [
                entry.name,
                str(entry.instances),
                _cell(entry.candidate_ap50),
                _cell(entry.live_ap50),
                _cell(entry.candidate_ap50_95),
                _cell(entry.live_ap50_95),
                "–" if delta is None else f"{100 * delta:+.2f}",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 6 and delta is not None:
                    item.setForeground(QColor("#1b7f3b" if delta >= 0 else "#b00020"))
                self.table.setItem(row, column, item)
        split = f"{candidate.get('images', '?')} validation images of {self.run.job.get('data') if self.run else '?'}"
        self.status.setText(f"AP in % on {split}" + ("" if live else " (the live model was not validated)"))

    def _update(self) -> None:
        busy = self.process.running or bool(self._step)
        has_best = self.run is not None and self.run.best is not None
        self.compare_button.setEnabled(has_best and not busy)
        self.export_button.setEnabled(has_best and not busy)
        self.promote_button.setEnabled(has_best and not busy and bool(self.rows))
        target = promoted_file(self.run) if self.run is not None else None
        self.promote_button.setToolTip(f"makes {target} the live model, after a confirmation" if target else "")
        can_roll_back = bool(self.previous_model) and self.previous_model != self.live_model
        self.rollback_button.setEnabled(can_roll_back and not busy)
        self.rollback_button.setToolTip(
            f"puts {self.previous_model} back live" if can_roll_back else "no promotion to roll back"
        )
