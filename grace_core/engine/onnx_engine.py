"""ONNX Runtime backend for models made by ``grace export --format onnx``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import EngineInfo, PipelineEngine, file_id
from grace_core.engine.export import read_metadata
from grace_core.errors import ModelError


class OnnxEngine(PipelineEngine):
    backend = "onnxruntime"

    def __init__(self, path: str | Path, conf: float = 0.25, iou: float = 0.7, threads: int | None = None) -> None:
        super().__init__(conf, iou)
        import onnxruntime as ort

        metadata = read_metadata(path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for a damaged file
            raise ModelError(f"{path} is not a readable ONNX model: {error}") from error
        self._input = self.session.get_inputs()[0].name
        self.info = EngineInfo(
            backend=self.backend,
            class_names=tuple(metadata.class_names),
            imgsz=metadata.imgsz,
            model_path=str(path),
            model_id=file_id(path),
            has_heatmap=metadata.has_heatmap,
        )

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        outputs = self.session.run(None, {self._input: tensor})
        return outputs[0], (outputs[1] if self.info.has_heatmap else None)

    def close(self) -> None:
        self.session = None
