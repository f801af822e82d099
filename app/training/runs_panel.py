"""Past runs: settings, how each ended, final metrics; open one to see its curves, resume one that stopped early."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from grace_core.training.runs import RunInfo, list_runs

COLUMNS = ("run", "model", "sampler", "epochs", "imgsz", "seed", "status", "mAP50", "mAP50-95", "changed")


def run_row(run: RunInfo) -> list[str]:
    job = run.job
    metrics = run.final_metrics

    def percent(name: str) -> str:
        return f"{100 * metrics[name]:.2f}" if name in metrics else "–"

    return [
        run.name,
        str(job.get("model", "?")),
        str(job.get("sampler", "?")),
        f"{run.epochs_done}/{job.get('epochs', '?')}",
        str(job.get("imgsz", "?")),
        str(job.get("seed", "?")),
        run.status,
        percent("mAP50"),
        percent("mAP50-95"),
        time.strftime("%Y-%m-%d %H:%M", time.localtime(run.modified)),
    ]


class RunsPanel(QWidget):
    open_requested = Signal(object)  # RunInfo
    resume_requested = Signal(object)  # RunInfo

    def __init__(self, project: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.cellDoubleClicked.connect(lambda *_: self._open())
        self.refresh_button = QPushButton("Refresh", clicked=lambda: self.refresh())
        self.open_button = QPushButton("Show curves", clicked=self._open)
        self.resume_button = QPushButton("Resume", clicked=self._resume)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.resume_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.runs: list[RunInfo] = []
        self.running_folder: Path | None = None
        self._update_buttons()

    def refresh(self, running: Path | None = None) -> None:
        """Re-read the project folder; ``running`` marks the run in progress (None: keep what was set)."""
        if running is not None:
            self.running_folder = running
        selected = self.selected()
        self.runs = list_runs(self.project, running=self.running_folder)
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            for column, text in enumerate(run_row(run)):
                item = QTableWidgetItem(text)
                if column == 0:
                    item.setToolTip(str(run.folder) + (f"\nlast error: {run.last_error}" if run.last_error else ""))
                if COLUMNS[column] in ("mAP50", "mAP50-95", "epochs", "imgsz", "seed"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            if selected is not None and run.folder == selected.folder:
                self.table.selectRow(row)
        self._update_buttons()

    def set_running(self, folder: Path | None) -> None:
        self.running_folder = folder
        self.refresh()

    def selected(self) -> RunInfo | None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return self.runs[min(rows)] if rows and min(rows) < len(self.runs) else None

    def select(self, folder: Path) -> bool:
        for row, run in enumerate(self.runs):
            if run.folder.resolve() == Path(folder).resolve():
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        run = self.selected()
        self.open_button.setEnabled(run is not None)
        self.resume_button.setEnabled(run is not None and run.resumable and self.running_folder is None)

    def _open(self) -> None:
        run = self.selected()
        if run is not None:
            self.open_requested.emit(run)

    def _resume(self) -> None:
        run = self.selected()
        if run is not None and run.resumable:
            self.resume_requested.emit(run)
