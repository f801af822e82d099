"""The shipped default model (resources/models): it loads on every backend, finds the annotated defects, and
`grace val` on the recorded NEU-DET split reproduces the numbers its model card states.

Expected numbers are read from `resources/models/grace-neu-det.val.json` — the `grace val --json` output the card
quotes — and `grace-neu-det.card.json` (split, image size, recall floors and why), so this test checks the card's
claims instead of repeating them.
"""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from grace_core.data.importers import NEU_DET_CLASSES
from grace_core.engine import load_engine
from grace_core.engine.runtimes import RUNTIMES
from grace_core.models import default_model
from grace_core.paths import resource_path

CARD_METRICS = json.loads(resource_path("models", "grace-neu-det.val.json").read_text())  # `grace val --json`
CARD = json.loads(resource_path("models", "grace-neu-det.card.json").read_text())  # split, image size, floors
RECALL_FLOOR = CARD["recall_floor"]


def boxes_of(xml_path):
    root = ET.parse(xml_path).getroot()
    return [
        (obj.findtext("name"), [float(obj.find("bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")])
        for obj in root.iter("object")
    ]


def recall(engine, images_and_xml, iou_threshold=0.5) -> float:
    """Share of annotated boxes matched by a detection of the same class with IoU ≥ 0.5."""
    names = engine.info.class_names
    found = total = 0
    for image_path, xml_path in images_and_xml:
        detections = engine.predict(cv2.imread(str(image_path))).detections
        for name, (x1, y1, x2, y2) in boxes_of(xml_path):
            total += 1
            same = detections[detections.class_id == names.index(name)]
            if not len(same):
                continue
            ix = np.clip(np.minimum(same.xyxy[:, 2], x2) - np.maximum(same.xyxy[:, 0], x1), 0, None)
            iy = np.clip(np.minimum(same.xyxy[:, 3], y2) - np.maximum(same.xyxy[:, 1], y1), 0, None)
            inter = ix * iy
            union = same.area + (x2 - x1) * (y2 - y1) - inter
            found += bool((inter / union >= iou_threshold).any())
    return found / total


@pytest.mark.parametrize("backend", list(RUNTIMES))
def test_the_shipped_model_finds_the_demo_defects_on_every_backend(backend):
    engine = load_engine(default_model(backend))
    assert engine.info.class_names == NEU_DET_CLASSES
    assert engine.info.has_heatmap
    demo = sorted(resource_path("demo").glob("*.jpg"))
    pairs = [(image, resource_path("demo", "annotations", image.stem + ".xml")) for image in demo]
    assert recall(engine, pairs) >= RECALL_FLOOR["demo"]


@pytest.fixture(scope="module")
def recorded_split(neu_det_dir, tmp_path_factory):
    """The split the card was measured on, re-created from its recorded command (seeded, so identical)."""
    from grace_core.data import import_dataset

    out = tmp_path_factory.mktemp("neu") / "neu-det"
    import_dataset("neu-det", neu_det_dir, out, split=tuple(CARD["split"]), seed=CARD["split_seed"])
    return out


RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        (None, None),  # the shipped model against its card
        (RESULTS / "weights" / "yolo11n-224-seed0.pt", RESULTS / "yolo11n-224-seed0.val.json"),  # docs/results.md §2
    ],
    ids=["shipped-grace-n", "yolo11n-baseline"],
)
def test_grace_val_reproduces_the_published_numbers(recorded_split, weights, expected):
    from grace_core.evaluation import validate

    model = weights or default_model("torch")
    published = json.loads(expected.read_text()) if expected else CARD_METRICS
    result = validate(model, recorded_split / "data.yaml", imgsz=CARD["imgsz"], batch=16)
    assert result.images == published["images"]
    assert abs(result.map50 - published["map50"]) <= 0.005  # the bar: within 0.5 point
    assert abs(result.map50_95 - published["map50_95"]) <= 0.005


def test_recall_on_held_out_images(recorded_split, neu_det_dir):
    """Five validation-split images per class (the first by name): images the model never trained on."""
    engine = load_engine(default_model("openvino"))
    held_out = sorted((recorded_split / "images" / "val").glob("*.jpg"))
    picked = [p for cls in engine.info.class_names for p in [q for q in held_out if q.stem.startswith(cls)][:5]]
    pairs = [(p, neu_det_dir / "ANNOTATIONS" / (p.stem + ".xml")) for p in picked]
    assert len(pairs) == 30
    assert recall(engine, pairs) >= RECALL_FLOOR["held_out"]
