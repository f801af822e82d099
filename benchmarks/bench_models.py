"""What several benchmarks share: the demo frames, and untrained checkpoints of a given architecture.

Speed does not depend on the weights, so an untrained model of the right architecture stands in for a trained one.
Lite-FEN's residual scale γ starts at 0; it is set to a non-zero value here so that no runtime can fold the block
away as a multiplication by zero.
"""

from __future__ import annotations

from pathlib import Path


def frames_from_demo(count: int) -> list[Path]:
    from grace_core.paths import resource_path

    images = sorted(resource_path("demo").glob("*.jpg"))
    return [images[i % len(images)] for i in range(count)]


def untrained_checkpoint(model: str | dict, path: Path, imgsz: int) -> Path:
    """Save an untrained ``model`` (a registry name or a config dict) as an ultralytics-style checkpoint."""
    import torch

    from grace_core.nn import build_model, lite_fen_layers

    network = build_model(model)
    with torch.no_grad():
        for _, block in lite_fen_layers(network):
            block.gamma.fill_(0.1)
    torch.save({"model": network.half(), "train_args": {"imgsz": imgsz}}, path)
    return path


def scale_of(checkpoint: Path) -> str:
    """The YOLO scale letter (n, s, …) a checkpoint was built at."""
    from grace_core.nn.transfer import load_detection_model

    return str(load_detection_model(checkpoint).yaml.get("scale", "s"))
