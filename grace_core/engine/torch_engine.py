"""PyTorch backend: runs a ``.pt`` checkpoint (GRACE or YOLO11), reading Lite-FEN's map from the same pass.

Threads: torch's default is one per physical core, and its OpenMP threads spin at every barrier. One inspection
frame at 224 is too little work to share: on a 2-core PC one thread is as fast as two on an idle machine, and beside
a background training run two threads collapse (a spinning thread holds the core the other one needs) —
``benchmarks/inference_threads.py``, numbers in docs/results.md §4. So the engine leaves one core to the rest of the
machine (the GUI, decoding, sinks, a training run), as ultralytics does: ``cpu_count − 1`` threads, at least one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from grace_core.engine.base import EngineInfo, PipelineEngine, file_id
from grace_core.engine.slicing import SliceConfig
from grace_core.render import DEFAULT_HEAT_RANGE


class TorchEngine(PipelineEngine):
    """Build it in the thread that will call :meth:`predict` (models are not shared across threads)."""

    backend = "torch"
    any_size = True  # a fully convolutional network: larger slicing tiles at the same scale

    def __init__(
        self,
        path: str | Path,
        imgsz: int | None = None,
        conf: float = 0.25,
        iou: float = 0.7,
        device: str = "cpu",
        trust: bool = False,
        slicing: SliceConfig | None = None,
        threads: int | None = None,
    ) -> None:
        super().__init__(conf, iou, slicing)
        import torch

        if self._on_cpu(device):
            torch.set_num_threads(threads or default_threads())  # process-wide: the inference process's pool

        from grace_core.nn.registry import lite_fen_layers
        from grace_core.nn.transfer import load_detection_model, require_detection_head

        model = load_detection_model(path, trust=trust)
        require_detection_head(model, path, "inspection")
        self._torch = torch
        self.device = torch.device(device)
        self.model = model.fuse().eval().to(self.device)
        blocks = lite_fen_layers(self.model)
        self._lite_fen = blocks[-1][1] if blocks else None
        names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
        trained_at = int(model.train_args.get("imgsz", 640))
        heat_range, pixel_scale = _recorded(Path(path))
        self.info = EngineInfo(
            backend=self.backend,
            class_names=tuple(names[i] for i in sorted(names)),
            imgsz=int(imgsz or trained_at),
            model_path=str(path),
            model_id=file_id(path),
            has_heatmap=self._lite_fen is not None,
            heat_range=heat_range,
            pixel_scale=pixel_scale,
        )

    def run_batch(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with self._torch.inference_mode():
            out = self.model(self._torch.from_numpy(tensor).to(self.device))
        raw = out[0] if isinstance(out, (tuple, list)) else out
        attention = self._lite_fen.last_attention.cpu().numpy() if self._lite_fen is not None else None
        return raw.cpu().numpy(), attention

    def close(self) -> None:
        self.model = None

    @staticmethod
    def _on_cpu(device: str) -> bool:
        return str(device).lower().startswith("cpu")


def default_threads() -> int:
    """Torch threads for inference: every core but one (one on a 2-core PC), as ultralytics' ``select_device``."""
    return max(1, (os.cpu_count() or 1) - 1)


def _recorded(path: Path) -> tuple[tuple[float, float], float]:
    """The heatmap display range and pixel scale ``grace export`` recorded beside the checkpoint; defaults when it
    was never exported (the gate's neutral range, one model pixel per source pixel)."""
    from grace_core.engine.metadata import metadata_path, read_metadata

    if not metadata_path(path).is_file():
        return DEFAULT_HEAT_RANGE, 1.0
    recorded = read_metadata(path)
    heat = tuple(recorded.heat_logit_range) if recorded.heat_logit_range else DEFAULT_HEAT_RANGE
    return heat, float(recorded.pixel_scale)
