"""A model's facts for people: parameters, GFLOPs, where Lite-FEN sits, class names."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from ultralytics.utils.torch_utils import get_flops

from grace_core.nn.registry import MODELS, build_model, lite_fen_layers
from grace_core.nn.transfer import load_detection_model


@dataclass(frozen=True)
class LiteFENPlacement:
    layer: int
    after: str
    channels: int
    stride: int
    parameters: int


@dataclass(frozen=True)
class ModelSummary:
    name: str
    description: str
    parameters: int
    gflops: float
    imgsz: int
    class_names: list[str]
    lite_fen: list[LiteFENPlacement] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _strides(model: nn.Module, probe: int = 256) -> dict[int, int]:
    """Output stride of every Lite-FEN layer, from one forward pass on a blank image."""
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, probe, probe))
    return {index: probe // layer.last_attention.shape[-1] for index, layer in lite_fen_layers(model)}


def summarize(model: nn.Module, name: str, description: str = "", imgsz: int = 640) -> ModelSummary:
    """Summarise an ultralytics ``DetectionModel``."""
    layers = model.model
    strides = _strides(model)
    placements = [
        LiteFENPlacement(
            layer=index,
            after=f"layer {index - 1} ({type(layers[index - 1]).__name__})" if index else "input",
            channels=block.channels,
            stride=strides[index],
            parameters=sum(p.numel() for p in block.parameters()),
        )
        for index, block in lite_fen_layers(model)
    ]
    names = model.names if isinstance(model.names, dict) else dict(enumerate(model.names))
    return ModelSummary(
        name=name,
        description=description,
        parameters=sum(p.numel() for p in model.parameters()),
        gflops=round(float(get_flops(model, imgsz)), 2),
        imgsz=imgsz,
        class_names=[names[i] for i in sorted(names)],
        lite_fen=placements,
    )


def summarize_model_file(model: str | Path, imgsz: int = 640, names: list[str] | None = None) -> ModelSummary:
    """Summarise a registry name, a model YAML, or an ultralytics ``.pt`` checkpoint (loaded safely)."""
    if str(model).lower().endswith(".pt"):
        return summarize(load_detection_model(model), Path(model).name, "checkpoint", imgsz)
    spec = MODELS.get(str(model).lower())
    built = build_model(model, names=names)
    return summarize(built, str(model), spec.description if spec else "model config", imgsz)
