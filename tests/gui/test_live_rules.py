"""The live tab's pure rules: label placement, the alarm rule, the quota forecast, strong attention without a box."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.live.alarm import AlarmThresholds, alarm_hits
from app.live.attention import strong_regions, unboxed
from app.live.label_placement import Rect, place_labels
from app.live.quota_forecast import SaveRate, forecast, format_duration
from grace_core.detections import Detections
from grace_core.flagging import Thresholds, decide

NAMES = ("crazing", "inclusion", "scratches")
BOUNDS = Rect(0, 0, 400, 300)


def no_two_overlap(spots: list[Rect | None]) -> bool:
    placed = [s for s in spots if s is not None]
    return not any(a.intersects(b) for a, b in itertools.combinations(placed, 2))


def test_a_label_goes_above_its_box_then_below_then_inside() -> None:
    box = Rect(100, 100, 80, 60)
    assert place_labels([box], [(60, 14)], BOUNDS) == [Rect(100, 86, 60, 14)]  # above
    at_top = Rect(100, 2, 80, 60)
    assert place_labels([at_top], [(60, 14)], BOUNDS) == [Rect(100, 62, 60, 14)]  # no room above: below
    whole = Rect(0, 0, 400, 300)
    assert place_labels([whole], [(60, 14)], BOUNDS) == [Rect(0, 1, 60, 14)]  # fills the picture: inside


def test_nested_boxes_get_labels_that_do_not_overlap() -> None:
    # the field report: inclusion 0.55 with inclusion 0.26 ? nested in it, both labels at the same corner
    outer, inner = Rect(100, 100, 120, 120), Rect(104, 104, 60, 60)
    spots = place_labels([outer, inner], [(110, 16), (120, 16)], BOUNDS)
    assert all(spots) and no_two_overlap(spots)


def test_labels_never_overlap_and_are_skipped_when_nothing_fits() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        boxes = []
        for _ in range(rng.integers(2, 30)):
            x, y = rng.uniform(0, 380), rng.uniform(0, 280)
            boxes.append(Rect(x, y, rng.uniform(5, 400 - x), rng.uniform(5, 300 - y)))
        sizes = [(float(rng.uniform(40, 140)), 16.0) for _ in boxes]
        spots = place_labels(boxes, sizes, BOUNDS)
        assert no_two_overlap(spots)
        assert all(BOUNDS.contains(s) for s in spots if s is not None)
    crowded = [Rect(10, 10, 20, 20)] * 40  # forty boxes on one spot: a few labels, the rest left out
    spots = place_labels(crowded, [(60, 16)] * 40, BOUNDS)
    assert 0 < sum(s is not None for s in spots) < 40 and no_two_overlap(spots)


def test_a_label_near_the_right_edge_moves_in() -> None:
    spot = place_labels([Rect(380, 100, 20, 20)], [(80, 14)], BOUNDS)[0]
    assert spot is not None and spot.right <= BOUNDS.right


def detections(*items: tuple[int, float]) -> Detections:
    boxes = [[10 + 50 * i, 10, 40 + 50 * i, 40] for i in range(len(items))]
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), [s for _, s in items], [c for c, _ in items])


def test_a_defect_alarms_at_its_alarm_threshold_which_defaults_to_the_flag_threshold() -> None:
    thresholds = Thresholds(flag={"scratches": 0.6})
    decision = decide(detections((2, 0.65), (0, 0.45), (1, 0.55)), NAMES, thresholds)
    hits = alarm_hits(decision, NAMES, thresholds, AlarmThresholds(), "camera:0", 7, 100.0)
    assert [(h.class_name, round(h.score, 2)) for h in hits] == [("scratches", 0.65), ("inclusion", 0.55)]
    assert hits[0].source_id == "camera:0" and hits[0].frame_index == 7  # uncertain crazing 0.45: no alarm
    stricter = AlarmThresholds({"scratches": 0.8, "inclusion": 0.3})  # 0.3 < flag: inclusion alarms at its flag
    assert [h.class_name for h in alarm_hits(decision, NAMES, thresholds, stricter)] == ["inclusion"]
    hidden = Thresholds(flag={"scratches": 0.6}, visible=frozenset({"crazing"}))
    assert alarm_hits(decide(detections((2, 0.9)), NAMES, hidden), NAMES, hidden, AlarmThresholds()) == ()


def test_alarm_thresholds_are_checked_and_round_trip() -> None:
    alarm = AlarmThresholds.from_dict({"scratches": 0.8})
    assert AlarmThresholds.from_dict(alarm.to_dict()) == alarm
    with pytest.raises(ValueError, match="scratches"):
        AlarmThresholds({"scratches": 1.5})


def test_the_quota_forecast_reads_as_time() -> None:
    rate = SaveRate(window_s=300)
    assert rate.per_second() is None
    for second in range(0, 61, 5):
        rate.add(float(second), second // 5)  # one frame saved every 5 s
    assert rate.per_second() == pytest.approx(0.2)
    mb = 2**20
    text = forecast(used_bytes=500 * mb, quota_bytes=2048 * mb, bytes_per_frame=0.1 * mb, frames_per_s=0.2)
    assert text.startswith("quota lasts ≈ 21 h at the current rate") and "12 saved/min" in text
    full = forecast(used_bytes=2048 * mb, quota_bytes=2048 * mb, bytes_per_frame=0.1 * mb, frames_per_s=10.0)
    assert full.startswith("quota full: it holds ≈ 34 min of flagged frames")
    assert "not being used up" in forecast(10, 100, 1.0, 0.0)
    assert forecast(10, 100, None, 0.2) == "measuring the flag rate…"
    assert [format_duration(s) for s in (30, 5400, 6 * 3600, 30 * 3600, 5 * 86400)] == [
        "1 min", "1.5 h", "6 h", "30 h", "5 days"
    ]  # fmt: skip
    rate.add(70.0, 0)  # a new session: its counter starts again
    assert rate.per_second() is None


def test_strong_attention_without_a_box_is_found_on_a_map_smaller_than_the_frame() -> None:
    strength = np.zeros((100, 200), np.float32)
    strength[10:30, 20:40] = 0.95  # a region the model looked at hard
    strength[60:90, 150:190] = 0.9
    strength[50, 50] = 1.0  # a speck
    regions = strong_regions(strength, frame_width=2000, frame_height=1000)  # the map is a tenth of the frame
    assert regions == ((1500.0, 600.0, 1900.0, 900.0), (200.0, 100.0, 400.0, 300.0))
    assert unboxed(regions, [(1600.0, 650.0, 1700.0, 700.0)]) == [(200.0, 100.0, 400.0, 300.0)]
    assert strong_regions(np.full((10, 10), 0.5, np.float32), 10, 10) == ()
