"""The main window: tabs (live inspection first), status bar, drag-and-drop of sources, settings kept on close."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget

from app.live.live_tab import LiveTab
from app.review.review_tab import ReviewTab
from app.settings import (
    LiveSettings,
    TrainingSettings,
    load_layout,
    load_training_settings,
    load_window,
    save_layout,
    save_live_settings,
    save_window,
)
from app.training.training_tab import TrainingTab
from grace_core import __version__


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: LiveSettings,
        store_root: Path | None = None,
        training: TrainingSettings | None = None,
        runs_root: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"GRACE Inspect {__version__} — steel surface inspection")
        self.setAcceptDrops(True)
        self.settings = settings
        self.tabs = QTabWidget()
        self.live = LiveTab(settings, store_root)
        self.tabs.addTab(self.live, "Live")
        self.review = ReviewTab(self.live.store_root)
        self.tabs.addTab(self.review, "Review")
        self.training = TrainingTab(training or load_training_settings(), runs_root, self.live.store_root)
        self.tabs.addTab(self.training, "Training")
        self.review.dataset_exported.connect(self._train_on)
        self.training.set_live_model(settings.model)
        self.training.model_promoted.connect(self.live.use_model)
        self.live.model_rejected.connect(self.training.model_rejected)  # a promoted file that did not load
        self.live.settings_changed.connect(lambda: self.training.set_live_model(self.settings.model))
        self.setCentralWidget(self.tabs)
        self.flagged = QLabel("Flagged: 0")
        self.statusBar().addPermanentWidget(self.flagged)
        self.live.flagged_count.connect(lambda n: self.flagged.setText(f"Flagged: {n}"))
        self._save_timer = QTimer(self, singleShot=True, interval=1000, timeout=self.save_settings)
        self.live.settings_changed.connect(self._save_timer.start)  # debounced: sliders emit many changes
        geometry, state = load_window()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if state is not None:
            self.restoreState(state)
        for name, splitter in self._splitters().items():
            saved = load_layout(name)
            if saved is not None:
                splitter.restoreState(saved)
        self._shut_down = False

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(index) for index in range(self.tabs.count())]

    def _splitters(self) -> dict:
        return {
            "live_main": self.live.main_splitter,
            "live_picture": self.live.picture_splitter,
            "review_main": self.review.splitter,
            "training_main": self.training.main_splitter,
            "training_right": self.training.right_splitter,
        }

    def save_settings(self) -> None:
        save_live_settings(self.settings)
        save_window(self.saveGeometry(), self.saveState())
        for name, splitter in self._splitters().items():
            save_layout(name, splitter.saveState())

    def shutdown(self) -> None:
        """Stop workers, release the camera, save settings. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._save_timer.stop()
        self.live.shutdown()
        self.review.shutdown()
        self.training.shutdown()
        self.save_settings()

    def _train_on(self, data_yaml: str) -> None:
        """An exported review dataset goes straight to the training tab."""
        self.training.dataset.set_dataset(data_yaml)
        self.tabs.setCurrentWidget(self.training)

    def confirm_stop_training(self) -> bool:
        """Ask before closing on a running training: closing stops it (it can be resumed from last.pt)."""
        answer = QMessageBox.question(
            self,
            "Training in progress",
            "A training run is in progress. Closing stops it after the current batch and saves last.pt "
            "(you can resume it later).\n\nStop training and close?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shut_down and self.training.running and not self.confirm_stop_training():
            event.ignore()
            return
        self.shutdown()
        super().closeEvent(event)

    # -- drag and drop: a video file or an image folder becomes the source ----------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.tabs.setCurrentWidget(self.live)
            self.live.open_source(str(path))


def dropped_path(mime) -> Path | None:
    """The one local file or folder in a drop, else None."""
    urls = [url for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []
    if len(urls) != 1:
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.exists() else None
