"""The live tab: pick a source and a model, inspect, see boxes, heatmap, readouts, trend and flagged counts.

Widgets only show core values: the session (grace_core.inspection) inspects and flags on the worker thread; this
tab re-applies the thresholds on screen to the newest result (grace_core.flagging.decide), so a slider moves the
boxes and the verdict at once, even when paused.

Layout: above the picture, what is read at a glance (:mod:`app.live.glance`: the OK / NG / UNCERTAIN verdict, the
alarm, the heatmap's legend, the alarm sound); the picture is the whole frame, zoomable (:mod:`app.live.live_view`);
below it the trend and the detections. The side panel's sections fold (:mod:`app.live.section`), so that at
1400×900 the source, status and thresholds are on screen together; which are open is remembered.

Alarm: raised by defects at or above their alarm threshold (:mod:`app.live.alarm`); acknowledged with the button or
F8 and written to the audit log, as are mute and unmute. Flagged frames are saved through a
:class:`~app.workers.flag_saver.FlagSaver`: an unchanged scene is saved once per ``repeat_window_s``, not per frame.

Models: a model chosen while inspecting is loaded and test-run beside the running one (off the GUI thread); the
session switches to it only when it passes, else inspection goes on with the old model and the tab says why. The
settings hold the last model that loaded: a choice that failed is never remembered. Threshold and quota changes
are written to the review store's audit log; the quota only changes on Apply (or Enter), after a confirmation when
it would remove frames.

Coil (below the picture, :mod:`app.live.coil_panel`): the operator applies the coil on the line (the running session
and the next ones carry it; a new coil restarts its positions at 0 and the map); the live coil map shows that coil's
defect events by position; a roll mark the session finds raises the alarm once, naming class, pitch and roll
diameter, and the banner says to check the roll. Beside the coil: when the golden-sample check last passed, and
*Run golden check* (off the GUI thread, recorded in the audit trail).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.banner import Banner
from app.live.alarm import ALARM_ACKNOWLEDGED, ALARM_SOUND_MUTED, Alarm, AlarmThresholds, RollMarkHit
from app.live.alarm_panel import AlarmThresholdsPanel
from app.live.attention import unboxed
from app.live.coil_panel import CoilPanel
from app.live.coil_track import CoilTrack
from app.live.detections_table import DetectionsTable
from app.live.frame_view import boxes_for
from app.live.glance import GlanceBar
from app.live.live_view import LiveView
from app.live.pickers import ModelPicker, SourcePicker
from app.live.quota_forecast import SaveRate, forecast
from app.live.section import Section
from app.live.status_panel import StatusPanel, staleness_message
from app.live.thresholds_panel import ThresholdsPanel
from app.live.trend import DefectTrend
from app.plant.link import PlantLink
from app.settings import LiveSettings, PlantSettings
from app.wheel_guard import guard_wheel
from app.workers.flag_saver import FlagSaver
from app.workers.golden import GoldenOutcome, run_and_record
from app.workers.inspection import DisplayUpdate, LiveController, ModelChoice, engine_loader_for, load_checked_engine
from app.workers.oneshot import OneShot
from app.workers.progress_job import ProgressJob
from grace_core.devices import probe_cameras, torch_devices
from grace_core.engine.base import Engine
from grace_core.engine.factory import BACKENDS
from grace_core.errors import GraceError
from grace_core.flagging import FlagDecision, Thresholds, decide
from grace_core.golden import last_golden_check
from grace_core.inspection import FrameResult, InspectionSession, SessionStarted
from grace_core.rollmarks import RollMark
from grace_core.sources.types import SourceState
from grace_core.store import STORE_ERRORS, audit_events
from grace_core.store.review_store import ReviewStore, store_exists

log = logging.getLogger(__name__)

GOLDEN_REREAD_MS = 5 * 60 * 1000  # the last golden check is re-read this often (another station or the CLI may run one)
NO_UPDATE_WARNING_S = 3.0  # the worker reports at least 4 times a second; longer silence means it is stuck
THRESHOLDS_SETTLE_MS = 1500  # a threshold change is audited once it has rested this long: a drag is one record
GB = 1024**3
SIDE_WIDTH = 380  # the side panel's starting width: wide enough for every control without a horizontal scrollbar
TABLE_WIDTH = 440  # the detections table's starting width: every column whole, "rolled-in_scale" included
COIL_PANEL_HEIGHT = 170  # the coil row and map below the picture: the map readable, the picture still the largest
SECTIONS_OPEN = {"source": True, "status": True, "thresholds": True, "picture": True, "alarm": False, "model": False}


class LiveTab(QWidget):
    settings_changed = Signal()
    flagged_count = Signal(int)
    model_rejected = Signal(str, str)  # the model spec that did not load, and why (the old model goes on)
    controls_changed = Signal()  # running, paused or stopped: the window's menu follows

    def __init__(
        self,
        settings: LiveSettings,
        store_root: Path | str | None = None,
        parent: QWidget | None = None,
        plant: PlantSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.plant = PlantLink(plant or PlantSettings(), store_root)  # store_root (tests) overrides the plant's store
        self.store_root = self.plant.review_location
        self.controller = LiveController(self)
        self.engine_info = None
        self.last_result: FrameResult | None = None
        self.decision: FlagDecision | None = None
        self._source_name = "the source"  # the running source's description (passwords redacted)
        self._last_update_at: float | None = None
        self._loading = False
        self._sticky_error: str | None = None
        self._oneshots: list[OneShot] = []
        self._store: ReviewStore | None = None
        self._running_model: ModelChoice | None = None  # the model of the session inspecting now
        self._starting_model: ModelChoice | None = None  # the model the session being started loads
        self._check_job: OneShot | None = None  # the model being checked beside the running one
        self._model_notice: tuple[str, str] | None = None  # (level, text) about the last choice, until the next
        self._last_state: SourceState | None = None
        self._audited_thresholds = settings.thresholds_value()
        self._thresholds_timer = QTimer(
            self, singleShot=True, interval=THRESHOLDS_SETTLE_MS, timeout=self._record_thresholds
        )
        self._writer_lock = threading.Lock()
        self._writer_stores: list[weakref.ref[ReviewStore]] = []  # opened by the writers' threads
        self._attention: tuple = ()  # the newest frame's strong-attention regions (frame pixels)
        self._picture_live = False
        self._save_rate = SaveRate()
        self._saved = 0  # frames the running session's saver has written
        self.alarm = Alarm(self)
        self._coil = ""  # the coil the operator applied: the running session's and the next ones'
        self.coil_track = CoilTrack()
        self._roll_marks: list[RollMark] = []  # the roll marks found on the coil shown, for its map
        self._roll_keys: set[tuple] = set()  # roll marks alarmed for: once per coil, class and pitch
        self._golden_job: ProgressJob | None = None
        self._golden_shown_at = 0.0  # when the check shown ran (a store read older than it is not shown)
        self._build()
        self._restore()  # before connecting: restoring one widget must not save another's unrestored value
        self._connect()
        self._watchdog = QTimer(self, interval=500, timeout=self._check_worker)
        self._watchdog.start()
        self._slow_timer = QTimer(self, interval=1000, timeout=self._refresh_slow)
        self._slow_timer.start()
        self._golden_timer = QTimer(self, interval=GOLDEN_REREAD_MS, timeout=self.refresh_golden)
        self._golden_timer.start()
        self._probe()
        self.refresh_golden()

    # -- layout -------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = Banner()
        self.glance = GlanceBar(self.alarm)
        self.verdict = self.glance.verdict
        self.legend = self.glance.legend
        self.view = LiveView()
        self.view.placeholder = "Press Start to inspect"
        self.trend = DefectTrend()
        self.table = DetectionsTable()
        self.bottom_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_splitter.addWidget(self.trend)
        self.bottom_splitter.addWidget(self.table)
        self.bottom_splitter.setStretchFactor(0, 3)
        self.bottom_splitter.setStretchFactor(1, 2)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.glance)
        left_layout.addWidget(self.banner)
        self.coil_panel = CoilPanel()
        self.coil_splitter = QSplitter(Qt.Orientation.Vertical)  # the picture over the coil row and map
        self.coil_splitter.addWidget(self.view)
        self.coil_splitter.addWidget(self.coil_panel)
        self.coil_splitter.setStretchFactor(0, 1)
        self.coil_splitter.setStretchFactor(1, 0)
        self.coil_splitter.setCollapsible(0, False)
        self.coil_splitter.setSizes([600 - COIL_PANEL_HEIGHT, COIL_PANEL_HEIGHT])
        self.picture_splitter = QSplitter(Qt.Orientation.Vertical)
        self.picture_splitter.addWidget(self.coil_splitter)
        self.picture_splitter.addWidget(self.bottom_splitter)
        self.picture_splitter.setStretchFactor(0, 3)
        self.picture_splitter.setStretchFactor(1, 1)
        left_layout.addWidget(self.picture_splitter)

        self.source_picker = SourcePicker()
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Start inspecting the chosen source (F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause / resume (Space)")
        self.stop_button = QPushButton("Stop")
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.cameras_button = QPushButton("Find cameras")
        source_box = QWidget()
        source_layout = QVBoxLayout(source_box)
        source_layout.setContentsMargins(0, 0, 0, 0)
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
        model_box = QWidget()
        model_form = QFormLayout(model_box)
        model_form.setContentsMargins(0, 0, 0, 0)
        model_form.addRow(self.model_picker)
        model_form.addRow("Backend", self.backend)
        model_form.addRow("Device", self.device)
        model_form.addRow("Loaded", self.model_label)
        model_form.addRow("Classes", self.classes_label)

        self.heat_toggle = QCheckBox("Lite-FEN heatmap")
        self.heat_toggle.setToolTip("Where the model looked; the legend is above the picture")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the strongest attention: at 100 % it is half see-through, never opaque")
        self.tiles_toggle = QCheckBox("Show tiles")
        self.tiles_toggle.setToolTip("The grid a large frame is cut into for inspection (sliced frames only)")
        self.fit_button = QPushButton("Whole frame")
        self.fit_button.setToolTip("Fit the whole frame (Ctrl+0 or double-click the picture)")
        picture_box = QWidget()
        picture_form = QFormLayout(picture_box)
        picture_form.setContentsMargins(0, 0, 0, 0)
        heat_row = QHBoxLayout()
        heat_row.addWidget(self.heat_toggle)
        heat_row.addWidget(self.opacity, 1)
        picture_form.addRow(heat_row)
        view_row = QHBoxLayout()
        view_row.addWidget(self.tiles_toggle)
        view_row.addStretch(1)
        view_row.addWidget(self.fit_button)
        picture_form.addRow(view_row)

        self.thresholds_panel = ThresholdsPanel()
        self.alarm_panel = AlarmThresholdsPanel()

        self.status = StatusPanel()
        self.quota = QDoubleSpinBox()
        self.quota.setRange(0.1, 10000.0)
        self.quota.setSuffix(" GB")
        self.quota.setToolTip(
            "Disk space for flagged frames. When full, the oldest unreviewed frames are removed. "
            "A new value takes effect on Apply (or Enter)."
        )
        self.quota_apply = QPushButton("Apply")
        self.quota_apply.setToolTip("Use this quota (asks first when it would remove stored frames)")
        self.repeat_window = QDoubleSpinBox()
        self.repeat_window.setRange(0.0, 3600.0)
        self.repeat_window.setDecimals(0)
        self.repeat_window.setSingleStep(10.0)
        self.repeat_window.setPrefix("save again after ")
        self.repeat_window.setSuffix(" s")
        self.repeat_window.setSpecialValueText("save every frame")
        self.repeat_window.setToolTip(
            "A flagged frame showing the same detections (same classes and places) as the last one saved from its "
            "source is saved again only after this long. 'every frame': save them all."
        )
        quota_edit = QHBoxLayout()
        quota_edit.addWidget(self.quota, 1)
        quota_edit.addWidget(self.quota_apply)
        self.status.form.addRow("Store quota", quota_edit)
        self.status.form.addRow("Static scene", self.repeat_window)
        status_box = self.status

        self.sections = {
            "source": Section("Source", source_box),
            "status": Section("Status", status_box),
            "thresholds": Section("Thresholds", self.thresholds_panel),
            "picture": Section("Picture", picture_box),
            "alarm": Section("Alarm thresholds", self.alarm_panel),
            "model": Section("Model", model_box),
        }
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(2, 2, 2, 2)
        side_layout.setSpacing(4)
        for section in self.sections.values():
            side_layout.addWidget(section)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(320)
        self.side_scroll = scroll
        guard_wheel(side)  # the wheel scrolls the panel; it edits only a control the operator clicked into

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(scroll)
        self.main_splitter.setStretchFactor(0, 1)
        self.main_splitter.setStretchFactor(1, 0)
        self.main_splitter.setCollapsible(1, False)
        # starting sizes (scaled to the window; a layout the operator dragged is restored over them)
        self.main_splitter.setSizes([1400 - SIDE_WIDTH, SIDE_WIDTH])
        self.bottom_splitter.setSizes([1000 - TABLE_WIDTH, TABLE_WIDTH])
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
        self.tiles_toggle.toggled.connect(self._on_overlay_changed)
        self.fit_button.clicked.connect(self.view.reset_view)
        self.thresholds_panel.changed.connect(self.set_thresholds)
        self.alarm_panel.changed.connect(self.set_alarm_thresholds)
        self.glance.alarm_strip.acknowledge_clicked.connect(self.acknowledge_alarm)
        self.glance.sound_button.toggled.connect(self.set_alarm_muted)
        self.repeat_window.valueChanged.connect(self._on_repeat_window)
        for name, section in self.sections.items():
            section.toggled.connect(lambda expanded, name=name: self._on_section_toggled(name, expanded))
        self.quota.valueChanged.connect(self._on_quota_edited)
        self.quota.lineEdit().returnPressed.connect(self.apply_quota)
        self.quota_apply.clicked.connect(self.apply_quota)
        self.coil_panel.bar.applied.connect(self.set_coil)
        self.coil_panel.golden.run_clicked.connect(self.run_golden_check)
        self.controller.session_started.connect(self._on_started)
        self.controller.update.connect(self._on_update)
        self.controller.failed.connect(self._on_failed)
        self.controller.model_failed.connect(self._on_model_failed)
        self.controller.stopped.connect(self._on_stopped)

    def _restore(self) -> None:
        s = self.settings
        self.source_picker.set_spec(s.source)
        self._show_choice(self._saved_choice())
        self.heat_toggle.setChecked(s.heatmap)
        self.opacity.setValue(round(s.opacity * 100))
        self.quota.setValue(s.quota_gb)
        self.quota_apply.setEnabled(False)
        self.view.set_heat_visible(s.heatmap)
        self.view.set_opacity(s.opacity)
        self.tiles_toggle.setChecked(s.show_tiles)
        self.view.set_show_tiles(s.show_tiles)
        self.repeat_window.setValue(s.repeat_window_s)
        self.alarm.set_muted(s.alarm_muted)
        self.glance.sound_button.setChecked(s.alarm_muted)
        self.controller.set_alarm_thresholds(self._alarm_value())
        for name, section in self.sections.items():
            section.set_expanded(s.sections.get(name, SECTIONS_OPEN[name]))
        self._update_summaries()

    # -- commands -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start inspecting the chosen source with the chosen model (remembered once it has loaded)."""
        self._start_session(self._choice())

    def choose_model(self, spec: str, backend: str | None = None) -> None:
        """Put a model in the pickers for the next Start (e.g. ``--model``) without remembering it: the settings
        keep the previous choice until this one has loaded."""
        current = self._choice()
        self._show_choice(ModelChoice(spec, backend or current.backend, current.device))

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
        self._thresholds_timer.start()  # audited once it settles: a drag is one record
        self.settings_changed.emit()

    def set_alarm_thresholds(self, alarm: AlarmThresholds) -> None:
        """Per-class alarm thresholds: used from the next frame, remembered."""
        self.settings.alarm = alarm.to_dict()
        self.controller.set_alarm_thresholds(alarm)
        self._update_summaries()
        self.settings_changed.emit()

    def acknowledge_alarm(self) -> bool:
        """The operator has seen the alarm (button or F8): silence it and write it to the audit log. False when no
        alarm was up."""
        details = self.alarm.acknowledge()
        if details is None:
            return False
        details["model"] = self.engine_info.model_id if self.engine_info is not None else None
        details["source"] = self._source_name
        self._audit(ALARM_ACKNOWLEDGED, details)
        return True

    def set_coil(self, coil: str) -> None:
        """The operator applied a coil id: the running session's events carry it from now on (positions restart
        at 0), the next session starts with it, and the coil map starts afresh."""
        self._coil = coil.strip()
        session = self.controller.session
        if session is not None:
            session.set_coil(self._coil or None)
        self._roll_keys.clear()
        self._reset_coil(self._coil or None)

    def run_golden_check(self) -> None:
        """Check the live model and thresholds on the reference images (beside inspection, off the GUI thread)
        and record it in the audit trail; the status beside the coil shows the outcome."""
        if self._golden_job is not None:
            return
        choice = self._running_model or self._saved_choice()
        thresholds, store = self.settings.thresholds_value(), self.store_root

        def check(progress) -> GoldenOutcome:
            return run_and_record(choice.spec, choice.backend, thresholds, store, progress)

        job = ProgressJob(check, "golden-check", self)
        job.progress.connect(self.coil_panel.golden.show_running)
        job.done.connect(self._on_golden_done)
        job.failed.connect(self._on_golden_failed)
        self._golden_job = job
        self.coil_panel.golden.show_running()
        self._oneshots.append(job.start())

    def refresh_golden(self) -> None:
        """Re-read when the golden check last ran from the review store (off the GUI thread: it may be a server)."""
        if self._golden_job is not None:
            return
        root = self.store_root
        job = OneShot(lambda: last_golden_check(root), "golden-last", self)
        job.done.connect(self._on_golden_read)
        job.failed.connect(lambda message: log.warning("last golden check unavailable: %s", message))
        self._oneshots.append(job.start())

    def set_alarm_muted(self, muted: bool) -> None:
        """Mute or unmute the alarm's sound (the visual alarm stays); remembered and audited."""
        if muted == self.settings.alarm_muted and muted == self.alarm.muted:
            return
        self.alarm.set_muted(muted)
        with QSignalBlocker(self.glance.sound_button):
            self.glance.sound_button.setChecked(muted)
        self.glance.show_sound(muted)
        self.settings.alarm_muted = muted
        self._audit(ALARM_SOUND_MUTED, {"muted": muted, "alarm_up": self.alarm.active})
        self.settings_changed.emit()

    def use_model(self, spec: str, backend: str = "auto") -> None:
        """Switch to another model (e.g. one promoted from the training tab): it is checked beside the running one
        and used only when it loads (``model_rejected`` otherwise)."""
        self._show_choice(ModelChoice(spec, backend, self.device.currentText()))
        self._on_model_chosen()

    @property
    def running_model(self) -> ModelChoice | None:
        """The model of the session inspecting now (None when none is)."""
        return self._running_model

    @property
    def checking_model(self) -> ModelChoice | None:
        """The model being loaded and test-run beside the running one, if any."""
        return self._check_job.choice if self._check_job is not None else None

    def apply_quota(self) -> None:
        """Use the quota in the box (Apply or Enter); asks first when it would remove stored frames; audited."""
        old, new = self.settings.quota_gb, round(self.quota.value(), 2)
        if new == old:
            self.quota_apply.setEnabled(False)
            return
        used = self._usage_bytes()
        if used is not None and used > new * GB and not self._confirm_eviction(used, new):
            self.quota.setValue(old)
            return
        self.settings.quota_gb = new
        self._set_writer_quota(int(new * GB))
        self.quota_apply.setEnabled(False)
        self._audit(audit_events.QUOTA_CHANGED, {"from_gb": old, "to_gb": new, "used_bytes": used})
        self.settings_changed.emit()
        self._show_store_usage()

    def shutdown(self) -> None:
        """Stop everything this tab started (the window is closing)."""
        self._watchdog.stop()
        self._slow_timer.stop()
        if self._thresholds_timer.isActive():  # a change still settling is recorded, not lost
            self._thresholds_timer.stop()
            self._record_thresholds()
        self._check_job = None  # a check still running closes its engine when it ends (see _on_model_checked)
        self._golden_timer.stop()
        self.controller.stop()
        for job in self._oneshots:
            job.join(timeout=5.0)
        if self._store is not None:
            self._store.close()
            self._store = None
        self.plant.close()  # the spool forwards what it can, briefly; the rest goes at the next start

    # -- worker events ------------------------------------------------------------------------------------------

    def _on_started(self, started: SessionStarted) -> None:
        self._loading = False
        self.banner.clear_message()
        info = started.engine
        self.engine_info = info
        self._running_model = self._starting_model
        if self._running_model is not None:
            self._commit_model(self._running_model)  # it loaded: now it is remembered
        self.model_label.setText(f"{info.model_id} on {info.backend}")
        self.model_label.setToolTip(info.model_path)
        self.status.show_model(f"{info.model_id} on {info.backend}", info.model_path)
        self.classes_label.setText(", ".join(info.class_names))
        self.thresholds_panel.set_classes(info.class_names, self.settings.thresholds_value())
        self.alarm_panel.set_classes(info.class_names, self._alarm_value())
        self._update_summaries()
        self.legend.set_range(info.heat_range, info.has_heatmap)
        self.trend.set_classes(info.class_names)
        self._source_name = started.source.description
        self.view.placeholder = f"Waiting for the first frame from {started.source.description}…"
        if not self.view.has_frame:
            self.view.clear(self.view.placeholder)

    def _on_update(self, item: DisplayUpdate) -> None:
        self._last_update_at = time.monotonic()
        update = item.update
        self._last_state = update.state
        result = update.result
        if result is not None and item.frame_image is not None and result is not self.last_result:
            self.last_result = result
            self._attention = item.attention
            self.view.show_frame(item.frame_image, item.heat_image)
            self.view.set_tiles(result.prediction.tiles)
            self.status.show_picture(*result.frame.size, len(result.prediction.tiles))
            self._redecide()
            self.trend.add(result.decision, result.frame.timestamp)
        for hits in item.alarm_frames:  # every frame's, including frames the screen skipped
            self.alarm.offer(hits)
        self._take_coil(item)
        self.status.show_update(update, item.display_dropped, item.repeats)
        self.flagged_count.emit(update.stats.flagged)
        if update.stats.saving is not None:
            self._saved = update.stats.saving.written
        shown_at = self.last_result.frame.timestamp if self.last_result else None
        message = staleness_message(update, shown_at, self._source_name)
        self._picture_live = self._sticky_error is None and (message is None or message[0] != "error")
        self._show_verdict()
        if self._sticky_error is not None:  # a failure stays on screen until the next start
            return
        saving = update.stats.saving
        if saving is not None and saving.errors and saving.last_error:
            self.banner.show_message(
                "error",
                f"Flagged frames cannot be saved: {saving.last_error}. Inspection goes on; frames saved before "
                "are kept. Free disk space or lower the store quota.",
            )
        elif message is not None:
            self.banner.show_message(*message)
        elif self.alarm.active and self.alarm.roll_marks:  # what to do about a damaged roll, until acknowledged
            self.banner.show_message("warning", self.alarm.roll_marks[0].advice())
        elif self._model_notice is not None:  # the picture is live: say what became of the model chosen
            self.banner.show_message(*self._model_notice)
        else:
            self.banner.clear_message()

    def _on_failed(self, message: str) -> None:
        self._loading = False
        self._show_error(message)

    def _on_model_failed(self, message: str) -> None:
        """The session's model did not load: nothing inspects. The pickers go back to the last model that loaded."""
        self._loading = False
        failed = self._starting_model or self._choice()
        saved = self._saved_choice()
        self._show_choice(saved)
        if saved == failed:
            advice = "Choose another model, then press Start."
        else:
            advice = f"The model is set back to {saved.name}, the last one that loaded: press Start to inspect with it."
        self._show_error(f"Cannot load {failed.name}: {message.rstrip('.')}. Nothing is being inspected. {advice}")
        self.model_rejected.emit(failed.spec, message)

    def _on_stopped(self) -> None:
        self._loading = False
        self._running_model = None
        self._picture_live = False
        self._show_verdict()
        self.status.show_stopped("ended" if self._last_state is SourceState.ENDED else "stopped")
        self.model_label.setText("— (not inspecting)")
        self._update_buttons()

    def _show_error(self, message: str) -> None:
        self._sticky_error = message
        self._picture_live = False
        self._show_verdict()
        self.banner.show_message("error", message)
        if not self.view.has_frame:
            self.view.clear("Nothing to show: see the message above.")
        self._update_buttons()

    # -- helpers ------------------------------------------------------------------------------------------------

    def _forget_picture(self) -> None:
        """Drop the previous session's frame, boxes and detections: shown under a new session's banner they would
        pass for the new source's picture (and "Connection lost" for a source that never connected)."""
        self.last_result = None
        self.decision = None
        self._attention = ()
        self._source_name = "the source"
        self.view.clear("Starting…")
        self.table.setRowCount(0)
        self.status.picture.setText("—")
        self._show_verdict()
        self._reset_coil(self._coil or None)  # a new session's positions restart at 0: so does the map

    def _reset_coil(self, coil: str | None) -> None:
        """Show ``coil`` from its start: an empty map, no roll marks."""
        self.coil_track.reset(coil)
        self._roll_marks.clear()
        self.coil_panel.map_view.clear()
        self.coil_panel.bar.show_position(self.coil_track.describe())

    def _take_coil(self, item: DisplayUpdate) -> None:
        """The update's coil, position, closed events (for the map) and roll marks (for the alarm)."""
        track = self.coil_track
        session = self.controller.session
        current = session.coil_clock.coil if session is not None else track.coil
        if current != track.coil:  # changed in the session, not here: the plant's level-2 system sent a new coil
            self._coil = current or ""
            self.coil_panel.bar.set_applied(self._coil)
            self._reset_coil(current)
        if item.coil == track.coil and item.coil_m is not None:
            track.position_m = item.coil_m
        track.add(item.events)
        result = item.update.result
        for found in item.roll_marks:
            frame = result.frame if result is not None else None
            hit = RollMarkHit.from_alarm(
                found, frame.source_id if frame else "", frame.index if frame else -1, frame.timestamp if frame else 0.0
            )
            if hit.key in self._roll_keys:
                continue
            self._roll_keys.add(hit.key)
            if found.mark.coil == track.coil:
                self._roll_marks.append(found.mark)
            self.alarm.raise_roll_mark(hit)
        self.coil_panel.bar.show_position(track.describe())
        names = self.engine_info.class_names if self.engine_info is not None else ()
        self.coil_panel.map_view.show_track(track, names, self._roll_marks)

    def _on_golden_done(self, outcome: GoldenOutcome) -> None:
        self._golden_job = None
        self._golden_shown_at = outcome.result.checked_at
        self.coil_panel.golden.show_result(outcome.result, outcome.record_error)

    def _on_golden_failed(self, message: str) -> None:
        self._golden_job = None
        self.coil_panel.golden.show_error(message)

    def _on_golden_read(self, last) -> None:
        """A store read: shown unless a check is running or one just run is newer than what was read."""
        if self._golden_job is None and (last.time if last is not None else 0.0) >= self._golden_shown_at:
            self.coil_panel.golden.show_last(last)

    def _redecide(self) -> None:
        """Apply the thresholds on screen to the newest result (pure core logic, cheap)."""
        if self.last_result is None or self.engine_info is None:
            return
        names = self.engine_info.class_names
        self.decision = decide(self.last_result.prediction.detections, names, self.thresholds_panel.thresholds())
        self.view.set_boxes(boxes_for(self.decision, names))
        self.view.set_marks(unboxed(self._attention, [tuple(b) for b in self.decision.shown.xyxy.tolist()]))
        self.table.show_decision(self.decision, names)
        self._show_verdict()

    def _show_verdict(self) -> None:
        """The verdict of the frame on screen (as re-decided), greyed out when the picture is not live."""
        status = self.decision.status if self.decision is not None else None
        self.verdict.show_status(status, self._picture_live and self.controller.running)

    def _on_source_chosen(self, spec: str, start: bool = True) -> None:
        self.settings.source = spec
        self.settings_changed.emit()
        if start:
            self.start()

    # -- models: chosen → checked beside the running one → switched to (or refused, the old one going on) --------

    def _choice(self) -> ModelChoice:
        return ModelChoice(self.model_picker.spec(), self.backend.currentText(), self.device.currentText())

    def _saved_choice(self) -> ModelChoice:
        return ModelChoice(self.settings.model, self.settings.backend, self.settings.device)

    def _show_choice(self, choice: ModelChoice) -> None:
        """Show ``choice`` in the pickers without treating it as a new choice."""
        self.model_picker.set_spec(choice.spec)  # emits nothing: only the operator's pick does
        with QSignalBlocker(self.backend), QSignalBlocker(self.device):
            for combo, value in ((self.backend, choice.backend), (self.device, choice.device)):
                if combo.findText(value) < 0:
                    combo.addItem(value)
                combo.setCurrentText(value)

    def _commit_model(self, choice: ModelChoice) -> None:
        """Remember ``choice`` (it has loaded): the only place the model settings change."""
        if choice == self._saved_choice():
            return
        self.settings.model, self.settings.backend, self.settings.device = choice.spec, choice.backend, choice.device
        self.settings_changed.emit()

    def _start_session(self, choice: ModelChoice, engine: Engine | None = None) -> None:
        """Stop the running session and start one with ``choice``: ``engine`` is its model already loaded and
        checked (a switch), else the new session loads and checks it in its own thread."""
        self._check_job = None  # a check in flight is overtaken by this start
        self.controller.stop()
        self._forget_picture()
        self._sticky_error = None
        self._model_notice = None
        session = InspectionSession(
            self.settings.source,  # camera:N stays text: open_source makes it an int index, never a path
            choice.spec,
            backend=choice.backend,
            device=choice.device,
            thresholds=self.settings.thresholds_value(),
            store_factory=None,  # flagged frames are saved by the worker's FlagSaver, which skips repeats
            engine_loader=engine_loader_for(engine),
            sinks=self.plant.sinks(),  # Settings ▸ Plant connection: opened in the background, closed with the session
            context=self.plant.context(self.settings.source),  # this station, the source without its password
            coil_from=self.plant.coil_from,  # the plant's coil id, applied with set_coil while the session runs
            coil_wait_s=self.plant.coil_wait_s,
        )
        if self._coil:  # the coil the operator applied goes on with the new session
            session.set_coil(self._coil)
        self._starting_model = choice
        self.pause_button.setChecked(False)
        self._loading = True
        self._last_update_at = time.monotonic()
        verb = "Switching to" if engine is not None else "Loading"
        self.banner.show_message("info", f"{verb} {choice.describe()}…")
        self.status.show_stopped("starting")
        self._save_rate.reset()
        self.controller.start(session, self._make_saver)
        self._update_buttons()

    def _on_model_chosen(self, *_: object) -> None:
        """A model, backend or device was picked: check it beside whatever runs; nothing changes until it passes."""
        choice = self._choice()
        running = self.controller.running
        current = (self._running_model or self._starting_model) if running else self._saved_choice()
        if choice == current or current is None:  # back to what runs (or is remembered): nothing to check
            self._check_job = None
            self._model_notice = None
            if not running and self._sticky_error is None:
                self.banner.clear_message()
            return
        if self.checking_model == choice:
            return
        job = OneShot(lambda: load_checked_engine(choice), "model-check", self)
        job.choice = choice
        job.done.connect(self._on_model_checked)
        job.failed.connect(self._on_model_check_failed)
        self._check_job = job
        self._oneshots.append(job.start())
        going_on = f"; inspection goes on with {current.name} meanwhile" if running else ""
        self._set_model_notice("info", f"Checking {choice.name} (loading it and running a test prediction){going_on}…")

    def _on_model_checked(self, engine: Engine) -> None:
        job = self.sender()
        if job is None or job is not self._check_job:  # overtaken by a newer choice, a Start, or closing
            engine.close()
            return
        self._check_job = None
        self._model_notice = None
        if self.controller.running:
            self._start_session(job.choice, engine)  # remembered once the new session reports it started
            return
        engine.close()
        self._commit_model(job.choice)
        self._set_model_notice("info", f"{job.choice.name} loaded and passed a test prediction: Start uses it.")

    def _on_model_check_failed(self, message: str) -> None:
        job = self.sender()
        if job is None or job is not self._check_job:
            return
        self._check_job = None
        reason = message.rstrip(".")
        running = self.controller.running and self._running_model is not None
        kept = self._running_model if running and self._running_model is not None else self._saved_choice()
        self._show_choice(kept)
        if running:
            text = f"{job.choice.name} was not loaded: {reason}. Inspection goes on with {kept.name}; nothing changed."
        else:
            text = f"{job.choice.name} was not loaded: {reason}. The model stays {kept.name}."
        self._set_model_notice("warning" if running else "error", text)
        self.model_rejected.emit(job.choice.spec, message)

    def _set_model_notice(self, level: str, text: str) -> None:
        """Say what became of the model chosen: at once, and (while inspecting) whenever the picture is live."""
        self._model_notice = (level, text)
        if not self.controller.running:
            self._sticky_error = None  # a new choice replaces the last failure's message
        if self._sticky_error is None:
            self.banner.show_message(level, text)

    def _on_overlay_changed(self, *_: object) -> None:
        self.settings.heatmap = self.heat_toggle.isChecked()
        self.settings.opacity = self.opacity.value() / 100
        self.settings.show_tiles = self.tiles_toggle.isChecked()
        self.view.set_heat_visible(self.settings.heatmap)
        self.view.set_opacity(self.settings.opacity)
        self.view.set_show_tiles(self.settings.show_tiles)
        self._update_summaries()
        self.settings_changed.emit()

    def _on_section_toggled(self, name: str, expanded: bool) -> None:
        self.settings.sections = {**self.settings.sections, name: expanded}
        self.settings_changed.emit()

    def _update_summaries(self) -> None:
        """What folded sections say in their header."""
        picture = "heatmap " + ("on" if self.heat_toggle.isChecked() else "off")
        if self.tiles_toggle.isChecked():
            picture += ", tiles"
        self.sections["picture"].set_summary(picture)
        raised = len(self._alarm_value().by_class)
        self.sections["alarm"].set_summary(f"{raised} above flag" if raised else "at the flag thresholds")
        self.sections["model"].set_summary(self._saved_choice().name)

    def _alarm_value(self) -> AlarmThresholds:
        try:
            return AlarmThresholds.from_dict(self.settings.alarm)
        except (TypeError, ValueError) as error:
            log.warning("saved alarm thresholds ignored (%s)", error)
            return AlarmThresholds()

    def _on_repeat_window(self, value: float) -> None:
        self.settings.repeat_window_s = float(value)
        saver = self.controller.saver
        if saver is not None:
            saver.window_s = float(value)
        self.settings_changed.emit()

    def _make_saver(self) -> FlagSaver:
        """The running session's saver of flagged frames (called on the worker's thread)."""
        return FlagSaver(self._open_writer_store, self.settings.repeat_window_s)

    def use_plant(self, plant: PlantSettings) -> bool:
        """Use new plant settings (Settings ▸ Plant connection…): flagged frames go to their store from now on, and
        a running session restarts with their sinks, station and coil source. True if inspection was restarted.

        The previous central store's spool keeps what it has not forwarded yet: it goes when that store is used again.
        """
        running = self.controller.running
        self.controller.stop()  # the session closes its sinks and coil reader; its saver writes what is pending
        if self._store is not None:
            self._store.close()
            self._store = None
        with self._writer_lock:
            self._writer_stores = []
        old, self.plant = self.plant, PlantLink(plant)
        old.close(flush_s=0.0)
        self.store_root = self.plant.review_location
        self.status.storage.setText("—")  # until the new store's first frame
        self._show_store_usage()
        if running:
            self.start()
        else:
            self._update_buttons()
        return running

    # -- thresholds and quota: deliberate, and audited -------------------------------------------------------

    def _record_thresholds(self) -> None:
        """One audit row for the thresholds' settled change (old → new); nothing when they came back."""
        new = self.settings.thresholds_value()
        change = audit_events.thresholds_change(self._audited_thresholds, new)
        if not change:
            return
        details = {
            "from": self._audited_thresholds.to_dict(),
            "to": new.to_dict(),
            "changes": change,
            "model": self.engine_info.model_id if self.engine_info is not None else None,
        }
        if self._audit(audit_events.THRESHOLDS_CHANGED, details):
            self._audited_thresholds = new

    def _audit(self, action: str, details: dict) -> bool:
        """Record a settings change; if the store cannot be written the change stands, and the banner says so."""
        try:
            audit_events.record(self.store_root, action, details)
        except (GraceError, *STORE_ERRORS) as error:
            log.warning("%s not recorded in the audit log: %s", action, error)
            self.banner.show_message("warning", f"Changed, but not recorded in the audit log: {error}")
            return False
        return True

    def _on_quota_edited(self, value: float) -> None:
        self.quota_apply.setEnabled(round(value, 2) != self.settings.quota_gb)

    def _confirm_eviction(self, used_bytes: int, new_gb: float) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Lower the store quota?",
            f"The review store holds {used_bytes / GB:.2f} GB of flagged frames. With a quota of {new_gb:.2f} GB the "
            f"oldest unreviewed frames — about {(used_bytes - new_gb * GB) / GB:.2f} GB — are removed as soon as "
            "inspection saves its next flagged frame. Reviewed frames are never removed.\n\nLower the quota?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        answer = box.exec()
        box.deleteLater()
        return answer == QMessageBox.StandardButton.Yes

    def _usage_bytes(self) -> int | None:
        try:
            if self._store is None and store_exists(self.plant.disk_root):
                self._store = ReviewStore.open(self.plant.disk_root, quota_bytes=int(self.settings.quota_gb * GB))
            return self._store.usage_bytes() if self._store is not None else None
        except (GraceError, *STORE_ERRORS) as exc:
            log.warning("review store usage unavailable: %s", exc)
            return None

    def _open_writer_store(self) -> ReviewStore:
        """The session writer's store (called on the writer's thread), with today's quota; kept (weakly) so that
        Apply changes the quota it enforces at once."""
        store = self.plant.open_writer_store(quota_bytes=int(self.settings.quota_gb * GB))  # local, or the spool
        with self._writer_lock:
            self._writer_stores = [ref for ref in self._writer_stores if ref() is not None] + [weakref.ref(store)]
        return store

    def _set_writer_quota(self, quota_bytes: int) -> None:
        """A plain int the writer reads before each eviction pass: safe to set from this thread."""
        with self._writer_lock:
            stores = [ref() for ref in self._writer_stores]
        for store in [self._store, *stores]:
            if store is not None:
                store.quota_bytes = quota_bytes

    def _update_buttons(self) -> None:
        running = self.controller.running
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.start_button.setText("Restart" if running else "Start")
        self.controls_changed.emit()

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
        if self.controller.running:
            self._save_rate.add(time.monotonic(), self._saved)
        try:
            self.status.show_spool(self.plant.spool_status())  # a central store: this station's backlog
            if self._store is None:  # the local folder the quota bounds: the store, or the central store's spool
                if not store_exists(self.plant.disk_root):
                    return
                self._store = ReviewStore.open(self.plant.disk_root, quota_bytes=int(self.settings.quota_gb * 1024**3))
            used, quota = self._store.usage_bytes(), int(self.settings.quota_gb * 1024**3)
            self.status.show_storage(used, quota)
            if self.controller.running:
                frames = self._store.count()
                per_frame = used / frames if frames else None
                self.status.quota_forecast.setText(forecast(used, quota, per_frame, self._save_rate.per_second()))
            else:
                self.status.quota_forecast.setText("—")
        except (GraceError, *STORE_ERRORS) as exc:  # say so, keep inspecting
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
