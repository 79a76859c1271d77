"""The super-resolution cascade of text3d (text3d.run.upscale, text3d.geometry.upsample): tiny random models and
stand-in backends built here, no shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from text3d.backends.protocols import DepthResult
from text3d.config import SRConfig, load_preset
from text3d.geometry.upsample import area_downsample, bilinear_upsample, joint_bilateral_upsample
from text3d.run.upscale import Upscaler, compose_view, lowres_holes


def _step_scene(size: int = 64, edge: int = 30):
    """A view whose colour and depth both step at column ``edge`` (not on a 4-px block border)."""
    g = np.zeros((size, size, 3), np.float32)
    g[:, :edge] = [0.8, 0.3, 0.2]
    g[:, edge:] = [0.2, 0.4, 0.9]
    depth = np.where(np.arange(size)[None, :] < edge, 1.0, 3.0).astype(np.float32) * np.ones((size, 1), np.float32)
    return g, depth


def test_guided_upsampling_puts_a_depth_step_on_the_image_edge():
    guide, depth = _step_scene()
    low = area_downsample(depth, 4)  # block 7 straddles the edge: depth 2.0, a mixed colour
    up = joint_bilateral_upsample(low, guide)
    assert up.shape == depth.shape
    np.testing.assert_allclose(up[:, :30], 1.0, atol=0.02)
    np.testing.assert_allclose(up[:, 30:], 3.0, atol=0.02)
    plain = bilinear_upsample(low, depth.shape)
    assert np.abs(plain - depth).max() > 0.5  # the baseline smears the step over several pixels


def test_guided_upsampling_keeps_a_smooth_depth_and_marks_empty_windows():
    yy, xx = np.mgrid[:16, :16].astype(np.float32)
    low = 2.0 + 0.05 * xx + 0.02 * yy
    guide = np.full((64, 64, 3), 0.5, np.float32)
    up = joint_bilateral_upsample(low, guide)
    np.testing.assert_allclose(area_downsample(up, 4)[2:-2, 2:-2], low[2:-2, 2:-2], atol=0.01)
    low[:8] = 0.0  # invalid: no depth to spread
    up = joint_bilateral_upsample(low, guide)
    assert (up[:24] == 0).all() and (up[36:] > 0).all()


def test_compose_keeps_known_pixels_and_leaves_no_seam():
    rng = np.random.default_rng(0)
    rendered = np.clip(0.5 + 0.1 * rng.standard_normal((32, 32, 3)), 0, 1).astype(np.float32)
    holes = np.zeros((32, 32), bool)
    holes[:, 16:] = True
    painted = np.clip(rendered + 0.2, 0, 1)  # the super-resolved paint is off by a colour shift
    out = compose_view(rendered, holes, painted, band=3)
    np.testing.assert_array_equal(out[~holes], rendered[~holes])
    hard = compose_view(rendered, holes, painted, band=0)
    step = lambda im: np.abs(im[:, 16].mean(0) - im[:, 15].mean(0)).max()  # noqa: E731  mean colour step
    assert step(hard) > 0.15 and step(out) < 0.03
    np.testing.assert_allclose(out[:, 20:], painted[:, 20:], atol=1e-6)  # beyond the band: the paint itself


def test_lowres_holes_cover_every_partial_block():
    holes = np.zeros((16, 16), bool)
    holes[5, 9] = True
    low = lowres_holes(holes, 4)
    assert low.shape == (4, 4) and low[1, 2] and low.sum() == 1


class _Pipe:
    """Stand-in super-resolution pipeline: nearest-neighbour upsampling."""

    class config:  # noqa: N801
        scale = 4

    def __call__(self, image, level=None, num_inference_steps=None, generator=None):
        return np.repeat(np.repeat(image, 4, 0), 4, 1)


def test_upscaler_depth_keeps_known_depth_exactly():
    guide, depth = _step_scene()
    up = Upscaler(_Pipe(), SRConfig(enabled=True))
    known = np.zeros(depth.shape, bool)
    known[:, :20] = True
    known_depth = (depth + 0.123 * known).astype(np.float32)
    res = up.depth(DepthResult(area_downsample(depth, 4), np.full((16, 16), 0.1, np.float32)), guide,
                   area_downsample(guide, 4), known_depth=known_depth, known_mask=known)
    np.testing.assert_array_equal(res.depth[known], known_depth[known])
    assert (res.uncertainty[known] == 0).all() and (res.uncertainty[~known] > 0).all()
    np.testing.assert_allclose(res.depth[:, 30:], 3.0, atol=0.02)


def test_default_preset_is_the_cascade_and_hd_its_alias():
    from dataclasses import asdict

    cfg = load_preset("default")
    assert cfg.sr.enabled and (cfg.height, cfg.width) == (256, 256) and cfg.video.height >= 512
    assert asdict(load_preset("hd")) == asdict(cfg)  # kept for commands written before issue 19
    with pytest.raises(ValueError, match="multiple of 32"):
        load_preset("default", ["height=248"])
    with pytest.raises(ValueError, match="sr.level"):
        load_preset("default", ["sr.level=2"])
    fast, sd = load_preset("fast"), load_preset("sd")
    assert not fast.sr.enabled and (fast.height, fast.width) == (64, 64)  # the preview stays at the base size
    assert not sd.sr.enabled and (sd.height, sd.width) == (512, 512)      # Stable Diffusion paints at 512


def _tiny_sr_folder(tmp_path):
    from diffusers import DDIMScheduler

    from text3d.models.sr import SuperResolutionPipeline
    from text3d.models.sr.config import SRModelConfig
    from text3d.models.sr.model import build_unet

    unet = build_unet(SRModelConfig(block_out_channels=(8, 16)), seed=0)
    with torch.no_grad():
        unet.conv_out.weight.copy_(torch.randn(unet.conv_out.weight.shape, generator=torch.Generator().manual_seed(1)) * 0.05)
    SuperResolutionPipeline(unet.eval(), DDIMScheduler()).save_pretrained(str(tmp_path / "sr"))
    return tmp_path / "sr"


def test_cascade_run_keeps_rendered_pixels_and_writes_views_at_the_view_size(tmp_path, monkeypatch):
    """A whole run with the cascade on (stand-in base models, a tiny random super-resolution model): views
    are 64 px from 16-px base models, and every pixel of an inpainted view that the mesh covered is the
    mesh's own render at 64 px, unchanged."""
    import text3d
    from text3d.fakes import fake_backends
    from text3d.geometry.render import Raycaster
    from text3d.run import scene as scene_mod

    renders = {}
    real_render = Raycaster.render

    def spy(self, K, pose, h, w, *a, **k):
        out = real_render(self, K, pose, h, w, *a, **k)
        if h == 64:
            renders[id(out)] = out
            renders["last"] = out
        return out

    monkeypatch.setattr(Raycaster, "render", spy)
    added = []
    real_add = scene_mod.SceneBuilder._add

    def add(self, record, piece):
        if record.index > 0:
            added.append((record, renders["last"]))
        return real_add(self, record, piece)

    monkeypatch.setattr(scene_mod.SceneBuilder, "_add", add)
    sr = _tiny_sr_folder(tmp_path)
    res = text3d.generate_scene("a room", out_dir=tmp_path / "out", backends=fake_backends(), seed=0,
                                views=3, size=(64, 64),
                                overrides=[f"sr.model={sr}", "trajectory.orbit_degrees=90", "cleanup.views=0",
                                           "video.enabled=false", "lift.mesh_stride=1"])
    assert res.views[0].image.shape == (64, 64, 3) and res.views[0].depth.shape == (64, 64)
    assert res.timings["upscale"] > 0
    assert added and any(r.filled.any() for r, _ in added)
    for record, rendered in added:
        known = rendered.hit
        np.testing.assert_array_equal(record.image[known], rendered.image[known])
        np.testing.assert_array_equal(record.depth[known], rendered.depth[known])


