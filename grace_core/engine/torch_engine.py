"""PyTorch backend: runs a ``.pt`` checkpoint (GRACE or YOLO11), reading Lite-FEN's map from the same pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grace_core.engine.base import EngineInfo, PipelineEngine, file_id
from grace_core.errors import ModelError
from grace_core.render import DEFAULT_HEAT_RANGE


class TorchEngine(PipelineEngine):
    """Build it in the thread that will call :meth:`predict` (models are not shared across threads)."""

    backend = "torch"

    def __init__(
        self,
        path: str | Path,
        imgsz: int | None = None,
        conf: float = 0.25,
        iou: float = 0.7,
        device: str = "cpu",
        trust: bool = False,
    ) -> None:
        super().__init__(conf, iou)
        import torch

        from grace_core.nn.registry import lite_fen_layers
        from grace_core.nn.transfer import load_detection_model

        model = load_detection_model(path, trust=trust)
        head = model.model[-1]
        if type(head).__name__ not in {"Detect", "v10Detect"}:  # Segment, Pose, OBB subclass Detect; Classify doesn't
            raise ModelError(f"{path} is not a detection model: its head is {type(head).__name__}")
        self._torch = torch
        self.device = torch.device(device)
        self.model = model.fuse().eval().to(self.device)
        blocks = lite_fen_layers(self.model)
        self._lite_fen = blocks[-1][1] if blocks else None
        names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
        trained_at = int(model.train_args.get("imgsz", 640))
        self.info = EngineInfo(
            backend=self.backend,
            class_names=tuple(names[i] for i in sorted(names)),
            imgsz=int(imgsz or trained_at),
            model_path=str(path),
            model_id=file_id(path),
            has_heatmap=self._lite_fen is not None,
            heat_range=_calibrated_range(Path(path)),
        )

    def run(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with self._torch.inference_mode():
            out = self.model(self._torch.from_numpy(tensor).to(self.device))
        raw = out[0] if isinstance(out, (tuple, list)) else out
        attention = self._lite_fen.last_attention.cpu().numpy() if self._lite_fen is not None else None
        return raw.cpu().numpy(), attention

    def close(self) -> None:
        self.model = None


def _calibrated_range(path: Path) -> tuple[float, float]:
    """The display range recorded beside the checkpoint by ``grace export``, else the gate's neutral default."""
    from grace_core.engine.metadata import metadata_path, read_metadata

    if metadata_path(path).is_file():
        recorded = read_metadata(path).heat_logit_range
        if recorded:
            return tuple(recorded)
    return DEFAULT_HEAT_RANGE
