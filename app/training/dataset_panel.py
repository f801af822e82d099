"""Dataset: open a YOLO data.yaml or import NEU-DET / GC10-DET / VOC / YOLO folders, then show what is in it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.review.folders import datasets_dir, documents_dir
from app.workers.progress_job import ProgressJob
from grace_core.paths import free_path, user_data_dir

IMPORT_FORMATS = {"neu-det": "NEU-DET", "gc10-det": "GC10-DET", "voc": "VOC folders", "yolo": "YOLO folders"}


def inspect_dataset(data: str) -> tuple[str, str]:
    """``(data.yaml path, stats text)`` of a trainable dataset, or a :class:`GraceError` saying what is wrong."""
    from grace_core.data.stats import dataset_stats
    from grace_core.data.stats_report import format_stats
    from grace_core.training.job import check_dataset

    path = check_dataset(data)
    return str(path), format_stats(dataset_stats(path))


def import_into(fmt: str, source: str, out: str, progress) -> str:
    """Import ``source`` as a new YOLO dataset at ``out`` (80/20 split, seed 0: recorded in its report); returns its
    data.yaml."""
    from grace_core.data.importer import import_dataset

    report = import_dataset(fmt, source, out, split=(0.8, 0.2), seed=0, progress=progress)
    return str(Path(report.output) / "data.yaml")


class DatasetPanel(QGroupBox):
    dataset_ready = Signal(str)  # data.yaml of a dataset that checked out
    dataset_invalid = Signal(str)  # the message
    progress_changed = Signal(int, int)  # done, total (importing)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent)
        self.path = QLineEdit(placeholderText="data.yaml of a YOLO dataset")
        self.path.editingFinished.connect(lambda: self.set_dataset(self.path.text()))
        self.open_button = QPushButton("Open…", clicked=self._ask_data_yaml)
        self.format = QComboBox()
        for key, label in IMPORT_FORMATS.items():
            self.format.addItem(label, key)
        self.import_button = QPushButton("Import folder…", clicked=self._ask_import)
        self.progress = QProgressBar(visible=False)
        self.error = QLabel(wordWrap=True, visible=False)
        self.error.setStyleSheet("color: #b00020;")
        self.stats = QPlainTextEdit(readOnly=True)
        self.stats.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.stats.setPlaceholderText("class counts, imbalance and box sizes appear here")
        self.stats.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.stats.setMinimumHeight(140)

        top = QHBoxLayout()
        top.addWidget(self.path, 1)
        top.addWidget(self.open_button)
        importing = QHBoxLayout()
        importing.addWidget(QLabel("Import"))
        importing.addWidget(self.format, 1)
        importing.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(importing)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.stats, 1)
        self._jobs: list[ProgressJob] = []
        self.valid_path: str | None = None

    @property
    def busy(self) -> bool:
        return any(job.running for job in self._jobs)

    def set_format(self, fmt: str) -> None:
        index = self.format.findData(fmt)
        if index >= 0:
            self.format.setCurrentIndex(index)

    def set_dataset(self, data: str) -> None:
        """Check and count ``data`` in the background; ``dataset_ready`` or ``dataset_invalid`` follows."""
        data = data.strip()
        self.path.setText(data)
        self.valid_path = None
        if not data:
            self._fail("choose a dataset: open its data.yaml, or import a folder")
            return
        self.stats.setPlainText("checking the dataset…")
        self.error.setVisible(False)
        self._run(lambda progress: inspect_dataset(data), "dataset-stats", self._show_stats)

    def import_folder(self, fmt: str, source: str, out: str | None = None) -> None:
        """Import ``source`` (format ``fmt``) into ``out`` (default: a new folder in the user's data folder)."""
        target = out or str(free_path(user_data_dir() / "datasets", Path(source).name or fmt))
        self.set_format(fmt)
        self.error.setVisible(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat(f"importing {source}… %p%")
        self.progress.setVisible(True)
        self.stats.setPlainText(f"importing {source} into {target}…")
        self._run(lambda progress: import_into(fmt, source, target, progress), "dataset-import", self.set_dataset)

    def _run(self, work, name: str, on_done) -> None:
        job = ProgressJob(work, name, self)
        job.progress.connect(self._on_progress)
        job.done.connect(on_done)
        job.failed.connect(self._fail)
        job.done.connect(lambda *_: self._forget(job))
        job.failed.connect(lambda *_: self._forget(job))
        self._jobs.append(job)
        self._set_enabled(False)
        job.start()

    def _forget(self, job: ProgressJob) -> None:
        job.join(5.0)
        if job in self._jobs:
            self._jobs.remove(job)
        self._set_enabled(not self.busy)
        if not self.busy:
            self.progress.setVisible(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.path, self.open_button, self.import_button, self.format):
            widget.setEnabled(enabled)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress_changed.emit(done, total)

    def _show_stats(self, result: tuple[str, str]) -> None:
        path, text = result
        self.path.setText(path)
        self.stats.setPlainText(text)
        self.valid_path = path
        self.dataset_ready.emit(path)

    def _fail(self, message: str) -> None:
        self.stats.setPlainText("")
        self.error.setText(message)
        self.error.setVisible(True)
        self.valid_path = None
        self.dataset_invalid.emit(message)

    def _ask_data_yaml(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a dataset", datasets_dir(), "Dataset (*.yaml *.yml);;All files (*)"
        )
        if path:
            self.set_dataset(path)

    def _ask_import(self) -> None:
        fmt = str(self.format.currentData())
        source = QFileDialog.getExistingDirectory(self, f"Folder of a {IMPORT_FORMATS[fmt]} dataset", documents_dir())
        if source:
            self.import_folder(fmt, source)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Wait for a running import or count (they cannot be interrupted half-way without leaving a mess)."""
        for job in list(self._jobs):
            job.join(timeout)
