"""What the live tab's status panel says about the plant: each sink's deliveries and drops, and the spool's backlog.

A sink that failed to open, lost its server, dropped or failed records is a *warning*: inspection goes on, and the
operator sees which output is missing what.
"""

from __future__ import annotations

from collections.abc import Sequence

from grace_core.sinks import SinkStats
from grace_core.store.spool import SpoolStatus


def sink_line(stats: SinkStats) -> tuple[str, bool]:
    """One sink as ``(text, warning)``: what it delivered, and anything lost or wrong."""
    state = stats.detail.get("state")
    if state == "opening":
        return f"{stats.name}: opening…", False
    if state == "failed":
        return f"{stats.name}: NOT OPEN — {stats.last_error}; {stats.dropped} records not sent", True
    text = f"{stats.name}: {stats.delivered} sent"
    problems = []
    if not stats.connected:
        problems.append("NOT CONNECTED" + (f" ({stats.last_error})" if stats.last_error else ""))
    if stats.pending:
        problems.append(f"{stats.pending} waiting")
    if stats.dropped:
        problems.append(f"{stats.dropped} dropped")
    if stats.errors:
        problems.append(f"{stats.errors} failed" + (f" ({stats.last_error})" if stats.last_error else ""))
    warning = not stats.connected or bool(stats.dropped or stats.errors)
    return text + (", " + ", ".join(problems) if problems else ""), warning


def sinks_text(sinks: Sequence[SinkStats]) -> tuple[str, bool]:
    """Every sink, one per line, and whether any needs the operator's attention."""
    if not sinks:
        return "none (Settings ▸ Plant connection…)", False
    lines = [sink_line(stats) for stats in sinks]
    return "\n".join(text for text, _ in lines), any(warning for _, warning in lines)


def spool_text(status: SpoolStatus | None) -> tuple[str, bool]:
    """The central store's link as ``(text, warning)``: reachable or not, and the frames waiting in the spool."""
    if status is None:
        return "—", False
    unreachable = not status.central_reachable and status.last_error is not None  # not tried yet: not a problem
    where = "NOT reachable" if unreachable else "reachable" if status.central_reachable else "not contacted yet"
    text = f"{where}; {status.backlog} frames waiting in the spool, {status.forwarded} forwarded"
    if status.evicted:
        text += f"; {status.evicted} dropped by the full spool"
    if unreachable:
        text += f" ({status.last_error})"
    return text, unreachable or bool(status.evicted)
