"""``load_engine``: the runtime chosen by the model file (:mod:`grace_core.engine.runtimes`), imported only then."""

from __future__ import annotations

from pathlib import Path

from grace_core.engine.base import Engine
from grace_core.engine.runtimes import AUTO, BACKEND_CHOICES, runtime_for, runtime_named
from grace_core.engine.slicing import SliceConfig
from grace_core.errors import ModelError

BACKENDS = BACKEND_CHOICES  # the --backend choices: "auto" and every runtime's name


def backend_for(path: Path) -> str:
    return runtime_for(path).name


def load_engine(
    path: str | Path,
    backend: str = AUTO,
    conf: float = 0.25,
    iou: float = 0.7,
    device: str = "cpu",
    trust: bool = False,
    precision: str = "f32",
    slicing: SliceConfig | None = None,
    threads: int | None = None,
) -> Engine:
    """Load ``path`` with ``backend`` ("auto" picks by file type). Call it in the thread that will predict.

    ``precision``: "f32" (exact, the default) or a faster one the runtime offers ("bf16" on OpenVINO).
    ``slicing``: how frames larger than the model's scale are cut into tiles (default: automatic).
    ``threads``: CPU threads for the runtimes that take them (default: each runtime's own choice; PyTorch leaves one
    core free, see :mod:`grace_core.engine.torch_engine`).
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(f"model not found: {path}")
    runtime = runtime_for(path)
    if backend != AUTO and runtime_named(backend) is not runtime:
        raise ModelError(f"{path.name} cannot run on {backend}: export it first (`grace export --format ...`)")
    if precision not in runtime.precisions:
        raise ModelError(f"{runtime.label} runs in {' or '.join(runtime.precisions)}, not {precision}")
    options = {"device": device, "trust": trust, "precision": precision, "threads": threads}
    engine_options = {k: options[k] for k in runtime.options}
    return runtime.engine_class()(path, conf=conf, iou=iou, slicing=slicing, **engine_options)
