"""The live tab's golden-sample check, off the GUI thread: the live model and thresholds on the reference images
(:func:`grace_core.golden.run_golden_check`, its own engine, so inspection goes on), recorded in the review store's
audit trail. A check that ran but could not be recorded is still shown, with why it was not recorded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grace_core.errors import GraceError
from grace_core.flagging import Thresholds
from grace_core.golden import GoldenResult, record_golden_check, run_golden_check
from grace_core.models import resolve_model
from grace_core.progress import ProgressCallback
from grace_core.store import STORE_ERRORS


@dataclass(frozen=True)
class GoldenOutcome:
    result: GoldenResult
    recorded_id: int | None  # the audit row (None: not recorded)
    record_error: str | None = None


def run_and_record(
    model: str | Path,
    backend: str,
    thresholds: Thresholds,
    store: Any,
    progress: ProgressCallback | None = None,
) -> GoldenOutcome:
    """Check ``model`` ("shipped" or a file, as the live tab names it) with ``thresholds``; record it in ``store``
    (a folder or store URL). Raises GraceError when the model cannot be resolved or loaded."""
    path, resolved = resolve_model(str(model), backend)
    result = run_golden_check(path, thresholds, resolved, progress=progress)
    try:
        return GoldenOutcome(result, record_golden_check(result, store))
    except (GraceError, *STORE_ERRORS) as error:
        return GoldenOutcome(result, None, str(error))
