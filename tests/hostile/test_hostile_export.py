"""Models of other tasks and export metadata that does not match its model: clear ModelErrors, never a crash or a
run that reads mask coefficients as class scores (issue 17, item 1)."""

import json
import shutil

import pytest
import torch

from grace_core.cli.main import main
from grace_core.engine import load_engine
from grace_core.engine.metadata import metadata_path
from grace_core.errors import ModelError

OTHER_TASKS = {
    "yolo11-seg.yaml": ("SegmentationModel", "Segment", "segmentation"),
    "yolo11-cls.yaml": ("ClassificationModel", "Classify", "classification"),
    "yolo11-pose.yaml": ("PoseModel", "Pose", "pose"),
    "yolo11-obb.yaml": ("OBBModel", "OBB", "oriented-box"),
}


def _other_task_checkpoint(folder, cfg: str):
    """A tiny untrained ultralytics model of another task, saved the way ultralytics saves checkpoints."""
    import ultralytics.nn.tasks as tasks

    from grace_core.nn.registry import YOLO11_YAML

    model_class = getattr(tasks, OTHER_TASKS[cfg][0])
    model = model_class(str(YOLO11_YAML.with_name(cfg)), nc=3, verbose=False)
    path = folder / cfg.replace(".yaml", ".pt")
    torch.save({"model": model.half(), "train_args": {"imgsz": 64}}, path)
    return path


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    """A tiny YOLO11n detector (3 classes, 64 px) exported to ONNX and OpenVINO."""
    from grace_core.engine.export import export_model
    from grace_core.nn import build_model

    folder = tmp_path_factory.mktemp("detector")
    path = folder / "det.pt"
    torch.save({"model": build_model("yolo11n", names=["a", "b", "c"]).half(), "train_args": {"imgsz": 64}}, path)
    return {
        "onnxruntime": export_model(path, "onnx", out_dir=folder / "onnx"),
        "openvino": export_model(path, "openvino", out_dir=folder / "ov"),
    }


@pytest.mark.parametrize("cfg", sorted(OTHER_TASKS))
def test_export_refuses_models_of_other_tasks(cfg, tmp_path, capsys):
    checkpoint = _other_task_checkpoint(tmp_path, cfg)
    out = tmp_path / "out"
    code = main(["export", "--model", str(checkpoint), "--format", "onnx", "--out", str(out)])
    error = _error_line(capsys.readouterr().err)
    _, head, task = OTHER_TASKS[cfg]
    assert code == 2
    assert str(checkpoint) in error and f"its head is {head} (a {task}" in error
    assert "needs a detection head" in error and "trained for detection" in error
    assert not list(out.glob("*.onnx")) and not list(out.glob("*.grace.json"))  # nothing half-written


def _error_line(err: str) -> str:
    """The CLI's one-line error (ultralytics' logger may also write to a stream pytest swapped out)."""
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


def _copy_with_metadata(exported, tmp_path, **changes):
    """A copy of an exported model whose .grace.json has ``changes`` applied."""
    if exported.suffix == ".xml":
        target = tmp_path / "model.xml"
        shutil.copy(exported.with_suffix(".bin"), target.with_suffix(".bin"))
    else:
        target = tmp_path / "model.onnx"
    shutil.copy(exported, target)
    data = json.loads(metadata_path(exported).read_text())
    data.update(changes)
    metadata_path(target).write_text(json.dumps(data))
    return target


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino"])
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"class_names": ["a", "b", "c", "d", "e"]}, "outputs 7 values per anchor (4 box + 3 classes), but its"),
        ({"class_names": ["a", "b"]}, "names 2 classes"),
        ({"imgsz": 128}, "exported at imgsz 64, but its metadata says imgsz 128"),
        ({"imgsz": 0}, "'imgsz' must be a positive integer, got 0"),
        ({"imgsz": "64"}, "'imgsz' must be a positive integer"),
        ({"class_names": [1, 2, 3]}, "'class_names' must be a non-empty list of strings"),
        ({"class_names": "abc"}, "'class_names' must be a non-empty list of strings"),
        ({"class_names": []}, "'class_names' must be a non-empty list of strings"),
        ({"task": "segment"}, "only detection models"),
        ({"heat_logit_range": [4, 1]}, "'heat_logit_range' must be [low, high]"),
    ],
)
def test_metadata_that_does_not_fit_its_model_is_a_model_error(detector, tmp_path, backend, changes, message):
    model = _copy_with_metadata(detector[backend], tmp_path, **changes)
    with pytest.raises(ModelError) as caught:
        load_engine(model, backend=backend)
    assert message in str(caught.value)
    assert "grace export" in str(caught.value)  # says what to do


def test_the_untouched_export_still_loads(detector):
    for backend, path in detector.items():
        engine = load_engine(path, backend=backend)
        assert engine.info.class_names == ("a", "b", "c") and engine.info.imgsz == 64
        engine.close()


def test_a_segmentation_model_exported_as_detect_is_refused_by_detect(tmp_path, capsys):
    """What an older `grace export` wrote for a segmentation checkpoint: its detections carry 32 mask coefficients
    after the class scores, and the metadata says "detect" with 3 classes."""
    import cv2
    import numpy as np

    from grace_core.nn.transfer import load_detection_model

    model = load_detection_model(_other_task_checkpoint(tmp_path, "yolo11-seg.yaml")).fuse().eval()
    head = model.model[-1]
    head.export, head.format, head.dynamic = True, "onnx", False
    onnx_file = tmp_path / "seg.onnx"
    with torch.no_grad():
        torch.onnx.export(
            model, torch.zeros(1, 3, 64, 64), str(onnx_file), opset_version=17, output_names=["out"], dynamo=False
        )
    sidecar = {"class_names": ["a", "b", "c"], "imgsz": 64, "has_heatmap": False, "source_model": "seg.pt"}
    metadata_path(onnx_file).write_text(json.dumps({**sidecar, "grace_version": "0.1.0", "task": "detect"}))
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "a.png"), np.full((64, 64, 3), 128, np.uint8))
    code = main(["detect", str(images), "--model", str(onnx_file), "--save-dir", str(tmp_path / "out")])
    error = _error_line(capsys.readouterr().err)
    assert code == 2
    assert "outputs 39 values per anchor (4 box + 35 classes), but its metadata names 3 classes" in error
    assert not (tmp_path / "out" / "summary.json").exists()
