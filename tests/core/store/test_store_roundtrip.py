"""Adding a flagged frame and reading every field, box and file back."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from grace_core.flagging import Thresholds
from grace_core.render import heat_strength
from grace_core.store import ReviewStore, StoreError, to_detections
from grace_core.store.files import heatmap_to_u8

T0 = 1_700_000_000.0  # 2023-11-14 UTC


def test_add_then_read_back_every_field(store: ReviewStore, flagged) -> None:
    thresholds = Thresholds(flag={"patches": 0.8}, uncertain={"patches": 0.4}, visible=frozenset({"crazing"}))
    item = flagged(t=T0 + 0.25, boxes=((0, 0.9), (2, 0.5)), index=17, source_id="video:line1.mp4",
                   thresholds=thresholds)  # fmt: skip
    frame_id = store.add_frame(*item.args)

    record = store.frame(frame_id)
    assert record.id == frame_id
    assert len(record.uid) == 32 and int(record.uid, 16) >= 0
    assert record.captured_at == T0 + 0.25
    assert (record.source_id, record.source_kind, record.frame_index) == ("video:line1.mp4", "video", 17)
    assert record.image_path == f"frames/2023/11/14/{record.uid}.jpg"
    assert record.heatmap_path == f"frames/2023/11/14/{record.uid}_heat.png"
    assert (record.width, record.height) == (64, 48)
    assert record.status == "defect"
    assert (record.model_id, record.model_hash) == ("grace-s.pt@0123456789ab", "0123456789ab")
    assert json.loads(record.thresholds_json) == thresholds.to_dict()
    assert record.thresholds == thresholds
    image_file, heatmap_file = store.image_file(record), store.heatmap_file(record)
    assert heatmap_file is not None
    assert record.bytes == image_file.stat().st_size + heatmap_file.stat().st_size
    assert (record.reviewed, record.verdict, record.comment, record.reviewed_at) == (False, None, None, None)
    assert record.created_at >= T0

    boxes = store.detections(frame_id)
    assert [(b.class_id, b.class_name, b.origin, b.deleted) for b in boxes] == [
        (0, "crazing", "model", False),
        (2, "patches", "model", False),  # hidden, yet kept: it is a real box for the reviewed labels
    ]
    assert boxes[0].confidence == pytest.approx(0.9) and boxes[1].confidence == pytest.approx(0.5)
    assert boxes[0].xyxy == (2.0, 3.0, 20.0, 25.0) and boxes[1].xyxy == (3.0, 4.0, 21.0, 26.0)
    np.testing.assert_array_equal(to_detections(boxes).xyxy, item.prediction.detections.xyxy)


def test_files_exist_and_match(store: ReviewStore, flagged) -> None:
    item = flagged(size=(80, 56))
    record = store.frame(store.add_frame(*item.args))

    stored = cv2.imread(str(store.image_file(record)), cv2.IMREAD_UNCHANGED)
    assert stored.shape == (56, 80, 3) and stored.dtype == np.uint8
    assert np.array_equal(store.load_image(record.id).shape, item.frame.image.shape)

    heat_png = cv2.imread(str(store.heatmap_file(record)), cv2.IMREAD_UNCHANGED)
    assert heat_png.shape == (56, 80) and heat_png.dtype == np.uint8  # 8-bit grayscale
    shown = heat_strength(item.prediction.heatmap, item.engine_info.heat_range)  # what the live view showed
    np.testing.assert_array_equal(heat_png, heatmap_to_u8(shown))
    heat = store.load_heatmap(record.id)
    assert heat.dtype == np.float32
    assert np.abs(heat - shown).max() <= 1 / 255


def test_a_saturated_gate_is_stored_as_shown_not_as_all_white(store: ReviewStore, flagged) -> None:
    """A trained Lite-FEN gate sits at 0.9999… on plain steel and closer still to 1 on defects: 8 bits of the raw
    gate would all read 255. The store keeps the display strength on the model's calibrated logit scale."""
    from dataclasses import replace

    item = flagged(size=(40, 30))
    gate = np.full((30, 40), 1 - 1e-4, dtype=np.float32)  # logit ≈ 9.2: plain steel
    gate[10:20, 10:20] = 1 - 1e-6  # logit ≈ 13.8: a defect
    prediction = replace(item.prediction, heatmap=gate)
    info = replace(item.engine_info, heat_range=(8.4, 15.9))  # the shipped model's calibration
    record = store.frame(store.add_frame(item.frame, item.decision, prediction, info, item.thresholds))
    heat = store.load_heatmap(record.id)
    assert heat[0, 0] < 0.2 and 0.6 < heat[15, 15] < 0.8
    assert not list(store.root.rglob("*.tmp"))


def test_heatmap_is_on_the_fixed_scale() -> None:
    values = np.array([[0.0, 0.2, 0.5, 1.0, 1.7, -0.3, np.nan]], dtype=np.float32)
    assert heatmap_to_u8(values).tolist() == [[0, 51, 128, 255, 255, 0, 0]]


def test_only_boxes_at_or_above_their_uncertain_threshold_are_kept(store: ReviewStore, flagged) -> None:
    thresholds = Thresholds(uncertain={"inclusion": 0.1}, flag={"inclusion": 0.6})
    item = flagged(boxes=((0, 0.6), (0, 0.2), (1, 0.1), (1, 0.05)), thresholds=thresholds)
    boxes = store.detections(store.add_frame(*item.args))
    assert [(b.class_name, round(b.confidence, 2)) for b in boxes] == [("crazing", 0.6), ("inclusion", 0.1)]


def test_frame_without_heatmap(store: ReviewStore, flagged) -> None:
    record = store.frame(store.add_frame(*flagged(heatmap=False).args))
    assert record.heatmap_path is None
    assert store.load_heatmap(record.id) is None
    assert record.bytes == store.image_file(record).stat().st_size


def test_uncertain_status_is_stored(store: ReviewStore, flagged) -> None:
    record = store.frame(store.add_frame(*flagged(boxes=((1, 0.3),)).args))
    assert record.status == "uncertain"


def test_clear_frames_are_refused(store: ReviewStore, flagged) -> None:
    with pytest.raises(ValueError, match="only flagged frames"):
        store.add_frame(*flagged(boxes=((0, 0.1),)).args)
    assert store.count() == 0


def test_missing_frame_is_a_store_error(store: ReviewStore) -> None:
    with pytest.raises(StoreError, match="frame 99 is not in the review store"):
        store.frame(99)


def test_default_root_is_in_the_user_data_dir() -> None:
    from grace_core.paths import user_data_dir

    with ReviewStore.open() as store:
        assert store.root == user_data_dir() / "review"
        assert store.db_path.is_file()
        assert store.quota_bytes == 2 * 1024**3
