"""Sliced inference: the tile grid, merging across tile borders, batched = single-tile results, bounded memory."""

import tracemalloc

import numpy as np
import pytest

from grace_core.detections import Detections
from grace_core.engine.merging import (
    LEFT,
    RIGHT,
    TileDetections,
    cut_sides,
    drop_contained,
    intersection_over_smaller,
    merge_tile_detections,
    overlapping_pairs,
)
from grace_core.engine.slicing import SliceConfig, Tile, axis_starts, network_side, plan_tiles, tile_for_frame
from grace_core.errors import GraceError
from grace_core.flagging import box_iou


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(4096, 200, 0.25), (1000, 224, 0.2), (224, 224, 0.2), (90, 200, 0.25)]
)
def test_tiles_cover_the_frame_with_at_least_the_overlap(length, tile, overlap):
    starts = axis_starts(length, tile, overlap)
    assert starts[0] == 0 and min(starts[-1] + tile, length) == length
    steps = np.diff(starts)
    assert (steps <= tile * (1 - overlap) + 1).all() and (steps > 0).all()


def test_a_grid_is_row_major_and_stays_inside_the_frame():
    grid = plan_tiles(1000, 450, 200, 0.25)
    assert grid[0] == Tile(0, 0, 200, 200) and grid[-1].x1 == 1000 and grid[-1].y1 == 450
    assert all(0 <= t.x0 < t.x1 <= 1000 and 0 <= t.y0 < t.y1 <= 450 for t in grid)
    assert [t.y0 for t in grid] == sorted(t.y0 for t in grid)


@pytest.mark.parametrize("frame", [(4096, 2048), (8192, 1024), (1024, 1040), (400, 400), (2048, 300), (260, 5000)])
@pytest.mark.parametrize("window", [224, 448, 896])
def test_larger_tiles_cover_the_frame_with_fewer_network_pixels(frame, window):
    """Tiles up to ``window`` network pixels at the field's scale: inside the window, never smaller than the field,
    overlapping by at least the field's overlap, and never more network pixels than field-sized tiles."""
    width, height = frame
    field, scale, overlap_px = 200, 1.12, 50
    side = tile_for_frame(width, height, field, scale, window, overlap_px)
    assert field <= side and (side == field or network_side(side, scale) <= window)
    for length in frame:
        starts = axis_starts(length, side, overlap_px / side)
        assert starts[0] == 0 and min(starts[-1] + side, length) == length
        assert (np.diff(starts) <= side - overlap_px).all()

    def cost(tile: int) -> int:
        return len(plan_tiles(width, height, tile, overlap_px / tile)) * network_side(tile, scale) ** 2

    assert cost(side) <= cost(field)
    if window >= 896 and min(frame) >= 1000:
        assert cost(side) < 0.7 * cost(field)  # a quarter overlap of 200-pixel tiles costs ~1.8x the frame


def test_only_frames_larger_than_a_tile_are_sliced_and_settings_are_checked():
    auto = SliceConfig()
    assert not auto.slices(200, 200, 224, model_scale=1.12)  # a NEU-DET tile: today's path
    assert auto.slices(4096, 2048, 224, model_scale=1.12)
    assert auto.tile_size(224, 1.12) == 200 and SliceConfig(pixel_scale=0.5).tile_size(224, 1.12) == 448
    assert SliceConfig(mode="always").slices(100, 100, 224) and not SliceConfig(mode="never").slices(9000, 9000, 224)
    for bad in (dict(overlap=0.95), dict(tile=8), dict(pixel_scale=0), dict(mode="sometimes"), dict(window=16)):
        with pytest.raises(GraceError):
            SliceConfig(**bad)


def part(tile: Tile, *boxes) -> TileDetections:
    """Detections of one tile: each box (x1, y1, x2, y2, score, class)."""
    rows = np.array(boxes, dtype=np.float32).reshape(-1, 6)
    return TileDetections(tile, Detections(rows[:, :4], rows[:, 4], rows[:, 5]))


