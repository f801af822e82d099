"""CPU training speed: the precision choice, bf16 autocast on the forward pass only, fp32 loss and validation."""

import pytest
import torch
from torch import nn

from grace_core.errors import GraceError
from grace_core.training.cpu_speed import Bf16Forward, Fp32Loss, native_bf16, resolve_precision, training_threads


def test_auto_picks_bf16_only_on_a_cpu_with_native_bf16():
    assert resolve_precision("auto", flags={"avx2", "avx512f", "avx512_bf16"}).precision == "bf16"
    assert resolve_precision("auto", flags={"avx2", "amx_bf16"}).precision == "bf16"
    avx2_only = resolve_precision("auto", flags={"avx2", "fma"})
    assert avx2_only.precision == "fp32" and "no native bf16" in avx2_only.describe()
    assert resolve_precision("fp32", flags={"avx512_bf16"}).precision == "fp32"
    forced = resolve_precision("bf16", flags={"avx2"})
    assert forced.precision == "bf16" and "emulated" in forced.reason


def test_threads_default_to_every_core_and_are_checked():
    assert resolve_precision("fp32").threads == training_threads() >= 1
    assert resolve_precision("fp32", threads=1).threads == 1
    with pytest.raises(GraceError, match="--threads"):
        resolve_precision("fp32", threads=0)
    with pytest.raises(GraceError, match="--precision"):
        resolve_precision("fp16")


def test_this_machine_reports_its_flags_consistently():
    from grace_core.training.cpu_speed import cpu_flags

    flags = cpu_flags()
    assert native_bf16(flags) == bool({"avx512_bf16", "amx_bf16", "bf16"} & flags)


class _Recorder(nn.Module):
    """A convolution that remembers the dtype it computed in."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.dtypes: list[torch.dtype] = []

    def forward(self, x, fail: bool = False):
        y = self.conv(x)
        self.dtypes.append(y.dtype)
        if fail:
            raise RuntimeError("a failing batch")
        return y


def test_the_forward_pass_runs_in_bf16_and_autocast_ends_with_it():
    model = _Recorder()
    hooks = Bf16Forward(model)
    out = model(torch.rand(1, 3, 8, 8))
    assert model.dtypes[-1] == torch.bfloat16 and out.dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")
    with pytest.raises(RuntimeError, match="failing batch"):
        model(torch.rand(1, 3, 8, 8), fail=True)
    assert not torch.is_autocast_enabled("cpu"), "autocast leaked past a failed forward pass"
    hooks.remove()
    model(torch.rand(1, 3, 8, 8))
    assert model.dtypes[-1] == torch.float32


def test_the_loss_sees_fp32_predictions_with_autocast_off():
    seen = {}

    def criterion(preds, batch):
        seen["dtypes"] = {k: v.dtype for k, v in preds.items()}
        seen["autocast"] = torch.is_autocast_enabled("cpu")
        seen["matmul"] = (preds["scores"] @ preds["scores"].T).dtype
        return preds["scores"].sum()

    loss = Fp32Loss(criterion)
    preds = {"scores": torch.rand(2, 3, dtype=torch.bfloat16), "labels": torch.ones(2, dtype=torch.long)}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss(preds, {})
    assert seen == {
        "dtypes": {"scores": torch.float32, "labels": torch.long},
        "autocast": False,
        "matmul": torch.float32,
    }


def test_the_loss_wrapper_forwards_attributes_and_is_never_copied():
    import copy

    class Loss:
        class_weights = None

        def __call__(self, preds, batch):
            return 0

    inner = Loss()
    wrapped = Fp32Loss(inner)
    wrapped.class_weights = torch.ones(3)  # how DS-CBSM++'s loss weighting sets it
    assert inner.class_weights is wrapped.class_weights
    assert copy.deepcopy(wrapped) is None  # EMA copies and checkpoints build their own loss


@pytest.mark.parametrize("precision", ["bf16", "fp32"])
def test_a_real_training_run_validates_and_saves_in_fp32(synthetic_yolo, tmp_path, precision):
    from grace_core.training.trainer import GraceTrainer

    settings = dict(epochs=1, imgsz=64, batch=4, device="cpu", plots=False, verbose=False, seed=0)
    trainer = GraceTrainer(
        overrides=dict(model="grace-n", data=str(synthetic_yolo), project=str(tmp_path), name="run", **settings),
        precision=precision,
        threads=1,
        workers=0,
    )
    dtypes = []
    trainer.add_callback("on_train_batch_end", lambda t: dtypes.append(t.loss.dtype))
    trainer.train()
    assert trainer.cpu_plan.precision == precision and torch.get_num_threads() == 1
    assert dtypes and all(d == torch.float32 for d in dtypes)  # the loss is fp32 either way
    assert torch.isfinite(torch.tensor([float(v) for v in trainer.tloss.values()])).all()
    assert not trainer.ema.ema._forward_hooks and not trainer.ema.ema._forward_pre_hooks
    assert (getattr(trainer, "bf16_forward", None) is not None) == (precision == "bf16")
    assert trainer.best.is_file() and not torch.is_autocast_enabled("cpu")
