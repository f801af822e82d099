"""Class colours: NEU-DET's six classes (and GC10-DET's ten) must be told apart on boxes, legends and curves."""

import itertools

import cv2
import numpy as np

from grace_core.render import class_color


def lab(bgr: tuple[int, int, int]) -> np.ndarray:
    return cv2.cvtColor(np.float32([[bgr]]) / 255, cv2.COLOR_BGR2LAB)[0, 0]


def test_the_first_seven_class_colours_are_perceptibly_different():
    colours = [lab(class_color(i)) for i in range(7)]
    closest = min(np.linalg.norm(a - b) for a, b in itertools.combinations(colours, 2))
    assert closest > 20  # CIE76 ΔE; the earlier hue stepping put classes 1 and 5 at 13 (hard to tell apart)


def test_later_classes_still_get_valid_distinct_colours():
    colours = [class_color(i) for i in range(20)]
    assert len(set(colours)) == 20 and all(0 <= c <= 255 for colour in colours for c in colour)
    assert class_color(3) == class_color(3)
