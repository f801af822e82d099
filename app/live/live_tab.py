"""The live tab: pick a source and a model, inspect, see boxes, heatmap, readouts, trend and flagged counts.

Widgets only show core values: the session (grace_core.inspection) inspects and flags on the worker thread; this
tab re-applies the thresholds on screen to the newest result (grace_core.flagging.decide), so a slider moves the
boxes at once, even when paused.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.live.detections_table import DetectionsTable
from app.live.frame_view import FrameView, boxes_for
from app.live.heat_legend import HeatLegend
from app.live.pickers import ModelPicker, SourcePicker
from app.live.status_panel import StatusPanel, staleness_message
from app.live.thresholds_panel import ThresholdsPanel
from app.live.trend import DefectTrend
from app.settings import LiveSettings
from app.workers.inspection import DisplayUpdate, LiveController
from app.workers.oneshot import OneShot
from grace_core.devices import probe_cameras, torch_devices
from grace_core.engine.factory import BACKENDS
from grace_core.errors import GraceError
from grace_core.flagging import FlagDecision, Thresholds, decide
from grace_core.inspection import FrameResult, InspectionSession, SessionStarted
from grace_core.models import resolve_model
from grace_core.store.review_store import DB_NAME, ReviewStore, default_root

NO_UPDATE_WARNING_S = 3.0  # the worker reports at least 4 times a second; longer silence means it is stuck


class LiveTab(QWidget):
    settings_changed = Signal()
    flagged_count = Signal(int)

    def __init__(self, settings: LiveSettings, store_root: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store_root = store_root or default_root()
        self.controller = LiveController(self)
        self.engine_info = None
        self.last_result: FrameResult | None = None
        self.decision: FlagDecision | None = None
        self._last_update_at: float | None = None
        self._loading = False
        self._sticky_error: str | None = None
        self._oneshots: list[OneShot] = []
        self._store: ReviewStore | None = None
        self._build()
        self._restore()  # before connecting: restoring one widget must not save another's unrestored value
        self._connect()
        self._watchdog = QTimer(self, interval=500, timeout=self._check_worker)
        self._watchdog.start()
        self._slow_timer = QTimer(self, interval=1000, timeout=self._refresh_slow)
        self._slow_timer.start()
        self._probe()

    # -- layout -------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = Banner()
        self.view = FrameView()
        self.view.placeholder = "Press Start to inspect"
        self.trend = DefectTrend()
        self.table = DetectionsTable()
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.trend)
        bottom.addWidget(self.table)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.banner)
        self.picture_splitter = QSplitter(Qt.Orientation.Vertical)
        self.picture_splitter.addWidget(self.view)
        self.picture_splitter.addWidget(bottom)
        self.picture_splitter.setStretchFactor(0, 3)
        self.picture_splitter.setStretchFactor(1, 1)
        left_layout.addWidget(self.picture_splitter)

        self.source_picker = SourcePicker()
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.cameras_button = QPushButton("Find cameras")
        source_box = QGroupBox("Source")
        source_layout = QVBoxLayout(source_box)
        source_layout.addWidget(self.source_picker)
        source_layout.addWidget(self.cameras_button)
        source_layout.addLayout(buttons)

        self.model_picker = ModelPicker()
        self.backend = QComboBox()
        self.backend.addItems(BACKENDS)
        self.backend.setToolTip("auto: by file type; the shipped model runs on ONNX Runtime, the fastest on CPU")
        self.device = QComboBox()
        self.device.addItem("cpu")
        self.device.setToolTip("torch backend only; exported models run on the CPU")
        self.classes_label = QLabel("—")
        self.classes_label.setWordWrap(True)
        self.model_label = QLabel("—")
        self.model_label.setWordWrap(True)
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow(self.model_picker)
        model_form.addRow("Backend", self.backend)
        model_form.addRow("Device", self.device)
        model_form.addRow("Loaded", self.model_label)
        model_form.addRow("Classes", self.classes_label)

        self.heat_toggle = QCheckBox("Show Lite-FEN heatmap")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.legend = HeatLegend()
        overlay_box = QGroupBox("Heatmap")
        overlay_form = QFormLayout(overlay_box)
        overlay_form.addRow(self.heat_toggle)
        overlay_form.addRow("Opacity", self.opacity)
        overlay_form.addRow(self.legend)

        self.thresholds_panel = ThresholdsPanel()
        thresholds_box = QGroupBox("Thresholds")
        QVBoxLayout(thresholds_box).addWidget(self.thresholds_panel)

        self.status = StatusPanel()
        self.quota = QDoubleSpinBox()
        self.quota.setRange(0.1, 10000.0)
        self.quota.setSuffix(" GB")
        self.quota.setToolTip("Disk space for flagged frames. When full, the oldest unreviewed frames are removed.")
        status_box = QGroupBox("Status")
        status_layout = QVBoxLayout(status_box)
        status_layout.addWidget(self.status)
        quota_row = QFormLayout()
        quota_row.addRow("Store quota", self.quota)
        status_layout.addLayout(quota_row)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        for box in (source_box, model_box, overlay_box, status_box, thresholds_box):
            side_layout.addWidget(box)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(340)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(scroll)
        self.main_splitter.setStretchFactor(0, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.main_splitter)
        self._update_buttons()

    def _connect(self) -> None:
        self.start_button.clicked.connect(self.start)
        self.pause_button.toggled.connect(self.set_paused)
        self.stop_button.clicked.connect(self.stop)
        self.cameras_button.clicked.connect(self._probe_cameras)
        self.source_picker.chosen.connect(self._on_source_chosen)
        self.model_picker.chosen.connect(self._on_model_chosen)
        self.backend.currentTextChanged.connect(self._on_model_chosen)
        self.device.currentTextChanged.connect(self._on_model_chosen)
        self.heat_toggle.toggled.connect(self._on_overlay_changed)
        self.opacity.valueChanged.connect(self._on_overlay_changed)
        self.thresholds_panel.changed.connect(self.set_thresholds)
        self.quota.valueChanged.connect(self._on_quota_changed)
        self.controller.session_started.connect(self._on_started)
        self.controller.update.connect(self._on_update)
        self.controller.failed.connect(self._on_failed)
        self.controller.stopped.connect(self._on_stopped)

    def _restore(self) -> None:
        s = self.settings
        self.source_picker.set_spec(s.source)
        self.model_picker.set_spec(s.model)
        for combo, value in ((self.backend, s.backend), (self.device, s.device)):
            if combo.findText(value) < 0:
                combo.addItem(value)
            combo.setCurrentText(value)
        self.heat_toggle.setChecked(s.heatmap)
        self.opacity.setValue(round(s.opacity * 100))
        self.quota.setValue(s.quota_gb)
        self.view.set_heat_visible(s.heatmap)
        self.view.set_opacity(s.opacity)

    # -- commands -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start inspecting the chosen source with the chosen model."""
        self.controller.stop()
        self._sticky_error = None
        self.banner.clear_message()
        try:
            model, backend = resolve_model(self.settings.model, self.settings.backend)
        except GraceError as exc:
            self._show_error(str(exc))
            return
        quota_bytes = int(self.settings.quota_gb * 1024**3)
        root = self.store_root
        session = InspectionSession(
            self.settings.source,  # camera:N stays text: open_source makes it an int index, never a path
            model,
            backend=backend,
            device=self.settings.device,
            thresholds=self.settings.thresholds_value(),
            store_factory=lambda: ReviewStore.open(root, quota_bytes=quota_bytes),
        )
        self.pause_button.setChecked(False)
        self._loading = True
        self._last_update_at = time.monotonic()
        self.banner.show_message("info", f"Loading {Path(model).name} on {backend}…")
        self.controller.start(session)
        self._update_buttons()

    def stop(self) -> None:
        self.controller.stop()
        self._update_buttons()

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.controller.pause()
        else:
            self.controller.resume()

    def open_source(self, spec: str, start: bool = True) -> None:
        """Choose a source (e.g. a dropped folder or video) and, by default, start inspecting it."""
        self.source_picker.set_spec(spec)
        self._on_source_chosen(spec, start)

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self.settings.thresholds = thresholds.to_dict()
        session = self.controller.session
        if session is not None:
            session.thresholds = thresholds  # next frame is flagged with these
        self._redecide()
        self.settings_changed.emit()

    def use_model(self, spec: str, backend: str = "auto") -> None:
        """Switch to another model (e.g. one promoted from the training tab); a running inspection restarts on it."""
        self.model_picker.set_spec(spec)
        self.backend.setCurrentText(backend)
        self._on_model_chosen()

    def shutdown(self) -> None:
        """Stop everything this tab started (the window is closing)."""
        self._watchdog.stop()
        self._slow_timer.stop()
        self.controller.stop()
        for job in self._oneshots:
            job.join(timeout=5.0)
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- worker events ------------------------------------------------------------------------------------------

    def _on_started(self, started: SessionStarted) -> None:
        self._loading = False
        self.banner.clear_message()
        info = started.engine
        self.engine_info = info
        self.model_label.setText(f"{info.model_id} on {info.backend}")
        self.model_label.setToolTip(info.model_path)
        self.classes_label.setText(", ".join(info.class_names))
        self.thresholds_panel.set_classes(info.class_names, self.settings.thresholds_value())
        self.legend.set_range(info.heat_range, info.has_heatmap)
        self.trend.set_classes(info.class_names)
        self.view.placeholder = f"Waiting for the first frame from {started.source.description}…"
        if not self.view.has_frame:
            self.view.clear(self.view.placeholder)

    def _on_update(self, item: DisplayUpdate) -> None:
        self._last_update_at = time.monotonic()
        update = item.update
        result = update.result
        if result is not None and item.frame_image is not None and result is not self.last_result:
            self.last_result = result
            self.view.show_frame(item.frame_image, item.heat_image)
            self._redecide()
            self.trend.add(result.decision, result.frame.timestamp)
        self.status.show_update(update, item.display_dropped)
        self.flagged_count.emit(update.stats.flagged)
        if self._sticky_error is not None:  # a failure stays on screen until the next start
            return
        saving = update.stats.saving
        message = staleness_message(update, self.last_result.frame.timestamp if self.last_result else None)
        if saving is not None and saving.errors and saving.last_error:
            self.banner.show_message(
                "error",
                f"Flagged frames cannot be saved: {saving.last_error}. Inspection goes on; frames saved before "
                "are kept. Free disk space or lower the store quota.",
            )
        elif message is not None:
            self.banner.show_message(*message)
        else:
            self.banner.clear_message()

    def _on_failed(self, message: str) -> None:
        self._loading = False
        self._show_error(message)

    def _on_stopped(self) -> None:
        self._loading = False
        self._update_buttons()

    def _show_error(self, message: str) -> None:
        self._sticky_error = message
        self.banner.show_message("error", message)
        if not self.view.has_frame:
            self.view.clear("Nothing to show: see the message above.")
        self._update_buttons()

    # -- helpers ------------------------------------------------------------------------------------------------

    def _redecide(self) -> None:
        """Apply the thresholds on screen to the newest result (pure core logic, cheap)."""
        if self.last_result is None or self.engine_info is None:
            return
        names = self.engine_info.class_names
        self.decision = decide(self.last_result.prediction.detections, names, self.thresholds_panel.thresholds())
        self.view.set_boxes(boxes_for(self.decision, names))
        self.table.show_decision(self.decision, names)

    def _on_source_chosen(self, spec: str, start: bool = True) -> None:
        self.settings.source = spec
        self.settings_changed.emit()
        if start:
            self.start()

    def _on_model_chosen(self, *_: object) -> None:
        self.settings.model = self.model_picker.spec()
        self.settings.backend = self.backend.currentText()
        self.settings.device = self.device.currentText()
        self.settings_changed.emit()
        if self.controller.running:
            self.start()

    def _on_overlay_changed(self, *_: object) -> None:
        self.settings.heatmap = self.heat_toggle.isChecked()
        self.settings.opacity = self.opacity.value() / 100
        self.view.set_heat_visible(self.settings.heatmap)
        self.view.set_opacity(self.settings.opacity)
        self.settings_changed.emit()

    def _on_quota_changed(self, value: float) -> None:
        self.settings.quota_gb = value
        self.settings_changed.emit()

    def _update_buttons(self) -> None:
        running = self.controller.running
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.start_button.setText("Restart" if running else "Start")

    def _check_worker(self) -> None:
        """GUI-side watchdog: the worker reports several times a second, so silence means it is stuck."""
        if not self.controller.running or self._last_update_at is None:
            return
        silent = time.monotonic() - self._last_update_at
        if silent > NO_UPDATE_WARNING_S and not self._loading and self._sticky_error is None:
            self.banner.show_message(
                "error", f"STALE PICTURE — inspection has not reported for {silent:.0f} s (the model may be stuck)."
            )

    def _refresh_slow(self) -> None:
        self.trend.refresh()
        self._update_buttons()
        self._show_store_usage()

    def _show_store_usage(self) -> None:
        try:
            if self._store is None:
                if not (self.store_root / DB_NAME).exists():
                    return
                self._store = ReviewStore.open(self.store_root, quota_bytes=int(self.settings.quota_gb * 1024**3))
            self.status.show_storage(self._store.usage_bytes(), int(self.settings.quota_gb * 1024**3))
        except (GraceError, OSError, sqlite3.Error) as exc:  # say so, keep inspecting
            self.status.storage.setText(f"unavailable: {exc}")

    def _probe(self) -> None:
        devices = OneShot(torch_devices, "devices", self)
        devices.done.connect(self._set_devices)
        self._oneshots.append(devices.start())

    def _probe_cameras(self) -> None:
        self.cameras_button.setEnabled(False)
        self.cameras_button.setText("Looking for cameras…")
        cameras = OneShot(probe_cameras, "cameras", self)
        cameras.done.connect(self._set_cameras)
        cameras.failed.connect(lambda message: self._set_cameras([]))
        self._oneshots.append(cameras.start())

    def _set_cameras(self, indices: list[int]) -> None:
        self.source_picker.set_cameras(indices)
        self.cameras_button.setEnabled(True)
        self.cameras_button.setText(f"Find cameras ({len(indices)} found)")

    def _set_devices(self, devices: list[str]) -> None:
        for name in devices:
            if self.device.findText(name) < 0:
                self.device.addItem(name)
