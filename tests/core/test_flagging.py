"""Dual-threshold flagging: defect / uncertain / clear, per class, with hidden classes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.flagging import FlagDecision, Thresholds, decide

NAMES = ("crazing", "inclusion", "patches")


def dets(*boxes: tuple[int, float]) -> Detections:
    """Detections from (class id, score) pairs; box i is [i, i, i + 10, i + 10]."""
    xyxy = [[i, i, i + 10, i + 10] for i in range(len(boxes))]
    return Detections(np.array(xyxy, dtype=np.float32).reshape(-1, 4), [s for _, s in boxes], [c for c, _ in boxes])


def summary(decision: FlagDecision) -> tuple[str, list[int], list[int], list[int]]:
    """Status plus the x1 (= position in the input) of each defect, uncertain and shown box."""
    return (
        decision.status,
        decision.defects.xyxy[:, 0].astype(int).tolist(),
        decision.uncertain.xyxy[:, 0].astype(int).tolist(),
        decision.shown.xyxy[:, 0].astype(int).tolist(),
    )


def test_boundaries_are_inclusive() -> None:
    t = Thresholds(flag={"crazing": 0.6}, uncertain={"crazing": 0.3})
    assert summary(decide(dets((0, 0.6)), NAMES, t)) == ("defect", [0], [], [0])
    assert summary(decide(dets((0, 0.3)), NAMES, t)) == ("uncertain", [], [0], [0])
    assert summary(decide(dets((0, 0.59999)), NAMES, t)) == ("uncertain", [], [0], [0])
    assert summary(decide(dets((0, 0.29999)), NAMES, t)) == ("clear", [], [], [])
    # Defaults (0.5 / 0.25) for classes not named.
    assert summary(decide(dets((1, 0.5)), NAMES, t)) == ("defect", [0], [], [0])
    assert summary(decide(dets((1, 0.25)), NAMES, t)) == ("uncertain", [], [0], [0])
    assert summary(decide(dets((1, 0.2499)), NAMES, t)) == ("clear", [], [], [])


def test_defect_wins_over_uncertain_and_shown_keeps_input_order() -> None:
    decision = decide(dets((1, 0.3), (0, 0.1), (2, 0.9), (0, 0.4)), NAMES, Thresholds())
    assert summary(decision) == ("defect", [2], [0, 3], [0, 2, 3])
    assert decision.flagged
    np.testing.assert_array_equal(decision.shown.class_id, [1, 2, 0])


def test_per_class_thresholds_differ() -> None:
    t = Thresholds(flag={"crazing": 0.8, "patches": 0.3}, uncertain={"crazing": 0.6, "patches": 0.1})
    same_score = dets((0, 0.5), (1, 0.5), (2, 0.5))
    assert summary(decide(same_score, NAMES, t)) == ("defect", [1, 2], [], [1, 2])
    assert summary(decide(dets((0, 0.7)), NAMES, t)) == ("uncertain", [], [0], [0])
    assert summary(decide(dets((2, 0.15)), NAMES, t)) == ("uncertain", [], [0], [0])
    assert summary(decide(dets((0, 0.55), (2, 0.05)), NAMES, t)) == ("clear", [], [], [])
    flag, uncertain = t.for_classes(NAMES)
    assert flag.dtype == uncertain.dtype == np.float32
    np.testing.assert_array_equal(flag, np.array([0.8, 0.5, 0.3], dtype=np.float32))
    np.testing.assert_array_equal(uncertain, np.array([0.6, 0.25, 0.1], dtype=np.float32))


def test_a_hidden_class_never_flags_and_is_never_shown() -> None:
    t = Thresholds(visible=frozenset({"crazing", "inclusion"}))
    assert summary(decide(dets((2, 0.99)), NAMES, t)) == ("clear", [], [], [])
    assert summary(decide(dets((2, 0.99), (1, 0.3)), NAMES, t)) == ("uncertain", [], [1], [1])
    assert summary(decide(dets((2, 0.99), (0, 0.7)), NAMES, t)) == ("defect", [1], [], [1])
    nothing_visible = Thresholds(visible=frozenset())
    assert summary(decide(dets((0, 1.0), (1, 1.0)), NAMES, nothing_visible)) == ("clear", [], [], [])


def test_no_detections_is_clear() -> None:
    decision = decide(Detections.empty(), NAMES, Thresholds())
    assert summary(decision) == ("clear", [], [], [])
    assert not decision.flagged


def test_unknown_class_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="class id out of range"):
        decide(dets((3, 0.9)), NAMES, Thresholds())


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"flag": {"crazing": 0.3}, "uncertain": {"crazing": 0.4}}, "class 'crazing'"),
        ({"flag": {"patches": 1.2}}, "class 'patches'"),
        ({"uncertain": {"inclusion": -0.1}}, "class 'inclusion'"),
        ({"flag": {"crazing": 0.2}}, "class 'crazing'"),  # below the default uncertain threshold (0.25)
        ({"default_flag": 0.2, "default_uncertain": 0.3}, "classes without their own thresholds"),
        ({"uncertain": {"crazing": float("nan")}}, "class 'crazing'"),
    ],
)
def test_invalid_thresholds_name_the_class(kwargs: dict, named: str) -> None:
    with pytest.raises(ValueError, match="need 0 <= uncertain <= flag <= 1") as caught:
        Thresholds(**kwargs)
    assert named in str(caught.value)


def test_invalid_iou_is_refused() -> None:
    with pytest.raises(ValueError, match="iou"):
        Thresholds(iou=1.5)


def test_equal_thresholds_mean_no_uncertain_band() -> None:
    t = Thresholds(flag={"crazing": 0.4}, uncertain={"crazing": 0.4})
    assert summary(decide(dets((0, 0.4), (0, 0.39)), NAMES, t)) == ("defect", [0], [], [0])


def test_round_trip_through_a_dict() -> None:
    t = Thresholds(
        flag={"crazing": 0.7, "patches": 0.45},
        uncertain={"crazing": 0.35},
        default_flag=0.55,
        default_uncertain=0.2,
        iou=0.6,
        visible=frozenset({"crazing", "inclusion"}),
    )
    data = json.loads(json.dumps(t.to_dict()))  # what a settings file or the review store keeps
    assert data["visible"] == ["crazing", "inclusion"]
    assert Thresholds.from_dict(data) == t
    assert Thresholds.from_dict(Thresholds().to_dict()) == Thresholds()
    assert Thresholds.from_dict(Thresholds().to_dict()).visible is None
    assert Thresholds.from_dict({}) == Thresholds()


def test_thresholds_keep_their_own_copy() -> None:
    flags = {"crazing": 0.7}
    t = Thresholds(flag=flags)
    flags["crazing"] = 0.1
    assert t.flag_for("crazing") == 0.7
