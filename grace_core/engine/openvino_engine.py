"""OpenVINO backend for models made by ``grace export --format openvino`` (an ``.xml`` + ``.bin`` pair).

OpenVINO's CPU plugin computes in bf16 by default on CPUs with native bf16 (its ``INFERENCE_PRECISION_HINT``), so
the same model gives other boxes on another plant PC. Here it runs in f32 unless ``precision="bf16"`` is asked for —
as ultralytics and anomalib pin it — so results do not depend on the machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import PipelineEngine, check_by_running, exported_model_info
from grace_core.engine.metadata import RECORDED_KEY, check_model_shapes, check_recorded_size, read_metadata
from grace_core.engine.slicing import SliceConfig
from grace_core.errors import ModelError

PRECISIONS = ("f32", "bf16")  # f32: exact (the default); bf16: faster on CPUs with native bf16, measured in results


class OpenVinoEngine(PipelineEngine):
    backend = "openvino"

    def __init__(
        self,
        path: str | Path,
        conf: float = 0.25,
        iou: float = 0.7,
        device: str = "CPU",
        precision: str = "f32",
        slicing: SliceConfig | None = None,
    ) -> None:
        super().__init__(conf, iou, slicing)
        import openvino as ov

        if precision not in PRECISIONS:
            raise ModelError(f"OpenVINO precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")

        path = Path(path)
        if path.is_dir():
            candidates = sorted(path.glob("*.xml"))
            if not candidates:
                raise ModelError(f"{path} holds no OpenVINO model (.xml)")
            path = candidates[0]
        metadata = read_metadata(path)  # fail early, before the runtime parses the file
        try:
            core = ov.Core()
            model = core.read_model(str(path))
            recorded = model.get_rt_info([RECORDED_KEY]).astype(str) if model.has_rt_info([RECORDED_KEY]) else None
            compiled = core.compile_model(model, device.upper(), {"INFERENCE_PRECISION_HINT": precision})
        except Exception as error:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelError(f"{path} is not a readable OpenVINO model: {error}") from error
        outputs = [_dims(output.get_partial_shape()) for output in compiled.outputs]
        check_model_shapes(path, metadata, _dims(compiled.inputs[0].get_partial_shape()), outputs)
        check_recorded_size(path, metadata, recorded)
        self.request = compiled.create_infer_request()
        self._outputs = compiled.outputs
        shape = compiled.inputs[0].get_partial_shape()
        self.max_batch = None if shape[0].is_dynamic else 1
        self.any_size = shape[2].is_dynamic and shape[3].is_dynamic  # older exports are fixed at imgsz
        self.info = exported_model_info(self.backend, path)
        check_by_running(self, path, metadata)

    def run_batch(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        results = self.request.infer({0: tensor})
        raw = results[self._outputs[0]]
        return raw, (results[self._outputs[1]] if self.info.has_heatmap else None)

    def close(self) -> None:
        self.request = None


def _dims(shape) -> list[int | None]:
    """An OpenVINO partial shape as a list, dynamic dimensions as None (a shape of dynamic rank as [])."""
    if shape.rank.is_dynamic:
        return []
    return [d.get_length() if d.is_static else None for d in shape]