LEFT_TILE, RIGHT_TILE = Tile(0, 0, 200, 200), Tile(150, 0, 350, 200)


def test_a_box_touching_an_inner_tile_border_is_cut_there_and_not_at_the_frame_edge():
    boxes = np.array([[100, 50, 199, 80], [0, 50, 40, 80], [60, 60, 90, 90]], dtype=np.float32)
    assert cut_sides(boxes, LEFT_TILE, 350, 200).tolist() == [RIGHT, 0, 0]
    assert cut_sides(np.array([[150, 50, 220, 80]], np.float32), RIGHT_TILE, 350, 200).tolist() == [LEFT]


def test_pieces_of_a_scratch_cut_by_a_border_become_one_box():
    """A slender scratch from x=60 to x=300: each tile sees a piece ending at its border; IoU of the pieces is small."""
    merged = merge_tile_detections(
        [part(LEFT_TILE, (60, 95, 200, 105, 0.6, 5)), part(RIGHT_TILE, (150, 96, 300, 104, 0.8, 5))], 350, 200, 0.7
    )
    assert len(merged) == 1
    assert merged.xyxy[0].tolist() == [60, 95, 300, 105] and merged.confidence[0] == pytest.approx(0.8)


def test_a_defect_in_the_overlap_seen_twice_is_reported_once():
    merged = merge_tile_detections(
        [part(LEFT_TILE, (160, 20, 190, 50, 0.9, 1)), part(RIGHT_TILE, (161, 21, 190, 51, 0.7, 1))], 350, 200, 0.7
    )
    assert len(merged) == 1 and merged.confidence[0] == pytest.approx(0.9)


def test_a_piece_inside_a_whole_view_of_the_defect_is_dropped():
    whole = part(RIGHT_TILE, (170, 40, 260, 120, 0.9, 2))  # the right tile sees the patch whole
    piece = part(LEFT_TILE, (170, 45, 200, 118, 0.5, 2))  # the left tile sees only its start, cut by its border
    merged = merge_tile_detections([whole, piece], 350, 200, 0.7)
    assert merged.xyxy.tolist() == [[170, 40, 260, 120]]


def test_distinct_defects_stay_distinct():
    """Different classes, or pieces that do not line up across the border, or whole boxes: no joining."""
    other_class = [part(LEFT_TILE, (60, 95, 200, 105, 0.6, 5)), part(RIGHT_TILE, (150, 96, 300, 104, 0.8, 4))]
    assert len(merge_tile_detections(other_class, 350, 200, 0.7)) == 2
    misaligned = [part(LEFT_TILE, (100, 10, 200, 40, 0.6, 5)), part(RIGHT_TILE, (150, 35, 300, 90, 0.8, 5))]
    assert len(merge_tile_detections(misaligned, 350, 200, 0.7)) == 2
    small_inside_large = [part(LEFT_TILE, (20, 20, 120, 120, 0.9, 3), (40, 40, 60, 60, 0.5, 3))]
    assert len(merge_tile_detections(small_inside_large, 350, 200, 0.7)) == 2  # seen whole: a pit in a pit area


def test_a_scratch_across_three_tiles_is_one_box():
    tiles = [Tile(0, 0, 200, 200), Tile(150, 0, 350, 200), Tile(300, 0, 500, 200)]
    pieces = [
        part(tiles[0], (10, 100, 200, 110, 0.7, 5)),
        part(tiles[1], (150, 101, 350, 109, 0.6, 5)),
        part(tiles[2], (300, 100, 480, 110, 0.9, 5)),
    ]
    merged = merge_tile_detections(pieces, 500, 200, 0.7)
    assert merged.xyxy.tolist() == [[10, 100, 480, 110]]


