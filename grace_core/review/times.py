"""Times in reports: reading ISO 8601 from the user, showing local time with its zone, and choosing a bin width."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from grace_core.errors import ReviewError

# Bin widths to choose from (seconds): 1, 5, 15, 30 min; 1, 2, 3, 6, 12 h; 1, 7 days.
BIN_WIDTHS: tuple[int, ...] = (60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 604800)
MAX_BINS = 48


def parse_time(text: str) -> float:
    """ISO 8601 date or date-time → unix seconds. Without a zone it is local time; ``Z`` means UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ReviewError(f"cannot read the time {text!r}: use ISO 8601, e.g. 2024-05-01T06:00 or 2024-05-01") from None
    return moment.astimezone().timestamp()  # a naive time is taken as local time


def local(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=timezone.utc).astimezone()


def show_time(t: float, seconds: bool = True) -> str:
    """``2023-11-14 23:13:20 CET``: local time with the zone's name."""
    return local(t).strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def iso_local(t: float) -> str:
    """``2023-11-14T23:13:20+01:00``: local time with its UTC offset (for CSV)."""
    return local(t).isoformat(timespec="seconds")


def zone_name(t: float | None = None) -> str:
    """The local zone's name at ``t`` (default now), e.g. ``CET``."""
    return local(t if t is not None else datetime.now().timestamp()).tzname() or "local time"


def bin_width(span_s: float, max_bins: int = MAX_BINS) -> int:
    """The narrowest width in :data:`BIN_WIDTHS` that covers ``span_s`` in at most ``max_bins`` bins.

    An 8-hour shift gets 15-minute bins (32 of them); a day, 30 minutes; a week, 6 hours.
    """
    for width in BIN_WIDTHS:
        if math.ceil(max(span_s, 0.0) / width) <= max_bins:
            return width
    week = BIN_WIDTHS[-1]
    return week * math.ceil(span_s / week / max_bins)
