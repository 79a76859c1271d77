"""Camera-aware DepthGen (issue 20): the pipeline's fov_deg / K, the canonical camera, the FOV and aspect
channels (zero initialised, old weights load), and the training examples (canonical labels, FOV and aspect
channels, crop / uncrop)."""

import math

import numpy as np
import pytest
import torch

from depthgen.models.camera import aspect_channel, canonical_scale, fov_channel, normalized_focal, square_focal
from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.depth_param import model_to_depth
from depthgen.models.depth_pipeline import DepthGenPipeline
from depthgen.models.diffusion import make_train_scheduler
from depthgen.models.unet import build_unet, load_adapted, unet_forward

S = 16


def pipe(fov_conditioning=False, canonical=None, objective="diffusion", prediction_type="v_prediction",
         aspect_conditioning=False):
    cfg = ModelConfig(preset="tiny", sample_size=S, fov_conditioning=fov_conditioning,
                      aspect_conditioning=aspect_conditioning)
    unet = build_unet(cfg, 1, seed=0).eval()
    return DepthGenPipeline(unet, make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0, resolution=S,
                            objective=objective, canonical_fov_deg=canonical, prediction_type=prediction_type)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def img():
    return np.random.default_rng(0).random((20, 28, 3)).astype(np.float32)


def run(p, img, **kw):
    return p(img, num_samples=2, num_inference_steps=2, generator=g(), **kw)


def test_models_without_camera_options_ignore_the_camera(img):
    p = pipe()
    assert not p.uses_camera
    base = run(p, img)
    for kw in ({"fov_deg": 40.0}, {"K": np.array([[30.0, 0, 14], [0, 30.0, 10], [0, 0, 1]])}):
        assert np.array_equal(run(p, img, **kw).samples, base.samples)


def test_canonical_camera_scales_predictions_by_the_focal_ratio(img):
    p = pipe(canonical=60.0)
    assert p.uses_camera
    a, b = run(p, img, fov_deg=40.0), run(p, img, fov_deg=90.0)
    want = normalized_focal(img.shape[:2], fov_deg=40.0) / normalized_focal(img.shape[:2], fov_deg=90.0)
    np.testing.assert_allclose(a.samples / b.samples, want, rtol=1e-5)
    assert want == pytest.approx(math.tan(math.radians(45)) / math.tan(math.radians(20)))
    # K and the same field of view are the same camera
    K = np.array([[14 / math.tan(math.radians(20)), 0, 14], [0, 14 / math.tan(math.radians(20)), 10], [0, 0, 1]])
    np.testing.assert_allclose(run(p, img, K=K).samples, a.samples, rtol=1e-6)
    # no camera = the default 60 degrees, here (a square image) the canonical camera: no rescaling
    sq = img[:20, :20]
    np.testing.assert_allclose(run(p, sq).samples, run(pipe(), sq).samples, rtol=1e-6)


def test_canonical_complete_keeps_known_pixels(img):
    p = pipe(canonical=60.0)
    known = np.full(img.shape[:2], 3.0, np.float32)
    mask = np.zeros(img.shape[:2], bool)
    mask[:, :10] = True
    out = p.complete(img, known, mask, num_samples=2, num_inference_steps=2, generator=g(), fov_deg=80.0)
    assert np.array_equal(out.depth[mask], known[mask]) and (out.samples[:, mask] == 3.0).all()


def test_bad_camera_is_value_error(img):
    p = pipe(canonical=60.0)
    for kw, msg in (({"fov_deg": 0.0}, "fov"), ({"fov_deg": 180}, "fov"), ({"K": np.eye(2)}, "K must"),
                    ({"fov_deg": 60.0, "K": np.eye(3)}, "not both")):
        with pytest.raises(ValueError, match=msg):
            run(p, img, **kw)
    with pytest.raises(ValueError, match="canonical_fov_deg"):
        pipe(canonical=200.0)


def test_fov_channel_is_zero_initialised_and_old_weights_load(img):
    old = build_unet(ModelConfig(preset="tiny", sample_size=S), 1, seed=3)
    new = build_unet(ModelConfig(preset="tiny", sample_size=S, fov_conditioning=True), 1, seed=0)
    assert new.config.in_channels == 6 and (new.conv_in.weight[:, 4] == 0).all()
    load_adapted(new, old.state_dict())
    cond = torch.randn(2, 4, S, S)
    x, t = torch.randn(2, 1, S, S), torch.tensor([3, 700])
    task = torch.tensor([4, 4])
    want = unet_forward(old, cond, x, t, task)
    for value in (0.0, -0.5, 0.4):  # any FOV: the loaded model computes what the old one did
        got = unet_forward(new, torch.cat([cond, torch.full((2, 1, S, S), value)], 1), x, t, task)
        assert torch.allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="fov_conditioning"):
        load_adapted(build_unet(ModelConfig(preset="tiny", sample_size=S), 1), new.state_dict())


