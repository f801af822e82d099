"""``GraceTrainer``: ultralytics' detection trainer, building models through our registry.

ultralytics would turn a bare name such as ``yolo11s`` into ``yolo11s.pt`` and download it; here a registry name or
a YAML path is always built from its config (offline), and pretrained weights given as a file are transferred layer
by layer (:mod:`grace_core.nn.transfer`), so YOLO11 weights load into GRACE despite Lite-FEN's extra layer.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.utils import LOGGER, RANK

from grace_core.nn.registry import build_model, model_config
from grace_core.nn.transfer import load_detection_model, transfer_weights


def is_checkpoint(model: object) -> bool:
    return str(model).lower().endswith(".pt")


class GraceTrainer(DetectionTrainer):
    """Detection trainer for GRACE and YOLO11 models named in :data:`grace_core.nn.registry.MODELS`."""

    def setup_model(self):
        spec = self.args.model
        if isinstance(self.model, nn.Module) or is_checkpoint(spec) or self.resume:
            return super().setup_model()  # a checkpoint: ultralytics rebuilds it from its stored config
        pretrained = self.args.pretrained
        weights = load_detection_model(pretrained) if isinstance(pretrained, (str, Path)) else None
        self.model = self.get_model(cfg=model_config(spec), weights=weights, verbose=RANK == -1)
        return None

    def get_model(self, cfg=None, weights=None, verbose: bool = True):
        names = [self.data["names"][i] for i in range(self.data["nc"])]
        model = build_model(cfg, names=names, channels=self.data.get("channels", 3), verbose=verbose and RANK == -1)
        if weights is not None:
            report = transfer_weights(model, weights)
            LOGGER.info(f"Pretrained weights: {report.summary()}")
        return model
