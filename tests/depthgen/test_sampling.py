"""Sampling loop and aggregation: determinism, known-pixel imputation, chunk independence."""

import pytest
import torch

from depthgen.models.aggregate import aggregate
from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.diffusion import make_train_scheduler
from depthgen.models.sampling import make_sampler, sample, sample_generators
from depthgen.models.unet import build_unet


@pytest.fixture(scope="module")
def parts():
    unet = build_unet(ModelConfig(preset="tiny", sample_size=16), 1).eval()
    return unet, make_train_scheduler(DiffusionConfig())


def T(n):
    return torch.full((n,), 4)


def gens(seed, n):
    return sample_generators(torch.Generator().manual_seed(seed), n)


@pytest.mark.parametrize("kind", ["ddim", "dpm"])
def test_same_seed_same_sample(parts, kind):
    unet, sched = parts
    cond = torch.rand(2, 4, 16, 16) * 2 - 1
    a = sample(unet, sched, cond, 1, gens(0, 2), 4, kind, T(2))
    b = sample(unet, sched, cond, 1, gens(0, 2), 4, kind, T(2))
    c = sample(unet, sched, cond, 1, gens(1, 2), 4, kind, T(2))
    assert a.shape == (2, 1, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 and a.max() <= 1


def test_batch_equals_items(parts):
    unet, sched = parts
    cond = torch.rand(1, 4, 16, 16).expand(3, -1, -1, -1) * 2 - 1
    g = gens(4, 3)
    whole = sample(unet, sched, cond, 1, [torch.Generator().set_state(x.get_state()) for x in g], 3, "ddim", T(3))
    one = torch.cat([sample(unet, sched, cond[i:i + 1], 1, [g[i]], 3, "ddim", T(1)) for i in range(3)])
    assert torch.allclose(whole, one, atol=1e-5)


@pytest.mark.parametrize("resample", [0, 2])
def test_known_pixels_kept_exactly(parts, resample):
    unet, sched = parts
    cond = torch.rand(2, 4, 16, 16) * 2 - 1
    known = torch.rand(2, 1, 16, 16) * 2 - 1
    mask = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
    mask[..., :8] = True
    out = sample(unet, sched, cond, 1, gens(0, 2), 3, "ddim", T(2), known=known, known_mask=mask, resample=resample)
    assert torch.equal(out[mask], known[mask])
    assert not torch.equal(out[~mask], known[~mask])


def test_resample_needs_ddim(parts):
    unet, sched = parts
    with pytest.raises(ValueError, match="ddim"):
        sample(unet, sched, torch.zeros(1, 4, 16, 16), 1, gens(0, 1), 2, "dpm", T(1), resample=1)
    with pytest.raises(ValueError, match="scheduler"):
        make_sampler(sched.config, "euler")


def test_aggregate():
    s = torch.tensor([[1.0, 2.0], [3.0, 2.0], [10.0, 2.0], [4.0, 2.0]])
    med, std = aggregate(s)
    assert med.tolist() == [3.5, 2.0]
    assert std[1] == 0 and std[0] > 0
    mean, _ = aggregate(s, "mean")
    assert mean.tolist() == [4.5, 2.0]
    one, zero = aggregate(s[:1])
    assert torch.equal(one, s[0]) and (zero == 0).all()
    with pytest.raises(ValueError, match="median"):
        aggregate(s, "mode")
