"""One real (tiny) GRACE-n training run, and its checkpoint reloaded in a fresh process."""

import json
import subprocess
import sys

import pytest


def tiny_trainer(model: str, data, project, name: str, **extra):
    """A one-epoch, 64-pixel CPU trainer: the cheapest real training run."""
    from grace_core.training.trainer import GraceTrainer

    settings = dict(epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False, verbose=False, amp=False, seed=0)
    overrides = dict(model=model, data=str(data), project=str(project), name=name, **settings, **extra)
    return GraceTrainer(overrides=overrides)


@pytest.fixture(scope="module")
def trained_checkpoint(synthetic_yolo, tmp_path_factory):
    trainer = tiny_trainer("grace-n", synthetic_yolo, tmp_path_factory.mktemp("runs"), "tiny")
    trainer.train()
    return trainer.best


def test_training_grace_n_produces_a_checkpoint(trained_checkpoint):
    assert trained_checkpoint.is_file() and trained_checkpoint.stat().st_size > 1_000_000


FRESH_PROCESS = """
import json, sys
import torch
from ultralytics import YOLO  # plain ultralytics: grace_core is imported by the unpickler, not by us
model = YOLO(sys.argv[1])
result = model.predict(torch.rand(1, 3, 64, 64), imgsz=64, verbose=False)[0]  # ultralytics' own path works
network = model.model.eval()
layer = network.model[5]
with torch.no_grad():
    network(torch.rand(1, 3, 64, 64))
print(json.dumps({"module": type(layer).__module__ + "." + type(layer).__name__,
                  "names": list(model.names.values()), "map": list(layer.last_attention.shape)}))
"""


def test_checkpoint_loads_and_predicts_in_a_fresh_process(trained_checkpoint, synthetic_yolo, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(trained_checkpoint)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["module"] == "grace_core.nn.lite_fen.LiteFEN"
    assert facts["names"] == ["scratch", "pit", "patch", "inclusion"]
    assert facts["map"] == [1, 1, 8, 8]


def test_checkpoint_loads_through_the_safe_loader(trained_checkpoint):
    from grace_core.nn import lite_fen_layers
    from grace_core.nn.transfer import load_detection_model

    model = load_detection_model(trained_checkpoint)  # weights_only=True with our classes allowed
    assert len(lite_fen_layers(model)) == 1


def test_fine_tuning_a_first_lite_fen_checkpoint_keeps_its_pointwise_convolution(synthetic_yolo, tmp_path):
    """Checkpoints of the first Lite-FEN (with a 1x1 convolution) store ``LiteFEN, [c2]`` as their config, which
    today builds the lean block: the trainer must rebuild the block the weights were trained in, not drop a layer."""
    import torch

    from grace_core.nn import build_model, lite_fen_layers, model_config

    cfg = model_config("grace-n")
    cfg["backbone"][5][3] = ["c2", 0.5, 7, True]
    first = build_model(cfg, names=["scratch", "pit", "patch", "inclusion"])
    first.yaml["backbone"][5][3] = ["c2"]  # what such a checkpoint says
    [(_, block)] = lite_fen_layers(first)
    with torch.no_grad():
        block.gamma.fill_(0.3)
    path = tmp_path / "first-lite-fen.pt"
    torch.save({"model": first, "train_args": {"imgsz": 64}}, path)

    trainer = tiny_trainer(str(path), synthetic_yolo, tmp_path, "finetune", val=False)
    trainer.setup_model()
    [(_, rebuilt)] = lite_fen_layers(trainer.model)
    assert len(rebuilt.local) == 2  # the pointwise convolution is there ...
    assert torch.equal(rebuilt.local[1].conv.weight, block.local[1].conv.weight)  # ... with its trained weights
    assert torch.equal(rebuilt.gamma, block.gamma)
