"""GRACE model: Lite-FEN, the model registry and YOLO11 weight transfer. Importing this registers our modules."""

from grace_core.nn.lite_fen import LiteFEN
from grace_core.nn.registry import MODELS, NEU_DET_NAMES, build_model, lite_fen_layers, model_config, register

__all__ = ["MODELS", "NEU_DET_NAMES", "LiteFEN", "build_model", "lite_fen_layers", "model_config", "register"]
