"""Threshold and quota changes in the live tab are deliberate and audited: a slider drag is one audit record with old
and new values; the quota changes only on Apply or Enter, after a confirmation when it would remove frames."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.dialogs import when_modal
from helpers.flagged_frames import T0, make_store
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.live.live_tab import THRESHOLDS_SETTLE_MS
from app.settings import load_live_settings
from grace_core.flagging import Thresholds
from grace_core.store import ReviewStore, audit_events

NEU_DET = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
GB = 1024**3


def audit_rows(root: Path, action: str) -> list:
    if not (root / "review.db").exists():
        return []
    with ReviewStore.open_existing(root) as store:
        return [entry for entry in store.audit_log(limit=1000) if entry.action == action]


def test_a_threshold_drag_is_one_audit_record_with_old_and_new_values(qtbot, make_window, tmp_path):
    root = tmp_path / "review"
    window = make_window(store_root=root)
    live = window.live
    live.thresholds_panel.set_classes(NEU_DET, Thresholds())
    slider = live.thresholds_panel.slider("scratches")
    for value in [(0.25, 0.52), (0.26, 0.58), (0.28, 0.64), (0.3, 0.7)]:  # a drag: many small steps
        slider.setValue(value)
        qtbot.wait(50)
    assert audit_rows(root, audit_events.THRESHOLDS_CHANGED) == []  # not while it is still moving
    qtbot.waitUntil(lambda: len(audit_rows(root, audit_events.THRESHOLDS_CHANGED)) == 1, timeout=10_000)
    qtbot.wait(THRESHOLDS_SETTLE_MS + 300)
    (entry,) = audit_rows(root, audit_events.THRESHOLDS_CHANGED)
    assert entry.actor
    assert entry.details["changes"] == {"classes": {"scratches": {"flag": [0.5, 0.7], "uncertain": [0.25, 0.3]}}}
    assert entry.details["from"]["default_flag"] == 0.5 and entry.details["to"]["flag"]["scratches"] == 0.7

    live.thresholds_panel.visibility("patches").setChecked(False)  # a later, separate change: its own record
    window.close()  # closing before it settles still records it
    rows = audit_rows(root, audit_events.THRESHOLDS_CHANGED)
    assert len(rows) == 2 and rows[0].details["changes"] == {"classes": {"patches": {"visible": [True, False]}}}


@pytest.fixture
def full_store(tmp_path, monkeypatch) -> Path:
    """A real store whose files are reported as 1.5 GB (so a lower quota would remove frames)."""
    root = tmp_path / "review"
    make_store(root, [{"boxes": [(0, 0.9, (5, 5, 40, 30))], "t": T0 + i} for i in range(3)])
    monkeypatch.setattr(ReviewStore, "usage_bytes", lambda self: int(1.5 * GB))
    return root


def test_a_quota_that_would_remove_frames_asks_first_and_is_audited(qtbot, make_window, full_store):
    window = make_window(store_root=full_store)
    live = window.live
    live.quota.setValue(0.5)  # typed (or wheeled, once focused) into the box: nothing happens yet
    assert live.settings.quota_gb == 2.0 and live.quota_apply.isEnabled()

    def cancel(box: QMessageBox) -> None:
        assert "1.50 GB" in box.text() and "about 1.00 GB" in box.text() and "never removed" in box.text()
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)  # Enter does not evict
        box.button(QMessageBox.StandardButton.Cancel).click()

    asked = when_modal(cancel)
    qtbot.mouseClick(live.quota_apply, Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    assert live.settings.quota_gb == 2.0 and live.quota.value() == 2.0  # cancelled: back as it was
    assert audit_rows(full_store, audit_events.QUOTA_CHANGED) == []

    live.quota.setValue(0.5)
    asked = when_modal(lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    qtbot.mouseClick(live.quota_apply, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and live.settings.quota_gb == 0.5 and not live.quota_apply.isEnabled()
    (entry,) = audit_rows(full_store, audit_events.QUOTA_CHANGED)
    assert (entry.details["from_gb"], entry.details["to_gb"], entry.details["used_bytes"]) == (2.0, 0.5, int(1.5 * GB))
    window.close()
    assert load_live_settings().quota_gb == 0.5


def test_a_quota_that_removes_nothing_applies_on_enter_without_asking(qtbot, make_window, full_store):
    window = make_window(store_root=full_store)
    live = window.live
    live.quota.setValue(4.0)
    asked = when_modal(lambda box: box.reject(), timeout_ms=500)
    qtbot.keyClick(live.quota, Qt.Key.Key_Return)
    qtbot.wait(600)
    assert asked == [] and live.settings.quota_gb == 4.0
    (entry,) = audit_rows(full_store, audit_events.QUOTA_CHANGED)
    assert (entry.details["from_gb"], entry.details["to_gb"]) == (2.0, 4.0)
