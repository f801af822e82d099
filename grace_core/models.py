"""The shipped default model: found through :func:`grace_core.paths.resource_path`, so a frozen bundle works too."""

from __future__ import annotations

from pathlib import Path

from grace_core.engine.runtimes import RUNTIMES
from grace_core.errors import ModelError
from grace_core.paths import resource_path

DEFAULT_MODEL_STEM = "grace-neu-det"  # resources/models/grace-neu-det.pt (+ .onnx, _openvino/, MODEL_CARD.md)


def default_model(backend: str = "torch") -> Path:
    """Path of the shipped model for ``backend`` (a runtime of :data:`grace_core.engine.runtimes.RUNTIMES`)."""
    if backend not in RUNTIMES:
        raise ModelError(f"no shipped model for backend {backend!r}: use one of {', '.join(RUNTIMES)}")
    path = resource_path("models", RUNTIMES[backend].shipped)
    if not path.exists():
        raise ModelError(f"the shipped model is missing: {path} (reinstall, or pass --model)")
    return path


SHIPPED = "shipped"
FASTEST_BACKEND = "onnxruntime"  # measured fastest on CPU for the shipped model (MODEL_CARD.md, latency)


def resolve_model(model: str | Path | None, backend: str = "auto") -> tuple[Path, str]:
    """``(path, backend)`` for a user's model choice: ``"shipped"`` (or empty) means the shipped model in the
    format of ``backend`` ("auto": the fastest on CPU); a path keeps ``backend`` as given."""
    if model is None or str(model) in ("", SHIPPED):
        chosen = FASTEST_BACKEND if backend == "auto" else backend
        return default_model(chosen), chosen
    return Path(model).expanduser(), backend
