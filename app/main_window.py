"""The main window: tabs (live inspection first), menus and shortcuts, status bar, drag-and-drop of sources, the
theme, settings kept on close.

Shortcuts are the menus' actions (window-wide): F11 full screen, Ctrl+Q quit, F8 acknowledge the alarm, Ctrl+M
mute it, Ctrl+0 fit the picture. Space (pause / resume) and F5 (start) act on the live tab only and are enabled
only while it is shown, so that Space still presses a focused button on the other tabs; a text field keeps its
Space either way (Qt gives typing precedence over a shortcut).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QTabWidget

from app.about import about_text, open_message, shortcuts_text
from app.live.live_tab import LiveTab
from app.plant.dialog import PlantSettingsDialog
from app.qt_env import allow_large_images
from app.review.review_tab import ReviewTab
from app.settings import (
    LiveSettings,
    PlantSettings,
    TrainingSettings,
    load_layout,
    load_plant_settings,
    load_training_settings,
    load_window,
    save_layout,
    save_live_settings,
    save_plant_settings,
    save_window,
)
from app.theme import apply_theme
from app.training.training_tab import TrainingTab
from grace_core import __version__


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: LiveSettings,
        store_root: Path | str | None = None,
        training: TrainingSettings | None = None,
        runs_root: Path | None = None,
        plant: PlantSettings | None = None,
    ) -> None:
        """``store_root`` (a folder or store URL) overrides the plant settings' review store until other plant
        settings are applied; ``plant`` defaults to the saved ones."""
        super().__init__()
        allow_large_images()  # long strip scans read from files can exceed Qt's 256 MB default
        apply_theme(QApplication.instance(), settings.dark_theme)
        self.setWindowTitle(f"GRACE Inspect {__version__} — steel surface inspection")
        self.setAcceptDrops(True)
        self.settings = settings
        self.plant = plant or load_plant_settings()
        self.tabs = QTabWidget()
        self.live = LiveTab(settings, store_root, plant=self.plant)
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
        self.alarm_label = QLabel()
        self.alarm_label.setStyleSheet("QLabel { background:#d32f2f; color:white; font-weight:bold; padding:0 6px; }")
        self.alarm_label.hide()
        self.statusBar().addPermanentWidget(self.alarm_label)
        self.statusBar().addPermanentWidget(self.flagged)
        self.live.flagged_count.connect(lambda n: self.flagged.setText(f"Flagged: {n}"))
        self.live.alarm.changed.connect(self._show_alarm)
        self._build_menus()
        self.tabs.currentChanged.connect(self._update_actions)
        self.live.controls_changed.connect(self._update_actions)
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

    # -- menus and shortcuts --------------------------------------------------------------------------------------

    def _action(self, menu, text: str, slot, keys: str | None = None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        menu.addAction(action)
        self.addAction(action)  # works in full screen too, where a hidden menu bar would not take shortcuts
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.quit_action = self._action(file_menu, "&Quit", self.close, "Ctrl+Q")
        live = self.live
        inspect = bar.addMenu("&Inspection")
        self.start_action = self._action(inspect, "&Start / restart", live.start, "F5")
        self.pause_action = self._action(inspect, "&Pause / resume", live.pause_button.click, "Space")
        self.stop_action = self._action(inspect, "S&top", live.stop)
        inspect.addSeparator()
        self.ack_action = self._action(inspect, "&Acknowledge alarm", live.acknowledge_alarm, "F8")
        self.mute_action = self._action(inspect, "&Mute alarm sound", live.set_alarm_muted, "Ctrl+M", True)
        self.mute_action.setChecked(live.alarm.muted)
        view = bar.addMenu("&View")
        self.fullscreen_action = self._action(view, "&Full screen", self.set_full_screen, "F11", True)
        self.fit_action = self._action(view, "Fit the &whole frame", live.view.reset_view, "Ctrl+0")
        self.tiles_action = self._action(view, "Show &tiles", live.tiles_toggle.setChecked, checkable=True)
        self.tiles_action.setChecked(live.tiles_toggle.isChecked())
        live.tiles_toggle.toggled.connect(self.tiles_action.setChecked)
        view.addSeparator()
        self.dark_action = self._action(view, "&Dark theme", self.set_dark_theme, checkable=True)
        self.dark_action.setChecked(self.settings.dark_theme)
        settings_menu = bar.addMenu("&Settings")
        self.plant_action = self._action(settings_menu, "&Plant connection…", self.show_plant_settings)
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts)
        self._action(help_menu, "&About GRACE Inspect", self.show_about)
        self._update_actions()

    def _update_actions(self, *_: object) -> None:
        """Space and F5 belong to the live tab: enabled only while it is shown (and Space only while inspecting)."""
        on_live = self.tabs.currentWidget() is self.live
        self.start_action.setEnabled(on_live)
        self.pause_action.setEnabled(on_live and self.live.pause_button.isEnabled())
        self.stop_action.setEnabled(self.live.stop_button.isEnabled())
        self.mute_action.setChecked(self.live.alarm.muted)

    def set_full_screen(self, on: bool) -> None:
        if on and not self.isFullScreen():
            self._was_maximized = self.isMaximized()
            self.showFullScreen()
        elif not on and self.isFullScreen():
            self.showMaximized() if getattr(self, "_was_maximized", False) else self.showNormal()
        if self.fullscreen_action.isChecked() != on:
            self.fullscreen_action.setChecked(on)

    def set_dark_theme(self, dark: bool) -> None:
        apply_theme(QApplication.instance(), dark)
        if self.settings.dark_theme != dark:
            self.settings.dark_theme = dark
            self._save_timer.start()

    def show_about(self) -> QMessageBox:
        info = self.live.engine_info
        model = f"{info.model_id} on {info.backend}" if info is not None and self.live.running_model else None
        return open_message(self, "About GRACE Inspect", about_text(model or f"{self.settings.model} (not running)"))

    def show_shortcuts(self) -> QMessageBox:
        return open_message(self, "Keyboard shortcuts", shortcuts_text())

    def show_plant_settings(self) -> PlantSettingsDialog:
        """Settings ▸ Plant connection… (window-modal, not blocking: returned so that it can be driven)."""
        dialog = PlantSettingsDialog(self.plant, running=self.live.controller.running, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.apply_plant_settings(dialog.settings()))
        dialog.open()
        return dialog

    def apply_plant_settings(self, plant: PlantSettings) -> None:
        """Save ``plant``, restart a running inspection with it, and point the review and training tabs (and the
        audit log) at its store."""
        self.plant = plant
        save_plant_settings(plant)
        restarted = self.live.use_plant(plant)
        self.review.set_store(self.live.store_root)
        self.training.store_root = self.live.store_root
        when = "inspection restarted with them" if restarted else "inspection uses them from its next start"
        self.statusBar().showMessage(f"Plant connection applied ({self.live.plant.location}); {when}.", 10_000)

    def _show_alarm(self) -> None:
        alarm = self.live.alarm
        if alarm.active:
            self.alarm_label.setText(f"ALARM: {alarm.hits[0].describe()} — F8 acknowledges")
        self.alarm_label.setVisible(alarm.active)
        self.tabs.tabBar().setTabTextColor(
            self.tabs.indexOf(self.live), Qt.GlobalColor.red if alarm.active else self.palette().windowText().color()
        )
        self.mute_action.setChecked(alarm.muted)

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(index) for index in range(self.tabs.count())]

    def _splitters(self) -> dict:
        return {
            "live_main": self.live.main_splitter,
            "live_picture": self.live.picture_splitter,
            "live_bottom": self.live.bottom_splitter,
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
