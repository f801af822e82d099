"""Training speed on a CPU: every core for the model, and bf16 autocast where the CPU computes bf16 natively.

ultralytics' ``select_device('cpu')`` sets torch to ``cpu_count − 1`` threads (one thread on a 2-core PC) and
refuses bf16 autocast off CUDA. A CPU with native bf16 instructions (AVX-512 BF16, AMX, Arm BF16) runs
convolutions about 1.6× faster in bf16 than in fp32; one without them only emulates bf16, slower than fp32. So:

* :func:`training_threads` — the cores this process may use;
* :func:`resolve_precision` — ``auto`` picks ``bf16`` on a CPU with native bf16 and ``fp32`` elsewhere;
* :class:`Bf16Forward` — runs the model's forward pass under ``torch.autocast("cpu", torch.bfloat16)``;
* :class:`Fp32Loss` — computes the loss in fp32 on fp32 copies of the predictions (the assigner's IoUs, the DFL
  box decode and the BCE are precision-sensitive), the usual split of mixed-precision training.

Validation always runs in fp32 (it uses the EMA model, which carries no autocast hooks), so reported mAP is exact.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from grace_core.errors import GraceError

PRECISIONS = ("auto", "fp32", "bf16")
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 AVX-512 BF16 / AMX; Arm's "bf16" feature


def training_threads() -> int:
    """The number of cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as Linux reports them; empty where that is unknown (other systems)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def native_bf16(flags: set[str] | None = None) -> bool:
    """True when the CPU has bf16 arithmetic in hardware (not torch's slower emulation)."""
    return bool(_NATIVE_BF16_FLAGS & (cpu_flags() if flags is None else flags))


@dataclass(frozen=True)
class CpuPlan:
    """How a CPU training run computes: threads, precision, and why (printed at the start of training)."""

    threads: int
    precision: str  # "fp32" or "bf16"
    reason: str

    def describe(self) -> str:
        mode = "bf16 autocast (loss and validation in fp32)" if self.precision == "bf16" else "fp32"
        return f"CPU training: {self.threads} threads, {mode} — {self.reason}"


def resolve_precision(requested: str, threads: int | None = None, flags: set[str] | None = None) -> CpuPlan:
    """The plan for a CPU run: ``auto`` chooses bf16 only where the CPU has it natively; ``threads`` None = all."""
    if requested not in PRECISIONS:
        raise GraceError(f"--precision must be one of {', '.join(PRECISIONS)}, got {requested!r}")
    if threads is not None and threads < 1:
        raise GraceError(f"--threads must be at least 1, got {threads}")
    threads = threads or training_threads()
    native = native_bf16(flags)
    cpu = platform.processor() or platform.machine() or "this CPU"
    if requested == "fp32":
        return CpuPlan(threads, "fp32", "fp32 requested")
    if requested == "bf16":
        why = "bf16 requested" + ("" if native else f" (no native bf16 on {cpu}: emulated, likely slower than fp32)")
        return CpuPlan(threads, "bf16", why)
    if native:
        return CpuPlan(threads, "bf16", "the CPU has native bf16 (auto)")
    return CpuPlan(threads, "fp32", "no native bf16 on this CPU (auto); --precision bf16 forces it")


def _to_fp32(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, dict):
        return {key: _to_fp32(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_fp32(item) for item in value)
    return value


class Fp32Loss:
    """Wraps a detection criterion: autocast off, predictions cast to fp32, then the wrapped loss."""

    def __init__(self, criterion: Any) -> None:
        self.criterion = criterion

    def __call__(self, preds: Any, batch: dict) -> Any:
        with torch.autocast("cpu", enabled=False):
            return self.criterion(_to_fp32(preds), batch)

    def __getattr__(self, name: str) -> Any:  # class_weights, device, … of the wrapped loss
        if name == "criterion":
            raise AttributeError(name)
        return getattr(self.criterion, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "criterion":
            object.__setattr__(self, name, value)
        else:
            setattr(self.criterion, name, value)

    def __deepcopy__(self, memo: dict) -> None:
        return None  # like SignalDetectionLoss: copies of the model (EMA, checkpoints) build their own loss


class Bf16Forward:
    """Runs every forward call of one module under CPU bf16 autocast, through forward hooks.

    Hooks rather than a wrapper module keep the model object (and so checkpoints) exactly ultralytics' own; they are
    attached to the training model only, never to the EMA copy that validation and checkpoints use. The hook that
    leaves the autocast region runs even when the forward pass raises, so autocast never leaks past a failed batch.
    """

    def __init__(self, module: torch.nn.Module) -> None:
        self._contexts: list[torch.autocast] = []
        self._handles = [
            module.register_forward_pre_hook(self._enter),
            module.register_forward_hook(self._exit, always_call=True),
        ]

    def _enter(self, module, args) -> None:
        context = torch.autocast("cpu", dtype=torch.bfloat16)
        context.__enter__()
        self._contexts.append(context)

    def _exit(self, module, args, output) -> None:
        if self._contexts:
            self._contexts.pop().__exit__(None, None, None)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
