"""The three runtimes agree: matched boxes IoU ≥ 0.99, scores within 0.01, heatmap correlation ≥ 0.99."""

import numpy as np
import pytest

from grace_core.engine import load_engine


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N,4) with every box in b (M,4)."""
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def anchor_boxes(raw: np.ndarray) -> np.ndarray:
    cx, cy, w, h = raw[0, :4]
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


@pytest.mark.parametrize("size", [128, 320], ids=["imgsz", "larger input"])
@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
def test_exported_models_match_torch(exported, steel_images, backend, size):
    """Anchor by anchor (the runtimes' outputs; decoding and NMS are shared code), and the heatmap; at the model's
    image size and at a larger input (the larger tiles of sliced inference)."""
    from grace_core.engine.processing import letterbox

    reference = load_engine(exported["torch"], conf=0.02)
    other = load_engine(exported[backend], conf=0.02)
    assert other.info.backend == backend and other.info.class_names == reference.info.class_names
    assert other.info.imgsz == reference.info.imgsz == 128
    assert other.any_size and reference.any_size
    compared = 0
    for image in steel_images:
        tensor, _ = letterbox(image, size)
        (raw_a, map_a), (raw_b, map_b) = reference.run(tensor), other.run(tensor)
        scored = raw_a[0, 4:].max(axis=0) >= 0.03
        boxes_a, boxes_b = anchor_boxes(raw_a)[scored], anchor_boxes(raw_b)[scored]
        assert (np.diag(iou(boxes_a, boxes_b)) >= 0.99).all()
        assert np.abs(raw_a[0, 4:, scored] - raw_b[0, 4:, scored]).max(initial=0) <= 0.01
        compared += int(scored.sum())
        heat_a, heat_b = reference.predict(image).heatmap, other.predict(image).heatmap
        assert heat_b.shape == image.shape[:2]
        assert np.corrcoef(heat_a.ravel(), heat_b.ravel())[0, 1] >= 0.99
        assert np.corrcoef(map_a.ravel(), map_b.ravel())[0, 1] >= 0.99
    assert compared >= 20


def test_heatmap_is_on_a_fixed_unit_scale_at_source_size(exported, steel_images):
    engine = load_engine(exported["onnxruntime"])
    for image in steel_images:
        heatmap = engine.predict(image).heatmap
        assert heatmap.dtype == np.float32 and heatmap.shape == image.shape[:2]
        assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
        assert heatmap.max() - heatmap.min() < 1.0  # not stretched to fill [0, 1] per image


def test_boxes_are_in_source_pixels(exported, steel_images):
    engine = load_engine(exported["openvino"], conf=0.02)
    for image in steel_images:
        xyxy = engine.predict(image).detections.xyxy
        h, w = image.shape[:2]
        assert (xyxy[:, [0, 2]] <= w).all() and (xyxy[:, [1, 3]] <= h).all() and (xyxy >= 0).all()


def test_per_class_thresholds_filter_before_nms(exported, steel_images):
    engine = load_engine(exported["torch"], conf=0.02)
    image = max(steel_images, key=lambda im: len(engine.predict(im).detections))
    everything = engine.predict(image).detections
    assert len(everything)
    silenced = int(everything.class_id[0])
    class_conf = np.full(len(engine.info.class_names), 0.02, dtype=np.float32)
    class_conf[silenced] = 1.1
    strict = engine.predict(image, class_conf=class_conf).detections
    assert silenced not in strict.class_id.tolist()
    assert set(strict.class_id.tolist()) == set(everything.class_id.tolist()) - {silenced}


def test_every_backend_carries_the_calibrated_display_range(exported):
    """Export calibrates one display range per model (median → transparent, 99.5th percentile → full strength,
    in logits) and every runtime reports the same range, so one model looks the same whichever runtime runs it."""
    ranges = {backend: load_engine(path).info.heat_range for backend, path in exported.items()}
    low, high = ranges["onnxruntime"]
    assert -17.0 <= low < high <= 17.0 and high - low >= 0.5
    assert ranges["torch"] == ranges["openvino"] == (low, high)  # the .pt reads the same .grace.json


def test_the_calibrated_range_is_the_median_and_top_of_the_maps():
    from grace_core.engine.calibration import calibrate_heat_range

    class Fixed:
        def predict(self, image):
            class P:  # 25x25 values, each a constant 4x4 block: the calibration's 4x subsample sees them exactly
                heatmap = np.kron(np.linspace(0.2, 0.8, 625).reshape(25, 25), np.ones((4, 4))).astype(np.float32)

            return P()

    low, high = calibrate_heat_range(Fixed(), [__file__])
    logit = lambda p: float(np.log(p / (1 - p)))  # noqa: E731
    assert low == pytest.approx(logit(0.5), abs=0.02) and high == pytest.approx(logit(0.797), abs=0.02)
