import pytest
import torch

from grace_core.nn.lite_fen import LiteFEN


def test_fresh_block_is_an_exact_identity_and_keeps_shape():
    block = LiteFEN(32).eval()
    x = torch.randn(2, 32, 20, 24)
    y = block(x)
    assert y.shape == x.shape
    assert torch.equal(y, x)  # gamma starts at 0: a fresh GRACE computes what YOLO11 computes


def test_attention_map_is_cached_on_a_fixed_unit_scale():
    block = LiteFEN(16).eval()
    x = torch.randn(3, 16, 10, 12)
    block(x)
    attention = block.last_attention
    assert attention.shape == (3, 1, 10, 12)
    assert not attention.requires_grad
    assert float(attention.min()) >= 0.0 and float(attention.max()) <= 1.0
    other = torch.randn(3, 16, 10, 12) * 5
    block(other)
    assert not torch.equal(block.last_attention, attention)  # replaced by the latest forward pass


def test_enhancement_is_learned_through_gamma():
    block = LiteFEN(16).train()
    x = torch.randn(2, 16, 8, 8)
    block(x).square().mean().backward()
    assert block.gamma.grad is not None and block.gamma.grad.abs().sum() > 0
    with torch.no_grad():
        block.gamma.fill_(0.5)
    assert not torch.allclose(block.eval()(x), x)


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match="built for 16 channels got a tensor with 8"):
        LiteFEN(16)(torch.randn(1, 8, 4, 4))


def test_cached_map_is_not_pickled():
    import pickle

    block = LiteFEN(8)
    block(torch.randn(1, 8, 4, 4))
    assert pickle.loads(pickle.dumps(block)).last_attention is None


def test_channels_are_mixed_by_the_gate_not_by_a_dense_convolution():
    # The first Lite-FEN's 1x1 convolution cost +4 % of GRACE-s's FLOPs; the default block has none.
    lean, first = LiteFEN(64), LiteFEN(64, pointwise=True)
    assert len(lean.local) == 1 and len(first.local) == 2
    extra = sum(p.numel() for p in first.parameters()) - sum(p.numel() for p in lean.parameters())
    assert extra >= 64 * 64


@pytest.mark.parametrize("pointwise", [False, True])
def test_yaml_args_rebuild_the_same_block(pointwise):
    block = LiteFEN(24, ratio=0.5, kernel_size=5, pointwise=pointwise)
    args = block.yaml_args()
    assert args == [24, 0.5, 5, pointwise]
    rebuilt = LiteFEN(*args)
    shapes = {key: tensor.shape for key, tensor in block.state_dict().items()}
    assert {key: tensor.shape for key, tensor in rebuilt.state_dict().items()} == shapes
