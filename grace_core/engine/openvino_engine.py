"""OpenVINO backend for models made by ``grace export --format openvino`` (an ``.xml`` + ``.bin`` pair)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import PipelineEngine, exported_model_info
from grace_core.engine.metadata import read_metadata
from grace_core.errors import ModelError


class OpenVinoEngine(PipelineEngine):
    backend = "openvino"

    def __init__(self, path: str | Path, conf: float = 0.25, iou: float = 0.7, device: str = "CPU") -> None:
        super().__init__(conf, iou)
        import openvino as ov

        path = Path(path)
        if path.is_dir():
            candidates = sorted(path.glob("*.xml"))
            if not candidates:
                raise ModelError(f"{path} holds no OpenVINO model (.xml)")
            path = candidates[0]
        read_metadata(path)  # fail early, before the runtime parses the file
        try:
            compiled = ov.Core().compile_model(str(path), device.upper())
        except Exception as error:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelError(f"{path} is not a readable OpenVINO model: {error}") from error
        self.request = compiled.create_infer_request()
        self._outputs = compiled.outputs
        self.info = exported_model_info(self.backend, path)

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        results = self.request.infer({0: tensor})
        raw = results[self._outputs[0]]
        return raw, (results[self._outputs[1]] if self.info.has_heatmap else None)

    def close(self) -> None:
        self.request = None
