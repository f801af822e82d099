"""The promotion rule (grace_core.training.compare.check_promotion) and the audit helpers for settings changes."""

from __future__ import annotations

import pytest

from grace_core.flagging import Thresholds
from grace_core.store import ReviewStore, audit_events
from grace_core.training.compare import CLASS_MARGIN, ComparisonRow, check_promotion, compare, comparison_details


def result(map50: float, map50_95: float, classes: dict[str, tuple[float, float]]) -> dict:
    per_class = [{"name": n, "instances": 10, "ap50": a50, "ap50_95": a} for n, (a50, a) in classes.items()]
    return {"instances": 10 * len(classes), "map50": map50, "map50_95": map50_95, "per_class": per_class}


LIVE = result(0.60, 0.40, {"pit": (0.6, 0.4), "scratch": (0.6, 0.4)})


def test_a_run_better_everywhere_is_not_worse():
    check = check_promotion(compare(result(0.62, 0.42, {"pit": (0.61, 0.41), "scratch": (0.6, 0.4)}), LIVE))
    assert check.comparable and not check.worse and not check.needs_reason and check.verdict == "not_worse"


def test_the_0_00_against_47_6_run_of_issue_18_is_worse():
    live = result(0.582, 0.476, {"pit": (0.6, 0.5)})
    check = check_promotion(compare(result(0.0, 0.0, {"pit": (0.0, 0.0)}), live))
    assert check.worse and check.needs_reason
    assert check.reasons[0] == "mAP50-95 0.00 vs live 47.60 (-47.60)"


@pytest.mark.parametrize(
    ("overall", "pit", "worse"),
    [
        ((0.60, 0.399), (0.6, 0.4), True),  # overall mAP50-95 lower (by 0.1 point)
        ((0.599, 0.40), (0.6, 0.4), True),  # overall mAP50 lower (by 0.1 point)
        ((0.61, 0.41), (0.6, 0.4 - CLASS_MARGIN + 0.001), False),  # a class within the margin
        ((0.61, 0.41), (0.6, 0.4 - CLASS_MARGIN - 0.001), True),  # a class beyond it (AP50-95)
        ((0.61, 0.41), (0.6 - CLASS_MARGIN - 0.001, 0.4), True),  # a class beyond it (AP50)
    ],
)
def test_the_margins(overall, pit, worse):
    check = check_promotion(compare(result(*overall, {"pit": pit, "scratch": (0.6, 0.4)}), LIVE))
    assert check.worse is worse


def test_a_class_the_run_does_not_detect_is_worse():
    check = check_promotion(compare(result(0.7, 0.5, {"pit": (0.7, 0.5)}), LIVE))
    assert check.worse and "scratch AP50-95: the run does not detect this class" in check.reasons[0]


def test_no_like_for_like_comparison_needs_a_reason():
    unscored = check_promotion(compare(result(0.7, 0.5, {"pit": (0.7, 0.5)}), {}))
    assert not unscored.comparable and not unscored.worse and unscored.needs_reason
    assert unscored.verdict == "not_compared"
    stale = check_promotion(compare(result(0.7, 0.5, {"pit": (0.7, 0.5)}), LIVE), "shipped", "/runs/a/best.onnx")
    assert stale.needs_reason and "live model is now /runs/a/best.onnx" in stale.reasons[0]
    assert check_promotion([]).needs_reason


def test_comparison_details_hold_both_scores_and_the_delta():
    rows = compare(result(0.5, 0.3, {"pit": (0.5, 0.3)}), LIVE)
    details = comparison_details(rows, check_promotion(rows))
    assert details["run_map50_95"] == 0.3 and details["live_map50_95"] == 0.4
    assert details["delta_map50_95"] == pytest.approx(-0.1) and details["delta_map50"] == pytest.approx(-0.1)
    assert details["per_class"]["pit"]["delta_ap50_95"] == pytest.approx(-0.1)
    assert details["per_class"]["scratch"]["run_ap50_95"] is None and details["verdict"] == "worse"
    assert isinstance(rows[0], ComparisonRow) and details["reasons"]


def test_thresholds_change_lists_effective_changes_only():
    old = Thresholds()
    same = Thresholds(flag={"pit": 0.5}, uncertain={"pit": 0.25})  # the defaults, spelled out
    assert audit_events.thresholds_change(old, same) == {}
    new = Thresholds(flag={"pit": 0.7}, iou=0.5, visible=frozenset({"pit"}))
    change = audit_events.thresholds_change(same, new)
    assert change == {"classes": {"pit": {"flag": [0.5, 0.7]}}, "iou": [0.7, 0.5]}
    hidden = audit_events.thresholds_change(Thresholds(visible=frozenset({"pit", "scratch"})), new)
    assert hidden["classes"]["scratch"] == {"visible": [True, False]}


def test_record_appends_one_row_with_the_user(tmp_path):
    row = audit_events.record(tmp_path / "store", audit_events.QUOTA_CHANGED, {"from_gb": 2.0, "to_gb": 1.0})
    with ReviewStore.open_existing(tmp_path / "store") as store:
        (entry,) = store.audit_log()
    assert entry.id == row and entry.action == "quota_changed" and entry.actor == audit_events.current_user()
    assert entry.details == {"from_gb": 2.0, "to_gb": 1.0}
