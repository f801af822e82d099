"""GRACE core: model, datasets, training, inference engines and frame sources. Never imports Qt."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Offline by default: ultralytics reads these at import time. A user may still override them in the environment.
os.environ.setdefault("YOLO_OFFLINE", "1")  # no connectivity checks, no hub events
os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install at run time

# Before anything imports ultralytics: its own config dir inside ours, with the fonts it would download.
from grace_core import offline as _offline

_offline.prepare()
