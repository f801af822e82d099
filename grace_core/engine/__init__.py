"""Inference engines: one class per runtime behind one protocol; the runtime is imported only when a model loads."""

from grace_core.engine.base import Engine, EngineInfo, Prediction
from grace_core.engine.factory import BACKENDS, load_engine

__all__ = ["BACKENDS", "Engine", "EngineInfo", "Prediction", "load_engine"]
