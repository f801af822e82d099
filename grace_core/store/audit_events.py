"""Audit rows for changes made outside the review: the live model, thresholds, the store quota.

Each kind has its action name here, so the app, the CLI and the docs name them the same way
(``docs/review-store.md``, *Audit trail*). :func:`record` opens the store, appends one row and closes it.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from grace_core.flagging import Thresholds

MODEL_PROMOTED = "model_promoted"  # a training run made the live model (scores, Δ, override reason)
MODEL_PROMOTION_FAILED = "model_promotion_failed"  # the promoted file did not load: the live model did not change
MODEL_ROLLED_BACK = "model_rolled_back"  # back to the model that was live before the last promotion
THRESHOLDS_CHANGED = "thresholds_changed"  # the live tab's thresholds, old → new (one row per settled change)
QUOTA_CHANGED = "quota_changed"  # the review store's quota, old → new


def current_user() -> str:
    """Who is at the keyboard, for the audit's ``actor`` (the login name; "unknown" where there is none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container or service account
        return "unknown"


def record(root: Path | str, action: str, details: dict[str, Any], actor: str | None = None) -> int:
    """Append one audit row to the review store at ``root`` (a folder or a store URL; created if needed); returns
    its id.

    Raises StoreError (or OSError) when it cannot be written: a caller that must not act unrecorded checks this.
    """
    from grace_core.store.review_store import ReviewStore

    with ReviewStore.open(root) as store:
        return store.record_event(actor or current_user(), action, details)


def thresholds_change(old: Thresholds, new: Thresholds) -> dict[str, Any]:
    """What changed from ``old`` to ``new``, class by class (effective values: a class without its own threshold
    counts at the default), as ``{"classes": {name: {"flag": [old, new], ...}}, "iou": [old, new]}``; empty when
    nothing did."""
    names = sorted(set(old.flag) | set(old.uncertain) | set(new.flag) | set(new.uncertain))
    names += sorted({*(old.visible or ()), *(new.visible or ())} - set(names))
    classes: dict[str, dict[str, list[Any]]] = {}
    for name in names:
        changes = {
            key: [before, after]
            for key, before, after in (
                ("flag", old.flag_for(name), new.flag_for(name)),
                ("uncertain", old.uncertain_for(name), new.uncertain_for(name)),
                ("visible", old.is_visible(name), new.is_visible(name)),
            )
            if before != after
        }
        if changes:
            classes[name] = changes
    change: dict[str, Any] = {"classes": classes} if classes else {}
    if old.iou != new.iou:
        change["iou"] = [old.iou, new.iou]
    return change
