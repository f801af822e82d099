"""Every bad model file is a clear ModelError, never a hang or a traceback from deep inside a runtime."""

import shutil

import pytest
import torch

from grace_core.engine import load_engine
from grace_core.errors import GraceError, ModelError


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ModelError, match="model not found"):
        load_engine(tmp_path / "missing.pt")
    other = tmp_path / "model.tflite"
    other.write_bytes(b"x")
    with pytest.raises(ModelError, match="not a model this app can run"):
        load_engine(other)


def test_truncated_checkpoint(random_grace_checkpoint, tmp_path):
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(random_grace_checkpoint.read_bytes()[:5000])
    with pytest.raises(ModelError, match="is not a readable ultralytics checkpoint"):
        load_engine(truncated)


def test_garbage_onnx_and_missing_metadata(exported, tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x01garbage" * 100)
    shutil.copy(
        exported["onnxruntime"].with_name(exported["onnxruntime"].stem + ".grace.json"), tmp_path / "garbage.grace.json"
    )
    with pytest.raises(ModelError, match="is not a readable ONNX model"):
        load_engine(garbage)
    bare = tmp_path / "bare.onnx"
    shutil.copy(exported["onnxruntime"], bare)
    with pytest.raises(GraceError, match=r"has no bare\.grace\.json beside it"):
        load_engine(bare)


def test_a_model_for_another_task(tmp_path):
    from ultralytics.nn.tasks import ClassificationModel

    from grace_core.nn.registry import YOLO11_YAML

    classifier = ClassificationModel(str(YOLO11_YAML.with_name("yolo11-cls.yaml")), nc=3, verbose=False)
    path = tmp_path / "classifier.pt"
    torch.save({"model": classifier}, path)
    with pytest.raises(ModelError, match="is not a detection model: its head is Classify"):
        load_engine(path)


def test_backend_mismatch_says_to_export(random_grace_checkpoint):
    with pytest.raises(ModelError, match="export it first"):
        load_engine(random_grace_checkpoint, backend="openvino")
