"""The detection loss, unchanged, plus a tap that hands DS-CBSM++ what the assigner decided for each batch.

``v8DetectionLoss`` computes the task-aligned assignment inside its loss; rather than re-implementing that code,
the assigner is wrapped so its last output can be read back after the parent computed the loss. The model looks its
criterion up as ``model.criterion``, which is where :class:`GraceTrainer` installs this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from ultralytics.utils.loss import v8DetectionLoss

#: (logits (B,A,C), target_labels (B,A), target_scores (B,A,C), foreground (B,A), batch) -> None
BatchTap = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, dict], None]


class _RecordingAssigner:
    """Calls the wrapped assigner and keeps its last output."""

    def __init__(self, assigner: Any) -> None:
        self.assigner = assigner
        self.last: tuple | None = None

    def __call__(self, *args, **kwargs):
        self.last = self.assigner(*args, **kwargs)
        return self.last

    def __getattr__(self, name: str):
        return getattr(self.assigner, name)


class SignalDetectionLoss(v8DetectionLoss):
    """``v8DetectionLoss`` that reports each training batch's assignment to ``tap``."""

    def __init__(self, model: torch.nn.Module, tap: BatchTap) -> None:
        super().__init__(model)
        self.assigner = _RecordingAssigner(self.assigner)
        self.tap = tap

    def get_assigned_targets_and_loss(self, preds: dict[str, torch.Tensor], batch: dict[str, Any], **assign_kwargs):
        result = super().get_assigned_targets_and_loss(preds, batch, **assign_kwargs)
        target_labels, _, target_scores, foreground, _ = self.assigner.last
        logits = preds["scores"].detach().permute(0, 2, 1)
        self.tap(logits, target_labels, target_scores, foreground, batch)
        return result

    def __deepcopy__(self, memo: dict) -> None:
        # The EMA copy of the model must not feed the training signals (nor copy them): give it no criterion,
        # so ultralytics builds a plain one for validation when it needs it.
        return None
