"""``load_engine``: pick the runtime from the model file (or the caller), import it only then."""

from __future__ import annotations

from pathlib import Path

from grace_core.engine.base import Engine
from grace_core.errors import ModelError

BACKENDS = ("auto", "torch", "onnxruntime", "openvino")


def backend_for(path: Path) -> str:
    if path.suffix == ".pt":
        return "torch"
    if path.suffix == ".onnx":
        return "onnxruntime"
    if path.suffix == ".xml" or (path.is_dir() and any(path.glob("*.xml"))):
        return "openvino"
    raise ModelError(f"{path}: not a model this app can run (.pt checkpoint, .onnx, or an OpenVINO .xml/folder)")


def load_engine(
    path: str | Path,
    backend: str = "auto",
    conf: float = 0.25,
    iou: float = 0.7,
    device: str = "cpu",
    trust: bool = False,
) -> Engine:
    """Load ``path`` with ``backend`` ("auto" picks by file type). Call it in the thread that will predict."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"model not found: {path}")
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    chosen = backend_for(path) if backend == "auto" else backend
    if chosen != backend_for(path):
        raise ModelError(f"{path.name} cannot run on {chosen}: export it first (`grace export --format ...`)")
    if chosen == "torch":
        from grace_core.engine.torch_engine import TorchEngine

        return TorchEngine(path, conf=conf, iou=iou, device=device, trust=trust)
    if chosen == "onnxruntime":
        from grace_core.engine.onnx_engine import OnnxEngine

        return OnnxEngine(path, conf=conf, iou=iou)
    from grace_core.engine.openvino_engine import OpenVinoEngine

    return OpenVinoEngine(path, conf=conf, iou=iou)
