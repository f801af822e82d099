"""ONNX Runtime backend for models made by ``grace export --format onnx``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import PipelineEngine, check_by_running, exported_model_info
from grace_core.engine.metadata import RECORDED_KEY, check_model_shapes, check_recorded_size, read_metadata
from grace_core.engine.slicing import SliceConfig
from grace_core.errors import ModelError


class OnnxEngine(PipelineEngine):
    backend = "onnxruntime"

    def __init__(
        self,
        path: str | Path,
        conf: float = 0.25,
        iou: float = 0.7,
        threads: int | None = None,
        slicing: SliceConfig | None = None,
    ) -> None:
        super().__init__(conf, iou, slicing)
        import onnxruntime as ort

        metadata = read_metadata(path)  # fail early, before the runtime parses the file
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types for a damaged file
            raise ModelError(f"{path} is not a readable ONNX model: {error}") from error
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        check_model_shapes(path, metadata, _dims(inputs[0].shape), [_dims(output.shape) for output in outputs])
        check_recorded_size(path, metadata, self.session.get_modelmeta().custom_metadata_map.get(RECORDED_KEY))
        self._input = inputs[0].name
        shape = _dims(inputs[0].shape)
        self.max_batch = None if shape[0] is None else 1  # exports before 0.2 have no batch axis
        self.any_size = shape[2:] == [None, None]  # older exports are fixed at imgsz
        self.info = exported_model_info(self.backend, path)
        check_by_running(self, path, metadata)

    def run_batch(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        outputs = self.session.run(None, {self._input: tensor})
        return outputs[0], (outputs[1] if self.info.has_heatmap else None)

    def close(self) -> None:
        self.session = None


def _dims(shape: list) -> list[int | None]:
    """ONNX Runtime's shape with symbolic dimensions (names or None) as None."""
    return [d if isinstance(d, int) else None for d in shape]
