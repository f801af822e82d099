"""What is drawn and flagged without repetition: contained duplicates (nested boxes of one class) and re-flags of an
unchanged scene."""

from __future__ import annotations

import numpy as np

from grace_core.detections import Detections
from grace_core.flagging import FlaggedScene, RepeatFilter, Thresholds, decide

NAMES = ("crazing", "inclusion", "patches")


def boxes(*items: tuple[int, float, tuple[float, float, float, float]]) -> Detections:
    """Detections from (class id, score, xyxy)."""
    return Detections(
        np.array([b for _, _, b in items], dtype=np.float32).reshape(-1, 4),
        [s for _, s, _ in items],
        [c for c, _, _ in items],
    )


def test_a_weaker_box_inside_a_stronger_one_of_its_class_is_neither_drawn_nor_flagged() -> None:
    # the field report: "inclusion 0.55" with "inclusion 0.26 ?" nested inside it, labels on top of each other
    nested = boxes((1, 0.26, (20, 20, 40, 60)), (1, 0.55, (10, 10, 50, 90)))
    decision = decide(nested, NAMES, Thresholds())
    assert decision.status == "defect"
    assert len(decision.shown) == 1 and decision.shown.confidence[0] == np.float32(0.55)
    assert len(decision.uncertain) == 0  # the nested one no longer sends the frame to review on its own


def test_a_nested_box_of_another_class_or_a_stronger_nested_box_stays() -> None:
    other_class = boxes((0, 0.3, (20, 20, 40, 60)), (1, 0.55, (10, 10, 50, 90)))
    assert len(decide(other_class, NAMES, Thresholds()).shown) == 2
    stronger_inside = boxes((1, 0.9, (20, 20, 40, 60)), (1, 0.3, (10, 10, 50, 90)))  # a defect inside a vague area
    assert len(decide(stronger_inside, NAMES, Thresholds()).shown) == 2
    side_by_side = boxes((1, 0.3, (0, 0, 20, 20)), (1, 0.6, (15, 0, 35, 20)))  # a quarter inside: not a duplicate
    assert len(decide(side_by_side, NAMES, Thresholds()).shown) == 2


def test_the_containment_rule_can_be_turned_off_and_keeps_input_order() -> None:
    nested = boxes((2, 0.4, (0, 0, 5, 5)), (1, 0.26, (20, 20, 40, 60)), (1, 0.55, (10, 10, 50, 90)))
    kept = decide(nested, NAMES, Thresholds())
    np.testing.assert_array_equal(kept.shown.class_id, [2, 1])
    assert kept.shown.confidence[1] == np.float32(0.55)
    assert len(decide(nested, NAMES, Thresholds(), contained_ios=None).shown) == 3


def test_a_hidden_or_ignored_box_suppresses_nothing() -> None:
    # a big box below its uncertain threshold is not shown, so it cannot make a shown box a duplicate
    nested = boxes((1, 0.3, (20, 20, 40, 60)), (1, 0.1, (10, 10, 50, 90)))
    assert len(decide(nested, NAMES, Thresholds()).shown) == 1


def flagged(*items) -> object:
    return decide(boxes(*items), NAMES, Thresholds())


def test_an_unchanged_scene_is_flagged_once_per_window_per_source() -> None:
    scene = ((1, 0.8, (10, 10, 50, 50)), (2, 0.3, (100, 100, 150, 140)))
    jittered = ((1, 0.78, (12, 11, 51, 52)), (2, 0.32, (98, 101, 151, 139)))
    repeats = RepeatFilter(window_s=30.0)
    assert repeats.admit("camera:0", 100.0, flagged(*scene))
    assert not repeats.admit("camera:0", 100.1, flagged(*jittered))  # the same boxes, a frame later
    assert not repeats.admit("camera:0", 129.0, flagged(*scene))
    assert repeats.admit("camera:0", 130.5, flagged(*scene))  # still there after the window: flagged again
    assert not repeats.admit("camera:0", 131.0, flagged(*scene))
    assert repeats.admit("camera:1", 131.0, flagged(*scene))  # another source is its own scene
    assert repeats.repeats == 3


def test_a_changed_scene_is_flagged_at_once() -> None:
    repeats = RepeatFilter(window_s=30.0)
    assert repeats.admit("s", 0.0, flagged((1, 0.8, (10, 10, 50, 50))))
    assert repeats.admit("s", 0.1, flagged((1, 0.8, (30, 30, 70, 70))))  # moved: IoU 0.22
    assert repeats.admit("s", 0.2, flagged((0, 0.8, (30, 30, 70, 70))))  # another class
    assert repeats.admit("s", 0.3, flagged((0, 0.8, (30, 30, 70, 70)), (2, 0.9, (0, 0, 9, 9))))  # one more box
    assert repeats.admit("s", 0.4, flagged((0, 0.3, (30, 30, 70, 70)), (2, 0.9, (0, 0, 9, 9))))  # defect → uncertain
    assert repeats.admit("s", 0.3, flagged((0, 0.3, (30, 30, 70, 70)), (2, 0.9, (0, 0, 9, 9))))  # time went back
    assert repeats.repeats == 0


def test_clear_frames_are_never_admitted_and_window_zero_flags_every_frame() -> None:
    repeats = RepeatFilter(window_s=30.0)
    assert not repeats.admit("s", 0.0, flagged((1, 0.1, (10, 10, 50, 50))))  # clear
    every = RepeatFilter(window_s=0)
    assert every.admit("s", 0.0, flagged((1, 0.8, (10, 10, 50, 50))))
    assert every.admit("s", 0.1, flagged((1, 0.8, (10, 10, 50, 50))))


def test_scene_matching_pairs_boxes_one_to_one() -> None:
    two_close = FlaggedScene.of(flagged((1, 0.8, (0, 0, 40, 40)), (1, 0.8, (100, 0, 140, 40))), 0.0)
    near_the_first = boxes((1, 0.8, (0, 0, 40, 40)), (1, 0.8, (4, 0, 44, 40)))
    both_on_one = FlaggedScene.of(decide(near_the_first, NAMES, Thresholds(), contained_ios=None), 0.0)
    assert len(both_on_one.class_id) == 2
    assert two_close.matches(two_close)
    assert not two_close.matches(both_on_one) and not both_on_one.matches(two_close)  # a partner each
