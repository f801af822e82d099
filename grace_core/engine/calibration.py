"""The heatmap's display scale, calibrated once per model.

Lite-FEN's spatial gate is a sigmoid, but where a trained gate sits is arbitrary (its residual scale γ absorbs any
level): one model's typical value is 0.5, another's 0.99999. A display that maps the raw [0, 1] range to colours
would paint the whole strip with one colour. So the scale is taken in logits (see ``grace_core.render``) and each
model gets one display range, measured once over a calibration set and stored with the model
(``heat_logit_range`` in its ``.grace.json``): the median logit (typical steel) is drawn transparent, the 99.5th
percentile full strength. The range is the same for every image that model sees — nothing is re-normalised per
image, so a clean strip stays clean and a strong response stays strong.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from grace_core.paths import resource_path
from grace_core.render import DEFAULT_HEAT_RANGE, attention_logits


def demo_images() -> list[Path]:
    """The shipped NEU-DET samples: the default calibration set."""
    return sorted(resource_path("demo").glob("*.jpg"))


def calibrate_heat_range(engine, images: Iterable[Path]) -> tuple[float, float]:
    """(median, 99.5th percentile) of the heatmap's logits over ``images``, rounded, at least 0.5 apart."""
    values = []
    for path in images:
        heatmap = engine.predict(cv2.imread(str(path))).heatmap
        if heatmap is not None:
            values.append(attention_logits(heatmap[::4, ::4]).ravel())
    if not values:
        return DEFAULT_HEAT_RANGE
    low, high = (float(v) for v in np.percentile(np.concatenate(values), [50, 99.5]))
    return round(low, 3), round(max(high, low + 0.5), 3)