def test_fov_conditioned_pipeline_uses_the_fov_and_round_trips(img, tmp_path):
    p = pipe(fov_conditioning=True, canonical=60.0)
    with torch.no_grad():
        p.unet.conv_in.weight[:, 4] = 0.5  # as if trained: the output now depends on the FOV channel
    a = run(p, img, fov_deg=50.0)
    assert not np.allclose(a.samples, run(p, img, fov_deg=80.0).samples * (square_focal(50) / square_focal(80)))
    p.save_pretrained(tmp_path / "p")
    q = DepthGenPipeline.from_pretrained(tmp_path / "p")
    assert q.fov_conditioned and q.config.canonical_fov_deg == 60.0
    assert np.array_equal(run(q, img, fov_deg=50.0).samples, a.samples)


def test_aspect_channel_values():
    assert aspect_channel((48, 48)) == 0.0
    assert aspect_channel((60, 80)) == pytest.approx(math.log(0.75))  # 4:3 landscape squashed to a square
    assert aspect_channel((80, 60)) == pytest.approx(math.log(4 / 3))
    K = np.array([[50.0, 0, 40], [0, 50.0, 30], [0, 0, 1]])
    assert aspect_channel((60, 80), K) == pytest.approx(math.log(0.75))  # square pixels: the same
    K[0, 0] = 100.0 * 80 / 60  # pixels twice as wide as tall, in a 4:3 frame: squashed, they come out 4:3 wide
    assert aspect_channel((60, 80), K) == pytest.approx(math.log((K[0, 0] / 80) / (50.0 / 60)))
    with pytest.raises(ValueError, match="K must"):
        aspect_channel((60, 80), np.eye(2))


def test_aspect_channel_is_zero_initialised_and_fov_weights_load(img):
    """An FOV-conditioned model (cycles 7-8) loads into an aspect-conditioned one and computes the same; the
    aspect-conditioned weights refuse to load into a model without the channel."""
    fov = build_unet(ModelConfig(preset="tiny", sample_size=S, fov_conditioning=True), 1, seed=3)
    both = build_unet(ModelConfig(preset="tiny", sample_size=S, fov_conditioning=True, aspect_conditioning=True), 1)
    assert both.config.in_channels == 7 and (both.conv_in.weight[:, 4:6] == 0).all()
    load_adapted(both, fov.state_dict())
    cond = torch.randn(2, 5, S, S)
    x, t, task = torch.randn(2, 1, S, S), torch.tensor([3, 700]), torch.tensor([4, 4])
    want = unet_forward(fov, cond, x, t, task)
    for value in (0.0, math.log(0.75)):
        got = unet_forward(both, torch.cat([cond, torch.full((2, 1, S, S), value)], 1), x, t, task)
        assert torch.allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match="aspect_conditioning=true"):
        load_adapted(fov, both.state_dict())
    with pytest.raises(ValueError, match="needs model.fov_conditioning"):
        recipe("model.aspect_conditioning=true")


def test_aspect_conditioned_pipeline_feeds_the_squash_and_round_trips(img, tmp_path):
    """The pipeline gives the UNet the image's aspect channel: it moves the output of a non-square image and
    not of a square one; the weights round-trip."""
    p = pipe(fov_conditioning=True, canonical=60.0, aspect_conditioning=True)
    assert p.aspect_conditioned and p.fov_conditioned
    with torch.no_grad():
        p.unet.conv_in.weight[:, 5] = 0.5  # as if trained: the output now depends on the aspect channel
    wide = run(p, img, fov_deg=70.0).samples
    assert wide.shape[1:] == (20, 28)
    p.save_pretrained(tmp_path / "p")
    q = DepthGenPipeline.from_pretrained(tmp_path / "p")
    assert q.aspect_conditioned
    assert np.array_equal(run(q, img, fov_deg=70.0).samples, wide)
    with torch.no_grad():  # without the aspect filters: the 20 x 28 image changes, a square one does not
        q.unet.conv_in.weight[:, 5] = 0.0
    assert not np.allclose(run(q, img, fov_deg=70.0).samples, wide)
    sq = img[:, :20]
    assert np.allclose(run(q, sq, fov_deg=70.0).samples, run(p, sq, fov_deg=70.0).samples, atol=1e-5)


@pytest.mark.parametrize("ptype", ["sample", "v_prediction"])
def test_single_step_pipeline_is_one_deterministic_pass(img, ptype):
    p = pipe(objective="single_step", prediction_type=ptype)
    out = p(img, num_samples=3, generator=g(1))
    assert out.samples.shape == (3, 20, 28) and (out.uncertainty == 0).all()
    assert np.array_equal(out.depth, p(img, num_samples=1, generator=g(2)).depth)
    known = np.full(img.shape[:2], 2.0, np.float32)
    mask = np.zeros(img.shape[:2], bool)
    mask[5:9] = True
    assert np.array_equal(p.complete(img, known, mask, num_samples=2).depth[mask], known[mask])
    with pytest.raises(ValueError, match="objective"):
        pipe(objective="two_step")


