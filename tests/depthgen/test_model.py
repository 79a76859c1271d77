"""UNet presets, forward shapes, and the pretrain -> depth channel adaptation."""

import pytest
import torch

from depthgen.models.config import ModelConfig
from depthgen.models.unet import adapt_state_dict, build_unet, count_parameters, load_adapted, unet_forward


def tiny(size=16):
    return ModelConfig(preset="tiny", sample_size=size)


def test_presets_sizes():
    assert count_parameters(build_unet(tiny(), 3)) < 60_000
    n_small = count_parameters(build_unet(ModelConfig(preset="small"), 1))
    assert 2_000_000 <= n_small <= 4_500_000


@pytest.mark.parametrize("channels", [1, 3])
def test_forward_shape(channels):
    unet = build_unet(tiny(), channels)
    cond, x = torch.randn(2, 4, 16, 16), torch.randn(2, channels, 16, 16)
    out = unet_forward(unet, cond, x, torch.tensor([0, 999]), torch.tensor([0, 4]))
    assert out.shape == (2, channels, 16, 16)


def test_seeded_init():
    a, b = build_unet(tiny(), 1, seed=3), build_unet(tiny(), 1, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_adapt_rgb_to_depth_is_replicated_input():
    rgb = build_unet(tiny(), 3, seed=1).eval()
    depth = build_unet(tiny(), 1, seed=2).eval()
    load_adapted(depth, rgb.state_dict())
    cond, d = torch.randn(1, 4, 16, 16), torch.randn(1, 1, 16, 16)
    t, task = torch.tensor([10]), torch.tensor([4])
    with torch.no_grad():
        want = unet_forward(rgb, cond, d.expand(-1, 3, -1, -1), t, task).mean(1, keepdim=True)
        got = unet_forward(depth, cond, d, t, task)
    # Feeding depth replicated to RGB and averaging the RGB output == the adapted model.
    assert torch.allclose(want, got, atol=1e-5)


def test_adapt_same_channels_is_identity():
    s = build_unet(tiny(), 1).state_dict()
    out = adapt_state_dict(s, 1)
    assert all(torch.equal(out[k], s[k]) for k in s)


def test_mismatched_architecture_is_value_error():
    other = build_unet(ModelConfig(preset="tiny", block_out_channels=(16, 16), norm_num_groups=8), 3).state_dict()
    with pytest.raises(ValueError, match="does not match"):
        load_adapted(build_unet(tiny(), 1), other)
