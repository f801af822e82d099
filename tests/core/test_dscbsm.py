"""Properties of DS-CBSM++ (docs/method.md): who gains probability, the floors and bounds, determinism."""

import numpy as np
import pytest
import torch

from grace_core.training.dscbsm import (
    DSCBSM,
    DSCBSMConfig,
    SignalAccumulator,
    WeightedEpochSampler,
    class_weights,
    image_probabilities,
)

CONFIG = DSCBSMConfig(momentum=0.0)  # no smoothing: one update shows the full effect
BCE = DSCBSMConfig(momentum=0.0, signal="bce", rarity="instances")  # the first definition (docs/method.md §2.2)


def test_a_rare_class_gains_weight_and_its_images_gain_probability():
    instances = np.array([900.0, 100.0])
    weights = class_weights(np.array([0.5, 0.5]), np.array([0.2, 0.2]), instances, None, CONFIG)
    assert weights[1] > weights[0]
    images = [np.array([0])] * 9 + [np.array([1])]
    p = image_probabilities(weights, images, np.full(10, np.nan), CONFIG)
    assert p[9] > p[0]


def test_a_low_confidence_class_gains_weight():
    weights = class_weights(np.array([0.9, 0.3]), np.array([0.2, 0.2]), np.array([50.0, 50.0]), None, BCE)
    assert weights[1] > weights[0]


def test_a_class_with_larger_gradients_gains_weight():
    weights = class_weights(np.array([0.5, 0.5]), np.array([0.1, 0.4]), np.array([50.0, 50.0]), None, BCE)
    assert weights[1] > weights[0]
    ratio = (0.4 / 0.25) ** BCE.beta / (0.1 / 0.25) ** BCE.beta  # nothing else differs: the exact ratio
    assert weights[1] / weights[0] == pytest.approx(ratio)


def test_the_quality_signal_weights_classes_by_their_relative_shortfall():
    """Quality q = mean p·t: the class at half the mean quality gets twice the difficulty (α = 1), at any scale."""
    for scale in (0.01, 1.0):  # early in training every p is tiny: the relative form still discriminates
        quality = scale * np.array([0.2, 0.6, 0.4])
        weights = class_weights(np.full(3, 0.5), quality, np.array([50.0, 50.0, 50.0]), None, CONFIG)
        assert weights[0] / weights[1] == pytest.approx(3.0)
        assert weights[0] > weights[2] > weights[1]


def test_weights_have_mean_one_and_stay_in_their_bounds():
    rng = np.random.default_rng(0)
    for _ in range(50):
        k = rng.integers(2, 12)
        for config in (CONFIG, BCE):
            signals = (rng.uniform(0, 1, k), rng.uniform(0, 1, k), rng.integers(1, 5000, k))
            weights = class_weights(*signals, None, config)
            assert weights.mean() == pytest.approx(1.0, abs=1e-3)
            assert weights.min() >= config.weight_min - 1e-3 and weights.max() <= config.weight_max + 1e-3


def test_smoothing_moves_weights_part_of_the_way_and_unseen_classes_keep_theirs():
    smooth = DSCBSMConfig(momentum=0.5, signal="bce")
    signals = (np.array([0.9, 0.1, np.nan]), np.array([0.2, 0.2, np.nan]), np.array([10.0, 10.0, 10.0]))
    jump = class_weights(*signals, None, BCE)
    step = class_weights(*signals, None, smooth)
    assert 1.0 < step[1] < jump[1]  # half-way from 1 towards the unsmoothed value (before re-normalising)
    previous = np.array([0.8, 1.2, 1.7])
    kept = class_weights(*signals, previous / previous.mean(), BCE)
    assert kept[2] == pytest.approx((previous / previous.mean())[2], rel=1e-3)


def test_the_uniform_floor_holds_for_every_image():
    config = DSCBSMConfig(uniform_mix=0.3)
    weights = np.array([3.0, 0.5])
    images = [np.array([0])] * 99 + [np.array([1])]
    loss = np.linspace(0.01, 10, 100)
    p = image_probabilities(weights, images, loss, config)
    assert p.sum() == pytest.approx(1.0)
    assert p.min() >= config.uniform_mix / len(images) - 1e-12


def test_a_hard_image_gains_probability_over_an_easy_one_of_the_same_class():
    images = [np.array([0])] * 4
    p = image_probabilities(np.array([1.0]), images, np.array([0.1, 0.1, 0.1, 2.0]), CONFIG)
    assert p[3] > p[0] == pytest.approx(p[1])
    no_hardness = image_probabilities(np.array([1.0]), images, np.array([0.1, 0.1, 0.1, 2.0]), DSCBSMConfig(hardness=0))
    assert np.allclose(no_hardness, 0.25)


def test_signals_are_the_confidence_and_exact_bce_gradient_at_positives():
    acc = SignalAccumulator(num_classes=2, num_images=3)
    logits = torch.tensor([[[0.0, -2.0], [1.0, 1.0]], [[-1.0, 2.0], [0.0, 0.0]]])  # (B=2, A=2, C=2)
    labels = torch.tensor([[0, 1], [1, 0]])
    scores = torch.zeros(2, 2, 2)
    scores[0, 0, 0], scores[0, 1, 1], scores[1, 0, 1] = 0.8, 0.6, 1.0
    foreground = torch.tensor([[True, True], [True, False]])
    acc.add_batch(logits, labels, scores, foreground, [0, 2], hardness_momentum=0.5)
    confidence, gradient, positives = acc.class_statistics("bce")
    s = torch.sigmoid
    assert positives.tolist() == [1, 2]
    assert confidence[0] == pytest.approx(float(s(torch.tensor(0.0))))
    assert confidence[1] == pytest.approx(float((s(torch.tensor(1.0)) + s(torch.tensor(2.0))) / 2))
    assert gradient[1] == pytest.approx(float((abs(s(torch.tensor(1.0)) - 0.6) + abs(s(torch.tensor(2.0)) - 1.0)) / 2))
    assert np.isnan(acc.image_loss[1]) and not np.isnan(acc.image_loss[[0, 2]]).any()
    _, quality, _ = acc.class_statistics("quality")
    assert quality[0] == pytest.approx(float(s(torch.tensor(0.0))) * 0.8)
    assert quality[1] == pytest.approx(float((s(torch.tensor(1.0)) * 0.6 + s(torch.tensor(2.0)) * 1.0) / 2))


