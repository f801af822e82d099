import pytest
import torch

from grace_core.errors import ModelError
from grace_core.nn import build_model, lite_fen_layers
from grace_core.nn.transfer import load_detection_model, transfer_weights


@pytest.fixture(scope="module")
def yolo11s_checkpoint(tmp_path_factory):
    """A randomly initialised YOLO11s saved the way ultralytics saves checkpoints (fp16 model object)."""
    torch.manual_seed(0)
    model = build_model("yolo11s")
    for p in model.parameters():  # random, not the init defaults, so a skipped tensor cannot match by chance
        p.data.normal_(0, 0.05)
    path = tmp_path_factory.mktemp("weights") / "yolo11s-random.pt"
    torch.save({"model": model.half(), "epoch": -1, "train_args": {}}, path)
    return path


def test_every_yolo11s_tensor_lands_in_its_grace_s_layer(yolo11s_checkpoint):
    source = load_detection_model(yolo11s_checkpoint)
    grace = build_model("grace-s")
    report = transfer_weights(grace, source)

    [(lite_index, _)] = lite_fen_layers(grace)
    assert all(key.startswith(f"model.{lite_index}.") for key in report.not_in_source)
    assert report.shape_mismatch == []
    assert len(report.loaded) == len(source.state_dict())
    target = grace.state_dict()
    for key, tensor in source.state_dict().items():
        _, index, rest = key.split(".", 2)
        shifted = int(index) + (int(index) >= lite_index)
        assert torch.equal(target[f"model.{shifted}.{rest}"], tensor), key


def test_grace_with_yolo11_weights_computes_exactly_yolo11(yolo11s_checkpoint):
    source = load_detection_model(yolo11s_checkpoint).eval()
    grace = build_model("grace-s")
    transfer_weights(grace, source)
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        expected, got = source(x)[0], grace.eval()(x)[0]
    assert torch.allclose(expected, got, atol=1e-5)


def test_a_coco_head_is_reported_not_forced():
    grace = build_model("grace-s")
    report = transfer_weights(grace, build_model("yolo11s", nc=80))
    assert report.shape_mismatch and all(".cv3." in key for key in report.shape_mismatch)


def test_weights_of_another_scale_are_refused():
    with pytest.raises(ModelError, match="do not fit this model"):
        transfer_weights(build_model("grace-s"), build_model("yolo11n"))


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path):
    garbage = tmp_path / "model.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelError, match="is not a readable ultralytics checkpoint"):
        load_detection_model(garbage)
    with pytest.raises(ModelError, match="weights file not found"):
        load_detection_model(tmp_path / "missing.pt")


def test_checkpoints_load_safely_without_running_pickled_code(tmp_path, capfd):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    evil = tmp_path / "evil.pt"
    torch.save({"model": Payload()}, evil)
    with pytest.raises(ModelError, match="is not a readable ultralytics checkpoint"):
        load_detection_model(evil)
    assert "pwned" not in capfd.readouterr().out


def test_grace_weights_load_into_grace_completely():
    source, target = build_model("grace-s"), build_model("grace-s")
    for p in source.parameters():
        p.data.normal_(0, 0.05)
    report = transfer_weights(target, source)
    assert report.not_in_source == [] and report.shape_mismatch == []
    pairs = zip(source.state_dict().values(), target.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
