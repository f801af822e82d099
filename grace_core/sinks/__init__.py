"""Outputs of inspection (sinks): see :mod:`grace_core.sinks.base` and :func:`open_sink`."""

from grace_core.sinks.base import InspectionContext, InspectionRecord, Sink, SinkStats
from grace_core.sinks.registry import check_sink, open_sink, register_sink

__all__ = ["InspectionContext", "InspectionRecord", "Sink", "SinkStats", "check_sink", "open_sink", "register_sink"]