# ------------------------------------------------------------------------------------- training examples
class Shards(torch.utils.data.Dataset):
    """Three shard-like items at 24x24 with a known camera (fx = 20 px, hfov 62 degrees) and a far wall."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        depth = rng.uniform(2, 6, (24, 24)).astype(np.float32)
        return {"rgb": (rng.random((24, 24, 3)) * 255).astype(np.uint8), "depth": depth, "valid": depth > 0,
                "sensor_depth": depth.copy(), "outdoor": False,
                "K": np.array([[20.0, 0, 12], [0, 20.0, 12], [0, 0, 1]])}


def recipe(*over):
    from pathlib import Path

    from depthgen.common.config import load_config
    from depthgen.training.recipe import Recipe

    tiny = Path(__file__).resolve().parents[2] / "configs" / "depthgen" / "tiny.yaml"
    return load_config(Recipe, tiny, ["stage=finetune", "model.sample_size=16", "data.hflip=false", *over])


def examples(*over):
    from depthgen.training.data import TrainingExamples

    return TrainingExamples(Shards(), recipe(*over))


def test_default_examples_are_unchanged_by_the_new_options():
    plain = examples()[(1, 5)]
    assert set(plain) == {"cond", "target", "valid", "task"} and plain["cond"].shape == (4, 16, 16)
    off = examples("data.fov_aug_prob=0.0", "depth.canonical_fov_deg=null", "model.fov_conditioning=false")[(1, 5)]
    assert all(torch.equal(plain[k], off[k]) for k in plain)


def test_canonical_labels_are_scaled_by_the_focal_ratio():
    plain = examples()[(1, 5)]
    canon = examples("depth.canonical_fov_deg=45")[(1, 5)]
    f = normalized_focal((24, 24), K=Shards()[1]["K"])
    d0 = model_to_depth(plain["target"], "log", 0.1, 80.0)
    d1 = model_to_depth(canon["target"], "log", 0.1, 80.0)
    assert torch.allclose(d1 / d0, torch.tensor(canonical_scale(f, 45.0), dtype=torch.float32), rtol=1e-4)
    assert torch.allclose(canon["K"][0, 0], torch.tensor(20.0 * 16 / 24))
    assert torch.equal(canon["cond"], plain["cond"])


def test_fov_conditioning_adds_the_fov_channel():
    ex = examples("model.fov_conditioning=true")[(0, 2)]
    f = normalized_focal((24, 24), K=Shards()[0]["K"])
    assert ex["cond"].shape == (5, 16, 16)
    assert torch.allclose(ex["cond"][4], torch.tensor(fov_channel(f), dtype=torch.float32))


def test_aspect_conditioning_adds_the_aspect_channel():
    ex = examples("model.fov_conditioning=true", "model.aspect_conditioning=true")[(0, 2)]
    assert ex["cond"].shape == (6, 16, 16)
    assert torch.allclose(ex["cond"][5], torch.zeros(16, 16))  # a square view with square pixels

    class Wide(Shards):  # the same items cropped to 24 x 18 (4:3 portrait) with their K
        def __getitem__(self, i):
            item = super().__getitem__(i)
            item.update(rgb=item["rgb"][:, 3:21], depth=item["depth"][:, 3:21], valid=item["valid"][:, 3:21],
                        sensor_depth=item["sensor_depth"][:, 3:21])
            item["K"] = np.array([[20.0, 0, 9], [0, 20.0, 12], [0, 0, 1]])
            return item

    from depthgen.training.data import TrainingExamples

    ex = TrainingExamples(Wide(), recipe("model.fov_conditioning=true", "model.aspect_conditioning=true"))[(0, 2)]
    assert torch.allclose(ex["cond"][5], torch.tensor(math.log(24 / 18), dtype=torch.float32))
    assert torch.allclose(ex["cond"][4], torch.tensor(fov_channel(normalized_focal((24, 18), K=Wide()[0]["K"])),
                                                       dtype=torch.float32))


def test_fov_augmentation_crops_and_uncrops_and_records_K():
    ds = examples("data.fov_aug_prob=1.0", "data.fov_aug_max_zoom=1.5", "model.fov_conditioning=true")
    zooms, uncropped = [], 0
    for seed in range(24):
        ex = ds[(seed % 3, seed)]
        zoom = float(ex["K"][0, 0]) / (20.0 * 16 / 24)
        zooms.append(zoom)
        f = normalized_focal((16, 16), K=ex["K"].double().numpy())
        assert torch.allclose(ex["cond"][4], torch.tensor(fov_channel(f), dtype=torch.float32), atol=1e-5)
        if zoom < 0.9:
            uncropped += int(not ex["valid"].all())
        elif zoom > 1.0:
            assert ex["valid"].all(), zoom  # a crop stays inside the image
    assert min(zooms) >= 1 / 1.5 - 1e-4 and max(zooms) <= 1.5 + 1e-4
    assert max(zooms) > 1.1 and min(zooms) < 0.9 and uncropped > 0
    a, b = ds[(1, 7)], ds[(1, 7)]
    assert all(torch.equal(a[k], b[k]) for k in a)  # an example depends only on its key