def random_boxes(count: int, seed: int, width: float = 2000, height: float = 1000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, [width, height], (count, 2))
    size = rng.exponential(40, (count, 2)) * rng.choice([0, 1], (count, 1), p=[0.05, 0.95])  # some of no area
    boxes = np.concatenate([corner, corner + size], axis=1).astype(np.float32)
    boxes[::7] = boxes[3]  # exact duplicates too
    return boxes


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sweep_finds_exactly_the_pairs_that_intersect(seed):
    boxes = random_boxes(400, seed)
    first, second = overlapping_pairs(boxes)
    dense = np.triu(intersection_over_smaller(boxes, boxes) > 0, k=1)
    tl = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    br = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    meets = np.triu(((br - tl) > 0).all(axis=2), k=1)
    assert (first < second).all()
    assert set(zip(first.tolist(), second.tolist(), strict=True)) == set(zip(*np.nonzero(meets), strict=True))
    assert dense[first, second].sum() == dense.sum()  # every pair with an overlap is among them


@pytest.mark.parametrize("seed", [0, 1])
def test_dropping_contained_boxes_matches_the_dense_rule(seed):
    boxes = random_boxes(300, seed, 600, 400)
    classes = np.random.default_rng(seed).integers(0, 2, len(boxes))
    droppable = np.random.default_rng(seed + 9).random(len(boxes)) < 0.7
    overlap = intersection_over_smaller(boxes, boxes)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    inside = np.triu(np.ones_like(overlap, dtype=bool), k=1) & (overlap >= 0.8) & (classes[:, None] == classes)
    inside &= (area[None, :] <= area[:, None]) & droppable[None, :]
    expected = np.flatnonzero(~inside.any(axis=0))
    assert 0 < len(expected) < len(boxes)
    assert drop_contained(boxes, np.zeros(len(boxes)), classes, 0.8, droppable).tolist() == expected.tolist()


def test_merging_a_whole_frame_of_boxes_needs_no_quadratic_memory():
    """8192×4096 at 200-pixel tiles: 1485 tiles; 12 000 boxes, most cut by a border. Dense pairwise matrices of
    them took 6 GB (seen with the 100-epoch model on a mosaic frame)."""
    width, height, size, step = 8192, 4096, 200, 150
    tiles = [
        Tile(x, y, min(x + size, width), min(y + size, height))
        for y in range(0, height - 50, step)
        for x in range(0, width - 50, step)
    ]
    rng = np.random.default_rng(0)
    parts = []
    for tile in tiles:
        corner = rng.uniform([tile.x0, tile.y0], [tile.x1 - 20, tile.y1 - 20], (8, 2))
        far = np.minimum(corner + rng.uniform(10, 150, (8, 2)), [tile.x1, tile.y1])
        xyxy = np.concatenate([corner, far], axis=1).astype(np.float32)
        parts.append(TileDetections(tile, Detections(xyxy, rng.uniform(0.3, 0.9, 8), rng.integers(0, 6, 8))))
    assert sum(len(p.detections) for p in parts) > 10_000
    tracemalloc.start()
    try:
        merged = merge_tile_detections(parts, width, height, 0.7)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0 < len(merged) < 12_000
    assert peak < 300e6


# --------------------------------------------------------------------------------------------- with real engines


@pytest.fixture(scope="module")
def engine(exported):
    from grace_core.engine import load_engine

    return load_engine(exported["onnxruntime"], conf=0.05)


