"""Promotion is never one click: the Δ is always confirmed, a worse run needs a typed reason, everything is audited,
the live tab checks the file before it switches, and the previous model can be rolled back to.

The runs are made here (weights copied from the shipped model, comparison JSON as ``grace val --json`` writes it), so
the tests need no training; the dialogs, the audit log and the live tab's model check are the real ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.dialogs import when_modal
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.settings import load_training_settings
from app.training.promotion_dialogs import PromotionDialog
from grace_core.engine.metadata import metadata_path
from grace_core.models import default_model
from grace_core.store import ReviewStore, audit_events
from grace_core.training.runs import load_run

CHECK_MS = 60_000  # the live tab loads and test-runs the promoted model on a busy 2-core machine
CLASSES = ("crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches")
LIVE = {"map50": 0.582, "map50_95": 0.476, "ap50": 0.58, "ap50_95": 0.47}


def val_json(map50: float, map50_95: float, ap50: float, ap50_95: float) -> dict:
    per_class = [{"name": n, "images": 60, "instances": 80, "ap50": ap50, "ap50_95": ap50_95} for n in CLASSES]
    return {
        "split": "val",
        "images": 360,
        "instances": 480,
        "map50": map50,
        "map50_95": map50_95,
        "per_class": per_class,
    }


def make_run(runs: Path, name: str, scores: dict, truncated: bool = False) -> Path:
    """A finished run whose best model is the shipped one (exported to ONNX), compared with the shipped live model."""
    folder = runs / name
    (folder / "weights").mkdir(parents=True)
    (folder / "grace_job.json").write_text(json.dumps({"data": "neu/data.yaml", "imgsz": 224, "device": "cpu"}))
    shutil.copy(default_model("torch"), folder / "weights" / "best.pt")
    onnx = folder / "weights" / "best.onnx"
    data = default_model("onnxruntime").read_bytes()
    onnx.write_bytes(data[: len(data) // 2] if truncated else data)
    shutil.copy(metadata_path(default_model("onnxruntime")), metadata_path(onnx))
    compare = folder / "compare"
    compare.mkdir()
    (compare / "candidate.json").write_text(json.dumps(val_json(**scores)))
    (compare / "live.json").write_text(json.dumps(val_json(**LIVE)))
    (compare / "live_model.txt").write_text("shipped")
    return folder


def training_tab(make_window, tmp_path: Path, name: str, scores: dict, truncated: bool = False):
    window = make_window()
    tab = window.training
    window.tabs.setCurrentWidget(tab)
    folder = make_run(tmp_path / "runs", name, scores, truncated)
    tab.show_run(load_run(folder))
    assert tab.promotion.promote_button.isEnabled()
    return window, tab, folder / "weights" / "best.onnx"


def audit(tmp_path: Path, action: str) -> list:
    root = tmp_path / "review"
    if not (root / "review.db").exists():
        return []
    with ReviewStore.open_existing(root) as store:
        return [entry for entry in store.audit_log(limit=100) if entry.action == action]


def test_a_worse_run_needs_a_typed_reason_is_audited_and_can_be_rolled_back(qtbot, make_window, tmp_path):
    window, tab, onnx = training_tab(
        make_window, tmp_path, "worse", {"map50": 0, "map50_95": 0, "ap50": 0, "ap50_95": 0}
    )
    promotion = tab.promotion

    def look_and_cancel(dialog: PromotionDialog) -> None:
        assert isinstance(dialog, PromotionDialog)
        overall = [dialog.delta_table.item(0, column).text() for column in range(7)]
        assert overall == ["all", "0.00", "47.60", "-47.60", "0.00", "58.20", "-58.20"]
        assert dialog.delta_table.rowCount() == 1 + len(CLASSES)  # Δ per class too
        assert dialog.verdict.text().startswith("Worse than the live model: mAP50-95 0.00 vs live 47.60 (-47.60)")
        assert dialog.reason_edit.isVisible() and not dialog.confirm_button.isEnabled()
        qtbot.keyClicks(dialog.reason_edit, "   ")
        assert not dialog.confirm_button.isEnabled()  # blanks are no reason
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel), Qt.MouseButton.LeftButton)

    shown = when_modal(look_and_cancel)
    qtbot.mouseClick(promotion.promote_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1 and audit(tmp_path, audit_events.MODEL_PROMOTED) == []
    assert window.live.settings.model == "shipped" and window.live.checking_model is None

    def give_a_reason(dialog: PromotionDialog) -> None:
        qtbot.keyClicks(dialog.reason_edit, "new scale defects on line 2; approved by QA")
        assert dialog.confirm_button.isEnabled() and dialog.confirm_button.text() == "Make it live anyway"
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)

    shown = when_modal(give_a_reason)
    qtbot.mouseClick(promotion.promote_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1
    (entry,) = audit(tmp_path, audit_events.MODEL_PROMOTED)
    details = entry.details
    assert entry.actor and entry.at > 0
    assert details["model"] == str(onnx) and details["previous_model"] == "shipped" and details["run_name"] == "worse"
    assert details["override_reason"] == "new scale defects on line 2; approved by QA"
    assert details["verdict"] == "worse" and details["run_map50_95"] == 0 and details["live_map50_95"] == 0.476
    assert abs(details["delta_map50_95"] + 0.476) < 1e-9 and abs(details["delta_map50"] + 0.582) < 1e-9
    assert details["per_class"]["scratches"]["delta_ap50_95"] == -0.47

    qtbot.waitUntil(lambda: window.live.settings.model == str(onnx), timeout=CHECK_MS)  # checked, then live
    assert "best.onnx is now live" in tab.banner.text()
    assert load_training_settings().previous_live_model == "shipped"
    assert promotion.rollback_button.isEnabled()

    def confirm_rollback(box: QMessageBox) -> None:
        assert "Put shipped back as the live model" in box.text()
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).click()

    shown = when_modal(confirm_rollback)
    qtbot.mouseClick(promotion.rollback_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1
    (entry,) = audit(tmp_path, audit_events.MODEL_ROLLED_BACK)
    assert entry.details == {"model": "shipped", "from_model": str(onnx)} and entry.actor
    qtbot.waitUntil(lambda: window.live.settings.model == "shipped", timeout=CHECK_MS)
    assert "Rolled back: shipped is the live model again" in tab.banner.text()
    assert not promotion.rollback_button.isEnabled() and load_training_settings().previous_live_model == ""


def test_a_run_that_is_not_worse_is_still_confirmed_with_its_delta(qtbot, make_window, tmp_path):
    better = {"map50": 0.6, "map50_95": 0.48, "ap50": 0.59, "ap50_95": 0.46}  # every class within 2 AP points
    window, tab, onnx = training_tab(make_window, tmp_path, "better", better)

    def confirm(dialog: PromotionDialog) -> None:
        assert not dialog.reason_edit.isVisible() and dialog.confirm_button.isEnabled()
        assert dialog.verdict.text().startswith("Not worse than the live model")
        assert dialog.delta_table.item(0, 3).text() == "+0.40" and dialog.delta_table.item(1, 3).text() == "-1.00"
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)

    shown = when_modal(confirm)
    qtbot.mouseClick(tab.promotion.promote_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1
    (entry,) = audit(tmp_path, audit_events.MODEL_PROMOTED)
    assert entry.details["verdict"] == "not_worse" and entry.details["override_reason"] is None
    qtbot.waitUntil(lambda: window.live.settings.model == str(onnx), timeout=CHECK_MS)


def test_a_promoted_file_that_does_not_load_leaves_the_live_model_and_says_so(qtbot, make_window, tmp_path):
    better = {"map50": 0.6, "map50_95": 0.48, "ap50": 0.59, "ap50_95": 0.47}
    window, tab, onnx = training_tab(make_window, tmp_path, "damaged", better, truncated=True)
    shown = when_modal(lambda dialog: qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton))
    qtbot.mouseClick(tab.promotion.promote_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1
    qtbot.waitUntil(lambda: audit(tmp_path, audit_events.MODEL_PROMOTION_FAILED) != [], timeout=CHECK_MS)
    assert tab.banner.level == "error" and "best.onnx did not become the live model" in tab.banner.text()
    assert "shipped stays live" in tab.banner.text()
    assert window.live.settings.model == "shipped" and tab.promotion.live_model == "shipped"
    assert not tab.promotion.rollback_button.isEnabled()
    (failed,) = audit(tmp_path, audit_events.MODEL_PROMOTION_FAILED)
    assert failed.details["model"] == str(onnx) and "not a readable ONNX model" in failed.details["error"]
