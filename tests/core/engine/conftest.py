import pytest
import torch


@pytest.fixture(scope="session")
def random_grace_checkpoint(tmp_path_factory):
    """A GRACE-n with random convolutions and BN statistics calibrated on steel images: lively boxes, scores and
    heatmaps to compare across runtimes (default-initialised or untrained models give near-constant outputs)."""
    import numpy as np
    from torch import nn

    from grace_core.data.synthetic import make_steel_image
    from grace_core.nn import build_model, lite_fen_layers

    torch.manual_seed(0)
    model = build_model("grace-n", names=["scratch", "pit", "patch"])
    dfl = model.model[-1].dfl  # its kernel is a fixed arange: box decoding, not a learned weight
    for module in model.modules():
        if isinstance(module, nn.Conv2d) and module is not dfl.conv:
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # running statistics = plain average of the calibration passes
    for _, block in lite_fen_layers(model):
        block.gamma.data.fill_(0.5)
    images = np.stack([make_steel_image(100 + s, size=(128, 128))[0] for s in range(8)])
    batch = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(batch)
    path = tmp_path_factory.mktemp("models") / "grace-n-random.pt"
    torch.save({"model": model.eval().half(), "train_args": {"imgsz": 128}}, path)
    return path


@pytest.fixture(scope="session")
def exported(random_grace_checkpoint, tmp_path_factory):
    from grace_core.engine.export import export_model

    out = tmp_path_factory.mktemp("exported")
    return {
        "torch": random_grace_checkpoint,
        "onnxruntime": export_model(random_grace_checkpoint, "onnx", out_dir=out),
        "openvino": export_model(random_grace_checkpoint, "openvino", out_dir=out),
    }


@pytest.fixture(scope="session")
def steel_images():
    from grace_core.data.synthetic import make_steel_image

    return [
        make_steel_image(seed, size=(h, w))[0]
        for seed, (h, w) in enumerate([(200, 200), (150, 260), (300, 120), (200, 200), (240, 180)])
    ]
