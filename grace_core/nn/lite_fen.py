"""Lite-FEN: a light feature-enhancement block for the P3 (stride 8) level of YOLO11.

The block is residual and channel-preserving, so it drops into ultralytics' YAML between two existing layers:

    t = DW3x3(x)                                      local texture / edge enhancement (depthwise Conv-BN-SiLU)
    t = t * sigmoid(MLP(avgpool(t)) + MLP(maxpool(t)))  channel attention (shared two-layer MLP, ratio 1/2)
    a = sigmoid(Conv7x7([mean_c(t), max_c(t)]))       spatial attention map, (B, 1, H, W), in [0, 1]
    y = x + gamma * (t * a)                           gamma: per-channel scale, initialised to 0

``gamma = 0`` at initialisation makes a fresh GRACE model compute exactly what its YOLO11 counterpart computes, so
pretrained YOLO11 weights keep their behaviour at step 0 and Lite-FEN is learned as a correction.

Channels are mixed only by the channel-attention gate, not by a dense convolution: the first version had a 1×1
convolution after the depthwise one (``pointwise=True``, kept for checkpoints made with it), which alone cost +4 %
of GRACE-s's FLOPs and +6–9 % latency on ONNX Runtime / OpenVINO, over the project's +5 % budget
(``docs/method.md`` §1, ``benchmarks/lite_fen_cost.py``).

``a`` is what the app shows as the heatmap: it is produced by the same forward pass, kept on its fixed [0, 1] scale
(never re-normalised per image — that would make clean steel look defective), and stored in
:attr:`LiteFEN.last_attention` (detached) for whoever wants it after ``model(x)``.
"""

from __future__ import annotations

import torch
from torch import nn
from ultralytics.nn.modules import Conv, DWConv


class ChannelAttention(nn.Module):
    """CBAM-style channel gate: a shared MLP over the average- and max-pooled channel descriptors."""

    def __init__(self, channels: int, ratio: float = 0.5) -> None:
        super().__init__()
        hidden = max(8, int(channels * ratio))
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.SiLU(),
            nn.Conv2d(hidden, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        peak = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        return x * torch.sigmoid(avg + peak)


class SpatialAttention(nn.Module):
    """Spatial gate from the channel-wise mean and max maps; returns the map itself, in [0, 1]."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.conv(pooled))


class LiteFEN(nn.Module):
    """Lite feature-enhancement network block (channel-preserving, residual). See the module docstring.

    Args:
        channels: input = output channels. In a model YAML write ``[-1, 1, LiteFEN, [c2]]``: ultralytics'
            ``parse_model`` resolves the string ``c2`` to the previous layer's (scaled) output channels, so one YAML
            serves every model scale.
        ratio: hidden width of the channel-attention MLP as a fraction of ``channels``.
        kernel_size: kernel of the spatial-attention convolution.
        pointwise: add the first version's 1×1 convolution after the depthwise one (costly; see the module docstring).
    """

    def __init__(self, channels: int, ratio: float = 0.5, kernel_size: int = 7, pointwise: bool = False) -> None:
        super().__init__()
        self.channels = channels
        mixing = [Conv(channels, channels, 1)] if pointwise else []
        self.local = nn.Sequential(DWConv(channels, channels, 3), *mixing)
        self.channel_attention = ChannelAttention(channels, ratio)
        self.spatial_attention = SpatialAttention(kernel_size)
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.channels:
            raise ValueError(f"LiteFEN built for {self.channels} channels got a tensor with {x.shape[1]}")
        t = self.channel_attention(self.local(x))
        attention = self.spatial_attention(t)
        self.last_attention = attention.detach()
        return x + self.gamma * (t * attention)

    def yaml_args(self) -> list:
        """This block's constructor arguments, read from its layers (so also right for blocks unpickled from old
        checkpoints, whose YAML did not spell them out)."""
        ratio = self.channel_attention.mlp[0].out_channels / self.channels
        kernel = self.spatial_attention.conv.kernel_size[0]
        return [self.channels, ratio, kernel, len(self.local) > 1]

    def __getstate__(self) -> dict:
        # Never pickle the cached map into checkpoints.
        state = self.__dict__.copy()
        state["last_attention"] = None
        return state
