"""Outputs of inspection (sinks): see :mod:`grace_core.sinks.base` and :func:`open_sink`."""

from grace_core.sinks.base import InspectionContext, InspectionRecord, Sink, SinkStats
from grace_core.sinks.registry import open_sink, register_sink

__all__ = ["InspectionContext", "InspectionRecord", "Sink", "SinkStats", "open_sink", "register_sink"]
