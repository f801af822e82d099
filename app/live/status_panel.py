"""Readouts (frame rate, latency, picture size and tiles, drops, saving, how long the quota lasts) and the banner
that says when the picture is not live."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from app.plant.status_text import sinks_text, spool_text
from grace_core.inspection import InspectionUpdate
from grace_core.sinks import SinkStats
from grace_core.sources.types import SourceState
from grace_core.store.spool import SpoolStatus

STATE_TEXT = {
    SourceState.CONNECTING: "connecting",
    SourceState.LIVE: "live",
    SourceState.STALE: "STALE",
    SourceState.RECONNECTING: "reconnecting",
    SourceState.ENDED: "ended",
    SourceState.FAILED: "failed",
}


def staleness_message(
    update: InspectionUpdate, last_frame_time: float | None, source_name: str = "the source"
) -> tuple[str, str] | None:
    """(level, text) for the banner when the picture on screen is not a live one; None when it is.

    ``last_frame_time``: capture time of the frame on screen, None when this session has shown none yet, which is
    how a source that never connected ("Cannot connect") is told from one that lost its link ("Connection lost").
    ``source_name`` is shown as is: pass a redacted description, never a URL with its password.
    """
    shown_at = time.strftime("%H:%M:%S", time.localtime(last_frame_time)) if last_frame_time is not None else "never"
    state = update.state
    if update.paused:
        return "info", f"Paused — the picture is from {shown_at}."
    if state is SourceState.STALE:
        return (
            "error",
            f"STALE PICTURE — no new frame for {update.seconds_since_frame:.1f} s; the image shown was captured "
            f"at {shown_at}. Check the camera or cable.",
        )
    if state is SourceState.RECONNECTING and last_frame_time is None:
        return (
            "error",
            f"Cannot connect to {source_name} — retrying. Check that the camera is connected and on, and that the "
            "address and credentials are right.",
        )
    if state is SourceState.RECONNECTING:
        return (
            "error",
            f"Connection lost to {source_name} — reconnecting. The image shown was captured at {shown_at}.",
        )
    if state is SourceState.CONNECTING:
        return "info", "Connecting to the source…"
    if state is SourceState.ENDED:
        return "warning", "The source has ended (end of the video or folder). Press Start to inspect it again."
    return None


class StatusPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = self.form = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.state = QLabel("stopped")
        self.model = QLabel("none")
        self.model.setWordWrap(True)
        self.model.setToolTip("The model inspecting now: a new one is named here only once it has loaded and passed")
        self.fps = QLabel("—")
        self.latency = QLabel("—")
        self.latency.setToolTip(
            "Per frame: preparing, inference and decoding — for a sliced frame all its tiles and "
            "the merging of their detections"
        )
        self.picture = QLabel("—")
        self.picture.setWordWrap(True)
        self.dropped = QLabel("—")
        self.dropped.setWordWrap(True)
        self.flagged = QLabel("0")
        self.flagged.setWordWrap(True)
        self.storage = QLabel("—")
        self.storage.setWordWrap(True)
        self.quota_forecast = QLabel("—")
        self.quota_forecast.setWordWrap(True)
        self.quota_forecast.setToolTip(
            "At the rate flagged frames were saved over the last minutes. Once the quota is full, the oldest "
            "unreviewed frames are removed: review them within that time."
        )
        for label, widget in (
            ("Source", self.state),
            ("Model running", self.model),
            ("Frame rate", self.fps),
            ("Latency p50 / p95", self.latency),
            ("Picture", self.picture),
            ("Dropped frames", self.dropped),
            ("Flagged frames", self.flagged),
            ("Review store", self.storage),
            ("Quota", self.quota_forecast),
        ):
            layout.addRow(label, widget)
        self.sinks = QLabel("—")  # each sink's deliveries and drops; a failure is a warning, never a stop
        self.sinks.setWordWrap(True)
        self.sinks.setToolTip("Where results go besides the review store (Settings ▸ Plant connection…)")
        self.spool = QLabel("—")  # a central store: reachable or not, and the frames waiting in this station's spool
        self.spool.setWordWrap(True)
        self.spool.setToolTip(
            "Flagged frames are saved here first and forwarded to the central store in order; "
            "nothing is lost while it is unreachable (up to the store quota)"
        )
        layout.addRow("Plant outputs", self.sinks)
        layout.addRow("Central store", self.spool)

    def show_model(self, text: str | None, path: str = "") -> None:
        """Name the model inspecting now; None: no model runs (stopped, or the one chosen did not load)."""
        self.model.setText(text or "none")
        self.model.setToolTip(path)

    def show_stopped(self, why: str = "stopped") -> None:
        """Nothing inspects: no frame rate or latency is shown as if it were current."""
        self.state.setText(why)
        self.fps.setText("—")
        self.latency.setText("—")
        self.show_model(None)

    def show_picture(self, width: int, height: int, tiles: int) -> None:
        """The frame's size, and how many tiles it was cut into (0: inspected whole)."""
        how = f"sliced into {tiles} tiles" if tiles else "inspected whole"
        self.picture.setText(f"{width} × {height} px, {how}")

    def show_sinks(self, sinks: Sequence[SinkStats]) -> None:
        text, warning = sinks_text(sinks)
        _show(self.sinks, text, warning)

    def show_spool(self, status: SpoolStatus | None) -> None:
        text, warning = spool_text(status)
        _show(self.spool, text, warning)

    def show_update(self, update: InspectionUpdate, display_dropped: int, repeats: int = 0) -> None:
        stats = update.stats
        self.show_sinks(stats.sinks)
        self.state.setText(STATE_TEXT[update.state] + (" (paused)" if update.paused else ""))
        self.fps.setText(f"{stats.fps:.1f} fps")
        if stats.latency_p50_ms is not None:
            self.latency.setText(f"{stats.latency_p50_ms:.1f} / {stats.latency_p95_ms:.1f} ms")
        self.dropped.setText(f"{stats.dropped} at the source, {display_dropped} not drawn")
        saving = stats.saving
        if saving is None:
            self.flagged.setText(f"{stats.flagged} (saving off)")
            return
        text = f"{stats.flagged} flagged, {saving.written} saved"
        if repeats:
            text += f", {repeats} repeats of an unchanged scene not saved"
        if saving.dropped:
            text += f", {saving.dropped} not saved (disk too slow)"
        if saving.errors:
            text += f", {saving.errors} failed"
        self.flagged.setText(text)
        if saving.evicted:
            self.storage.setText(f"quota reached: {saving.evicted} oldest unreviewed frames removed")

    def show_storage(self, used_bytes: int, quota_bytes: int) -> None:
        self.storage.setText(f"{used_bytes / 2**20:.1f} MB of {quota_bytes / 2**30:.1f} GB")
        self.storage.setToolTip("When the quota is full, the oldest unreviewed frames are removed first")


WARNING_STYLE = "QLabel { background:#f2b705; color:black; padding:1px 3px; }"


def _show(label: QLabel, text: str, warning: bool) -> None:
    """``text`` in ``label``, on the banner's warning colour when something needs the operator's attention."""
    label.setText(text)
    label.setStyleSheet(WARNING_STYLE if warning else "")
