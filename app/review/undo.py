"""Undo for the review tab: each verdict, relabel, delete, drawn box or drop is one step whose reversal is written
to the review store like any change (audited, with reason "undo"); nothing is erased."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grace_core.store import ReviewStore

MAX_STEPS = 200

Reverse = Callable[[ReviewStore, str], None]  # (store, reviewer) → writes the reversal


@dataclass(frozen=True)
class UndoStep:
    text: str  # what is undone, for the button and the banner: "verdict defect on frame 12"
    frame_id: int
    reverse: Reverse


class UndoStack:
    """The last ``MAX_STEPS`` review changes, newest last."""

    def __init__(self) -> None:
        self._steps: list[UndoStep] = []

    def push(self, step: UndoStep) -> None:
        self._steps.append(step)
        del self._steps[:-MAX_STEPS]

    def top(self) -> UndoStep | None:
        return self._steps[-1] if self._steps else None

    def pop(self) -> UndoStep | None:
        return self._steps.pop() if self._steps else None

    def clear(self) -> None:
        self._steps.clear()

    def __len__(self) -> int:
        return len(self._steps)


def undo_verdict(frame_id: int, verdict: str | None, reviewed_at: float | None, dropped: list[int]) -> Reverse:
    """Put back the verdict before (None: unreviewed) and the boxes the verdict dropped."""

    def reverse(store: ReviewStore, actor: str) -> None:
        for box_id in dropped:
            store.restore_box(box_id, actor)
        store.restore_verdict(frame_id, verdict, reviewed_at, actor)

    return reverse


def undo_relabel(box_id: int, class_id: int, class_name: str) -> Reverse:
    return lambda store, actor: store.relabel_box(box_id, class_id, class_name, actor, reason="undo")


def undo_deletes(box_ids: list[int]) -> Reverse:
    def reverse(store: ReviewStore, actor: str) -> None:
        for box_id in box_ids:
            store.restore_box(box_id, actor)

    return reverse


def undo_added_box(box_id: int) -> Reverse:
    return lambda store, actor: store.delete_box(box_id, actor, reason="undo")