def test_sampler_length_is_stable_and_seeded_runs_repeat():
    a, b = WeightedEpochSampler(50, seed=7), WeightedEpochSampler(50, seed=7)
    first_a, first_b = list(a), list(b)
    assert sorted(first_a) == list(range(50))  # uniform: a permutation
    assert first_a == first_b
    p = np.linspace(1, 5, 50)
    a.set_probabilities(p)
    b.set_probabilities(p)
    first, second = list(a), list(b)
    assert first == second and len(first) == len(a) == 50
    assert list(a) != first  # a new epoch draws anew
    assert list(WeightedEpochSampler(50, seed=8)) != list(WeightedEpochSampler(50, seed=7))


def test_sampler_draws_follow_the_probabilities_and_resume_exactly():
    sampler = WeightedEpochSampler(4, seed=0)
    sampler.set_probabilities(np.array([0.1, 0.2, 0.3, 0.4]))
    counts = np.bincount([i for _ in range(5000) for i in sampler], minlength=4) / 20000
    assert np.allclose(counts, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    state = sampler.state_dict()
    expected = list(sampler)
    resumed = WeightedEpochSampler(4, seed=123)
    resumed.load_state_dict(state)
    assert list(resumed) == expected


def test_warm_up_keeps_sampling_uniform_then_weights_take_over():
    images = [np.array([0])] * 8 + [np.array([1, 1])] * 2
    controller = DSCBSM(["common", "rare"], images, DSCBSMConfig(warmup_epochs=2), seed=0)
    for epoch in (1, 2, 3):
        logits = torch.tensor([[[3.0, -3.0]]])  # common confident, rare not
        controller.signals.add_batch(
            logits, torch.tensor([[0]]), torch.tensor([[[1.0, 0.0]]]), torch.tensor([[True]]), [0], 0.5
        )
        controller.signals.add_batch(
            logits, torch.tensor([[1]]), torch.tensor([[[0.0, 1.0]]]), torch.tensor([[True]]), [9], 0.5
        )
        report = controller.end_epoch(epoch)
        assert report.active == (epoch >= 2)
        assert controller.sampler.uniform == (epoch < 2)
    assert report.class_weights["rare"] > report.class_weights["common"]
    assert report.sampling_shares["rare"] > report.natural_shares["rare"]


def test_the_localization_signal_favours_the_badly_localised_class():
    """Same confidence, same |p − t|-free setting: the class whose positives get low IoU-aware targets gains."""
    acc = SignalAccumulator(num_classes=2, num_images=2)
    logits = torch.full((1, 2, 2), -3.0)  # p ≈ 0.047 everywhere
    labels = torch.tensor([[0, 1]])
    scores = torch.zeros(1, 2, 2)
    scores[0, 0, 0], scores[0, 1, 1] = 0.9, 0.1  # class 0 well localised, class 1 badly
    acc.add_batch(logits, labels, scores, torch.tensor([[True, True]]), [0], hardness_momentum=0.5)
    confidence, shortfall, _ = acc.class_statistics("localization")
    assert shortfall == pytest.approx([0.1, 0.9])
    _, bce, _ = acc.class_statistics("bce")
    assert bce[1] < bce[0]  # the "bce" signal ranks them the other way round (docs/method.md, limits)
    config = DSCBSMConfig(momentum=0.0, signal="localization")
    weights = class_weights(confidence, shortfall, np.array([10.0, 10.0]), None, config)
    assert weights[1] > weights[0]
    _, quality, _ = acc.class_statistics("quality")  # the default ranks them like "localization" does
    assert class_weights(confidence, quality, np.array([10.0, 10.0]), None, CONFIG)[1] > 1.0
    with pytest.raises(ValueError, match="signal must be one of"):
        DSCBSMConfig(signal="magic")


def test_rarity_counts_images_by_default_not_boxes():
    """Inclusion-like class: as many images as the other, but many boxes each. Only the box count calls it common."""
    images = [np.array([0] * 6)] * 5 + [np.array([1])] * 5  # class 0: 30 boxes in 5 images; class 1: 5 in 5
    by_images = DSCBSM(["many-boxes", "one-box"], images, DSCBSMConfig(momentum=0.0, warmup_epochs=0))
    by_boxes = DSCBSM(
        ["many-boxes", "one-box"], images, DSCBSMConfig(momentum=0.0, warmup_epochs=0, rarity="instances")
    )
    for controller in (by_images, by_boxes):
        for label in (0, 1):  # identical confidence and localisation for both classes
            controller.signals.add_batch(
                torch.zeros(1, 1, 2),
                torch.tensor([[label]]),
                torch.full((1, 1, 2), 0.5),
                torch.tensor([[True]]),
                [0],
                0.5,
            )
    assert by_images.end_epoch(1).class_weights["many-boxes"] == pytest.approx(1.0)
    assert by_boxes.end_epoch(1).class_weights["many-boxes"] < 1.0
    with pytest.raises(ValueError, match="rarity must be one of"):
        DSCBSMConfig(rarity="pixels")