def test_photo_view_size_keeps_the_photo_resolution_up_to_the_limit():
    from text3d.run.upscale import PHOTO_MAX_SIDE, photo_view_size

    cfg = load_preset("default")
    assert photo_view_size((480, 640), cfg) == (384, 512)  # longer side capped at 512, multiples of 32
    assert photo_view_size((300, 300), cfg) == (288, 288)  # smaller photos keep their size (rounded down)
    assert max(photo_view_size((3000, 4000), cfg)) <= PHOTO_MAX_SIDE
    assert photo_view_size((20, 20), cfg) == (64, 64)  # at least the base models' minimum x scale
    assert photo_view_size((480, 640), load_preset("fast")) == (64, 64)  # no cascade: the preset's size


def test_a_photo_keeps_its_own_resolution_through_the_cascade(tmp_path):
    """A 200x150 photo with the default preset (stand-in base models, a tiny random super-resolution model):
    every view is 192x128, the photo's size rounded down to multiples of 32 (sr.scale x size_multiple), and
    the first view is the photo itself; an explicit size still wins, and the preview preset keeps its 64 px."""
    import json

    from PIL import Image

    import text3d
    from text3d.fakes import fake_backends

    yy, xx = np.mgrid[0:150, 0:200]
    photo = np.stack([xx / 199, yy / 149, 0.5 + 0 * xx], -1)
    Image.fromarray((photo * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    sr = _tiny_sr_folder(tmp_path)
    common = dict(image=tmp_path / "photo.png", backends=fake_backends(), seed=0, views=2)
    tiny = ["trajectory.orbit_degrees=30", "cleanup.views=0", "video.enabled=false"]
    res = text3d.generate_scene(None, out_dir=tmp_path / "a", overrides=[f"sr.model={sr}", *tiny], **common)
    assert [v.image.shape for v in res.views] == [(128, 192, 3)] * 2
    assert [v.depth.shape for v in res.views] == [(128, 192)] * 2
    settings = json.loads(res.paths["manifest"].read_text())["settings"]
    assert (settings["height"], settings["width"]) == (128, 192)
    with Image.open(res.paths["first_view"]) as im:
        assert im.size == (192, 128)
    # centre crop of 200x150 to the 3:2 view aspect, then a resize: the colour ramps run the same way
    first = res.views[0].image
    assert first[:, -1, 0].mean() > first[:, 0, 0].mean() + 0.5 and first[-1, :, 1].mean() > first[0, :, 1].mean() + 0.5
    sized = text3d.generate_scene(None, out_dir=tmp_path / "b", size=(128, 64), overrides=[f"sr.model={sr}", *tiny],
                                  **common)
    assert sized.views[0].image.shape == (128, 64, 3)
    preview = text3d.generate_scene(None, out_dir=tmp_path / "c", preset="fast", overrides=tiny, **common)
    assert preview.views[0].image.shape == (64, 64, 3)


def test_full_resolution_image_models_skip_the_cascade_but_the_depth_does_not(tmp_path, monkeypatch):
    """Image models that paint the view's pixels themselves (latent models) are asked for the view size and
    their paint is never super-resolved; depth is still predicted at the base size and upsampled, and rendered
    pixels stay the mesh's own."""
    import dataclasses

    import text3d
    from text3d.backends.protocols import Capabilities
    from text3d.fakes import GradientTextToImage, MeanInpaint, fake_backends
    from text3d.run import upscale

    sizes = {"t2i": [], "inpaint": []}

    class FullT2I(GradientTextToImage):
        capabilities = Capabilities(full_resolution=True)

        def generate(self, prompt, *, height, width, **kw):
            sizes["t2i"].append((height, width))
            return super().generate(prompt, height=height, width=width, **kw)

    class FullInpaint(MeanInpaint):
        capabilities = Capabilities(full_resolution=True)

        def inpaint(self, image, mask, **kw):
            sizes["inpaint"].append(image.shape[:2])
            return super().inpaint(image, mask, **kw)

    upscaled = []
    real_image = upscale.Upscaler.image
    monkeypatch.setattr(upscale.Upscaler, "image", lambda self, im, g: upscaled.append(im.shape) or real_image(self, im, g))
    sr = _tiny_sr_folder(tmp_path)
    backends = dataclasses.replace(fake_backends(), t2i=FullT2I(), inpaint=FullInpaint())
    res = text3d.generate_scene("a room", out_dir=tmp_path / "out", backends=backends, seed=0, views=3,
                                size=(64, 64), overrides=[f"sr.model={sr}", "trajectory.orbit_degrees=90",
                                                          "cleanup.views=0", "video.enabled=false"])
    assert sizes["t2i"] == [(64, 64)] and sizes["inpaint"] and set(sizes["inpaint"]) == {(64, 64)}
    assert upscaled == []
    assert all(v.image.shape == (64, 64, 3) and v.depth.shape == (64, 64) for v in res.views)
    assert res.timings["upscale"] > 0  # the depth is still upsampled from the base size