@pytest.mark.parametrize("window", [128, 256], ids=["field-sized tiles", "larger tiles"])
def test_batched_tiles_give_the_same_detections_as_one_tile_at_a_time(engine, steel_images, window):
    from grace_core.engine.slicing import predict_sliced

    mosaic = np.concatenate([np.concatenate(steel_images[:1] * 3, axis=1)] * 2, axis=0)  # 600 x 400
    batched = predict_sliced(engine, mosaic, SliceConfig(mode="always", batch=8, window=window))
    single = predict_sliced(engine, mosaic, SliceConfig(mode="always", batch=1, window=window))
    assert len(batched.tiles) > 4 and batched.tiles == single.tiles
    (side,) = {t.x1 - t.x0 for t in batched.tiles}
    assert side == 128 if window == 128 else 128 < side <= window
    assert len(batched.detections) > 20
    # The runtime's arithmetic may differ in the last bits between batch sizes (0.004 px, 1e-5 in score at 224
    # pixels); this untrained model's many borderline boxes (conf 0.05) can then fall either side of NMS or of a
    # tile border's merging test: a few percent may differ (3 of 117 seen); a batch misaligned with its tiles would
    # change nearly all of them.
    for a, b in ((batched.detections, single.detections), (single.detections, batched.detections)):
        same = (box_iou(a.xyxy, b.xyxy) >= 0.999) & (np.abs(a.confidence[:, None] - b.confidence[None, :]) <= 1e-4)
        assert same.any(axis=1).mean() >= 0.95
    assert np.allclose(batched.heatmap, single.heatmap, atol=1e-5)


def test_a_runtime_without_a_batch_axis_gets_one_tile_per_call(engine, steel_images):
    calls = []
    original = engine.run_batch

    def one_at_a_time(tensor):
        calls.append(len(tensor))
        return original(tensor)

    engine.run_batch, engine.max_batch, engine.slicing = one_at_a_time, 1, SliceConfig(window=128)
    try:
        prediction = engine.predict(np.concatenate(steel_images[:1] * 4, axis=1))
    finally:
        del engine.run_batch
        engine.max_batch, engine.slicing = None, SliceConfig()
    assert set(calls) == {1} and len(calls) == len(prediction.tiles) > 1


def test_a_runtime_fixed_at_its_image_size_gets_field_sized_tiles(engine, steel_images):
    """Exports made before inputs of any size (and any runtime that says so) are never given a larger input."""
    sizes = []
    original = engine.run_batch

    def fixed_size(tensor):
        sizes.append(tensor.shape[2:])
        return original(tensor)

    assert engine.any_size  # the export itself takes any size
    engine.run_batch, engine.any_size = fixed_size, False
    try:
        prediction = engine.predict(np.concatenate(steel_images[:1] * 4, axis=1))
    finally:
        del engine.run_batch
        engine.any_size = True
    assert set(sizes) == {(128, 128)} and {t.x1 - t.x0 for t in prediction.tiles} == {128}


def test_a_small_frame_keeps_the_single_image_path(engine, steel_images):
    small = np.ascontiguousarray(steel_images[0][:120, :150])  # the test model's tile is 128: within the slack
    prediction = engine.predict(small)
    assert prediction.tiles == () and prediction.heatmap.shape == small.shape[:2]


def test_a_huge_frame_gets_a_bounded_heatmap_and_overlay_without_full_size_float_copies(engine):
    from grace_core.render import annotate

    frame = np.full((4096, 8192, 3), 128, np.uint8)
    engine.slicing = SliceConfig(heat_max_side=1024, overlap=0.0)
    try:
        prediction = engine.predict(frame)
    finally:
        engine.slicing = SliceConfig()
    assert prediction.heatmap.shape == (512, 1024)
    tracemalloc.start()
    try:
        annotated = annotate(frame, prediction.detections, engine.info.class_names, prediction.heatmap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert annotated.shape == frame.shape
    assert peak < 3 * frame.nbytes  # the output and its copy for the boxes; a float32 copy alone would be 4x


class BlobDetector:
    """A perfect detector of bright rectangles, with the engine's interface: it finds the bright pixels of each
    letterboxed tile and reports their bounding box as class 0. Whatever merging does is then plain to see."""

    def __init__(self, imgsz: int = 128, any_size: bool = False) -> None:
        from grace_core.engine.base import EngineInfo

        self.info = EngineInfo("fake", ("scratch",), imgsz, "fake", "fake", has_heatmap=False)
        self.conf, self.iou, self.any_size = 0.25, 0.7, any_size

    def run(self, tensor: np.ndarray):
        raw = np.zeros((len(tensor), 5, 1), np.float32)
        for i, image in enumerate(tensor):
            ys, xs = np.nonzero(image[0] > 0.9)
            if len(xs):
                x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
                raw[i, :, 0] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, 0.9]
        return raw, None


