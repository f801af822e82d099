"""Defect events: one per physical defect, however many frames show it."""

import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.events import DefectTracker
from grace_core.flagging import Thresholds
from grace_core.strip import StripDefect, StripReport
from grace_core.types import Frame

NAMES = ["scratch", "pit"]
T = Thresholds(default_flag=0.5, default_uncertain=0.25)


def frame(i: int) -> Frame:
    return Frame(np.zeros((8, 8, 3), np.uint8), i, 100.0 + i, "cam")


def boxes(*rows) -> Detections:
    data = np.array(rows, np.float32).reshape(-1, 6)
    return Detections(data[:, :4], data[:, 4], data[:, 5])


def test_a_defect_seen_in_many_frames_is_one_event_with_its_best_sighting():
    tracker = DefectTracker(NAMES, patience=2)
    opened, closed = [], []
    sightings = [(10, 10, 50, 20, 0.3), (11, 10, 51, 20, 0.7), (12, 11, 52, 21, 0.4)]
    for i, (x1, y1, x2, y2, score) in enumerate(sightings):
        update = tracker.update(frame(i), boxes((x1, y1, x2, y2, score, 0)), T)
        opened += update.opened
        closed += update.closed
    for i in range(3, 5):  # gone: closes after `patience` frames without a sighting
        closed += tracker.update(frame(i), Detections.empty(), T).closed
    assert len(opened) == 1 and len(closed) == 1
    event = closed[0]
    assert event.sightings == 3 and event.confidence == pytest.approx(0.7) and event.status == "defect"
    assert event.box == (11, 10, 51, 20) and event.evidence.index == 1
    assert event.first_seen == 100.0 and event.last_seen == 102.0


def test_other_classes_or_places_are_other_events_and_finish_closes_them():
    tracker = DefectTracker(NAMES)
    update = tracker.update(
        frame(0), boxes((10, 10, 50, 20, 0.6, 0), (10, 10, 50, 20, 0.6, 1), (60, 0, 70, 9, 0.3, 0)), T
    )
    assert len(update.opened) == 3 and {e.status for e in update.opened} == {"defect", "uncertain"}
    assert len(tracker.finish()) == 3 and not tracker.open_events


def test_unrelated_images_make_an_event_per_detection():
    tracker = DefectTracker(NAMES, sequence=False)
    first = tracker.update(frame(0), boxes((10, 10, 50, 20, 0.6, 0)), T)
    second = tracker.update(frame(1), boxes((10, 10, 50, 20, 0.6, 0)), T)
    assert len(first.closed) == len(second.closed) == 1 and first.closed[0].id != second.closed[0].id


def test_strip_defects_are_events_with_positions_above_their_thresholds():
    defects = (
        StripDefect(0, 0.9, (5, 1000, 20, 1100), along_m=0.26, across_mm=3.1),
        StripDefect(1, 0.1, (5, 1000, 20, 1100), along_m=0.26, across_mm=3.1),  # below the uncertain threshold
    )
    report = StripReport(row0=900, carried_rows=100, new=np.zeros(0, bool), defects=defects)
    update = DefectTracker(NAMES).update(frame(0), Detections.empty(), T, strip=report)
    assert [e.class_name for e in update.closed] == ["scratch"]
    event = update.closed[0]
    assert event.along_m == pytest.approx(0.26) and event.box == (5, 100, 20, 200) and event.strip_box[1] == 1000


def test_events_carry_the_coil_and_metres_along_it():
    from grace_core.coil import CoilClock

    clock = CoilClock("C4711", line_speed_m_min=60.0)  # 1 m/s
    tracker = DefectTracker(NAMES, sequence=False, place=clock.place)
    clock.observe(frame(0), None)  # t = 100: the coil starts
    first = tracker.update(frame(0), boxes((1, 1, 5, 5, 0.9, 0)), T).closed[0]
    clock.observe(frame(5), None)
    clock.set_coil("C4712")  # the next coil starts at t = 105
    later = frame(8)
    clock.observe(later, None)
    second = tracker.update(later, boxes((1, 1, 5, 5, 0.9, 0)), T).closed[0]
    assert (first.coil, first.coil_m) == ("C4711", pytest.approx(0.0))
    assert (second.coil, second.coil_m) == ("C4712", pytest.approx(3.0))
    assert second.to_record()["coil"] == "C4712"
