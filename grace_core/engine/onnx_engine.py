"""ONNX Runtime backend for models made by ``grace export --format onnx``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import PipelineEngine, exported_model_info
from grace_core.engine.metadata import read_metadata
from grace_core.errors import ModelError


class OnnxEngine(PipelineEngine):
    backend = "onnxruntime"

    def __init__(self, path: str | Path, conf: float = 0.25, iou: float = 0.7, threads: int | None = None) -> None:
        super().__init__(conf, iou)
        import onnxruntime as ort

        read_metadata(path)  # fail early, before the runtime parses the file
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for a damaged file
            raise ModelError(f"{path} is not a readable ONNX model: {error}") from error
        self._input = self.session.get_inputs()[0].name
        self.info = exported_model_info(self.backend, path)

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        outputs = self.session.run(None, {self._input: tensor})
        return outputs[0], (outputs[1] if self.info.has_heatmap else None)

    def close(self) -> None:
        self.session = None