@pytest.mark.parametrize("any_size", [False, True], ids=["field-sized tiles", "larger tiles"])
@pytest.mark.parametrize(
    "scratch",
    [(20, 60, 470, 66), (100, 10, 108, 330), (95, 95, 140, 140)],  # across three tiles, down two, on a tile corner
)
def test_a_defect_cut_by_tile_borders_is_found_once_and_whole(scratch, any_size):
    from grace_core.engine.slicing import predict_sliced

    frame = np.zeros((360, 500, 3), np.uint8)
    x1, y1, x2, y2 = scratch
    frame[y1:y2, x1:x2] = 255
    config = SliceConfig(mode="always", tile=128, overlap=0.2, window=224)
    sliced = predict_sliced(BlobDetector(any_size=any_size), frame, config)
    (side,) = {t.x1 - t.x0 for t in sliced.tiles}
    assert side == 128 if not any_size else 128 < side <= 224
    found = sliced.detections
    assert len(found) == 1
    assert found.xyxy[0] == pytest.approx(np.array(scratch, np.float32), abs=1.0)


def test_the_shipped_model_finds_the_demo_defects_in_one_large_frame():
    """The demo's NEU-DET tiles laid into one frame: sliced, as many boxes are found as tile by tile; letterboxed
    whole (today's path before slicing), almost none."""
    from grace_core.data.mosaic import compose_mosaic, load_voc_tiles
    from grace_core.engine import load_engine
    from grace_core.models import default_model
    from grace_core.sources.demo import demo_dir

    engine = load_engine(default_model("onnxruntime"))
    images = sorted(demo_dir().glob("*.jpg"))
    tiles = load_voc_tiles(images, demo_dir() / "annotations", engine.info.class_names)
    mosaic = compose_mosaic(tiles, 1700, 650, 8, 3)

    def found(truth_boxes, truth_classes, detections) -> int:
        if not len(detections):
            return 0
        tl = np.maximum(truth_boxes[:, None, :2], detections.xyxy[None, :, :2])
        br = np.minimum(truth_boxes[:, None, 2:], detections.xyxy[None, :, 2:])
        inter = np.prod(np.clip(br - tl, 0, None), axis=2)
        area = lambda b: np.prod(b[:, 2:] - b[:, :2], axis=1)  # noqa: E731
        iou = inter / (area(truth_boxes)[:, None] + area(detections.xyxy)[None, :] - inter)
        return int(((iou >= 0.5) & (truth_classes[:, None] == detections.class_id[None, :])).any(axis=1).sum())

    alone = sum(found(t.boxes, t.classes, engine.predict(t.image).detections) for t in tiles)
    assert engine.any_size  # the shipped export takes larger tiles at the same scale
    in_larger_tiles = engine.predict(mosaic.image)
    sliced = found(mosaic.boxes, mosaic.classes, in_larger_tiles.detections)
    engine.slicing = SliceConfig(window=engine.info.imgsz)
    in_field_tiles = engine.predict(mosaic.image)
    sliced_by_field = found(mosaic.boxes, mosaic.classes, in_field_tiles.detections)
    engine.slicing = SliceConfig(mode="never")
    whole = found(mosaic.boxes, mosaic.classes, engine.predict(mosaic.image).detections)
    assert len(in_larger_tiles.tiles) < len(in_field_tiles.tiles) / 4
    assert alone >= 10
    assert sliced >= 0.9 * alone and sliced_by_field >= 0.9 * alone
    assert whole <= 0.3 * alone
