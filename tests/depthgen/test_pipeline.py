"""DepthGenPipeline / PalettePipeline with tiny random UNets: API contract, round trips, bad inputs."""

import numpy as np
import pytest
import torch
from PIL import Image

from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.depth_param import depth_to_model, model_to_depth
from depthgen.models.depth_pipeline import DepthGenOutput, DepthGenPipeline
from depthgen.models.diffusion import make_train_scheduler
from depthgen.models.palette_pipeline import PalettePipeline
from depthgen.models.unet import build_unet

S = 16


def depth_pipe(objective="diffusion"):
    unet = build_unet(ModelConfig(preset="tiny", sample_size=S), 1, seed=0).eval()
    return DepthGenPipeline(unet, make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0, resolution=S,
                            objective=objective)


def palette_pipe(hole_fill="grey"):
    unet = build_unet(ModelConfig(preset="tiny", sample_size=S), 3, seed=0).eval()
    return PalettePipeline(unet, make_train_scheduler(DiffusionConfig()), resolution=S, hole_fill=hole_fill)


def g(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def pipe():
    return depth_pipe()


@pytest.fixture
def img():
    return np.random.default_rng(0).random((20, 28, 3)).astype(np.float32)


@pytest.mark.parametrize("param", ["log", "linear"])
def test_depth_param_round_trip(param):
    d = np.array([0.5, 1.0, 7.5, 19.0], np.float32)
    back = model_to_depth(depth_to_model(d, param, 0.5, 20.0), param, 0.5, 20.0)
    assert np.allclose(back, d, rtol=1e-5)
    x = depth_to_model(torch.tensor([0.01, 1e3]), param, 0.5, 20.0)
    assert x.min() >= -1 and x.max() <= 1


def test_output_shapes_any_input_kind(pipe, img):
    out = pipe(img, num_samples=3, num_inference_steps=2, generator=g())
    assert isinstance(out, DepthGenOutput)
    assert out.depth.shape == (20, 28) and out.samples.shape == (3, 20, 28) and out.uncertainty.shape == (20, 28)
    assert out.depth.dtype == np.float32 and (out.depth >= 0.5 - 1e-4).all() and (out.depth <= 20 + 1e-3).all()
    u8 = (img * 255).astype(np.uint8)
    for x in (Image.fromarray(u8), u8, torch.from_numpy(img).permute(2, 0, 1)):
        assert pipe(x, num_samples=1, num_inference_steps=1).depth.shape == (20, 28)


def test_same_seed_same_output_and_chunking(pipe, img):
    a = pipe(img, num_samples=3, num_inference_steps=2, generator=g(1))
    b = pipe(img, num_samples=3, num_inference_steps=2, generator=g(1), batch_size=1)
    c = pipe(img, num_samples=3, num_inference_steps=2, generator=g(2))
    assert np.allclose(a.samples, b.samples, rtol=1e-4)
    assert not np.allclose(a.samples, c.samples)
    assert np.array_equal(pipe(img, num_samples=3, num_inference_steps=2, generator=g(1)).depth, a.depth)


def test_list_input_equals_items(pipe, img):
    img2 = img[::-1].copy()
    outs = pipe([img, img2], num_samples=2, num_inference_steps=2, generator=g(3))
    gen = g(3)
    one = [pipe(x, num_samples=2, num_inference_steps=2, generator=gen) for x in (img, img2)]
    assert isinstance(outs, list) and len(outs) == 2
    for o, w in zip(outs, one):
        assert np.allclose(o.samples, w.samples, rtol=1e-5)


def test_dpm_scheduler(pipe, img):
    out = pipe(img, num_samples=2, num_inference_steps=3, generator=g(), scheduler="dpm")
    assert np.isfinite(out.depth).all()


def test_save_load_round_trip(pipe, img, tmp_path):
    pipe.save_pretrained(tmp_path / "p")
    assert list((tmp_path / "p" / "unet").glob("*.safetensors"))
    back = DepthGenPipeline.from_pretrained(tmp_path / "p")
    assert back.config.d_max == 20.0 and back.config.resolution == S
    a = pipe(img, num_samples=2, num_inference_steps=2, generator=g(5))
    b = back(img, num_samples=2, num_inference_steps=2, generator=g(5))
    np.testing.assert_allclose(a.depth, b.depth, rtol=1e-5)  # float rounding only


def test_load_errors(pipe, tmp_path):
    with pytest.raises(ValueError, match="no pipeline folder"):
        DepthGenPipeline.from_pretrained(tmp_path / "missing")
    palette_pipe().save_pretrained(tmp_path / "pal")
    with pytest.raises(ValueError, match="PalettePipeline"):
        DepthGenPipeline.from_pretrained(tmp_path / "pal")
    with pytest.raises(ValueError, match="depth UNet"):
        DepthGenPipeline(palette_pipe().unet, pipe.scheduler)


@pytest.mark.parametrize("resample", [0, 1])
def test_complete_keeps_known_pixels(pipe, img, resample):
    known = np.random.default_rng(1).uniform(1, 10, (20, 28)).astype(np.float32)
    mask = np.zeros((20, 28), bool)
    mask[:, :9] = True
    mask[15:, 20:] = True
    out = pipe.complete(img, known, mask, num_samples=2, num_inference_steps=2, generator=g(), resample=resample)
    assert np.array_equal(out.depth[mask], known[mask])
    assert all(np.array_equal(s[mask], known[mask]) for s in out.samples)
    assert (out.uncertainty[mask] == 0).all()
    assert np.isfinite(out.depth).all() and (out.depth[~mask] > 0).all()


@pytest.mark.parametrize("case, msg", [
    ("empty", "empty"), ("full", "every pixel"), ("nan", "NaN"), ("shape", "must match"), ("dtype", "bool"),
])
def test_complete_bad_inputs(pipe, img, case, msg):
    known = np.full((20, 28), 2.0, np.float32)
    mask = np.zeros((20, 28), bool)
    mask[:5] = True
    if case == "empty":
        mask[:] = False
    elif case == "full":
        mask[:] = True
    elif case == "nan":
        known[0, 0] = np.nan
    elif case == "shape":
        known = known[:10]
    elif case == "dtype":
        mask = mask.astype(np.uint8)
    with pytest.raises(ValueError, match=msg):
        pipe.complete(img, known, mask, num_samples=1, num_inference_steps=1)


@pytest.mark.parametrize("bad, msg", [
    (np.zeros((8, 8, 4), np.float32), r"\(H, W, 3\)"),
    (np.full((8, 8, 3), np.nan, np.float32), "NaN"),
    (np.full((8, 8, 3), 3.0, np.float32), r"\[0, 1\]"),
    (torch.zeros(1, 8, 8), r"\(3, H, W\)"),
    ("/nonexistent/x.png", "not found"),
])
def test_bad_images(pipe, bad, msg):
    with pytest.raises(ValueError, match=msg):
        pipe(bad, num_samples=1, num_inference_steps=1)


def test_regression_objective(img):
    p = depth_pipe("regression")
    out = p(img, num_samples=2, num_inference_steps=5)
    assert np.array_equal(out.samples[0], out.samples[1]) and (out.uncertainty == 0).all()


def test_palette_inpaint_keeps_unmasked(img, tmp_path):
    p = palette_pipe()
    mask = np.zeros((20, 28), bool)
    mask[5:12, 6:20] = True
    out = p.inpaint(img, mask, num_inference_steps=2, generator=g(), resample=1)
    assert out.shape == (20, 28, 3) and out.dtype == np.float32
    assert np.array_equal(out[~mask], img[~mask]) and not np.allclose(out[mask], img[mask])
    p.save_pretrained(tmp_path / "pal")
    back = PalettePipeline.from_pretrained(tmp_path / "pal")
    # equal up to float rounding (a reloaded module may pick other kernels: ~1e-7 differences)
    np.testing.assert_allclose(back.inpaint(img, mask, num_inference_steps=2, generator=g(), resample=1), out, atol=1e-5)
    for task in ("colorize", "jpeg"):
        r = p.run_task(task, img, num_inference_steps=2, generator=g())
        assert r.shape == (20, 28, 3) and (r >= 0).all() and (r <= 1).all()
    assert np.array_equal(p.run_task("uncrop", img, mask, num_inference_steps=1)[~mask], img[~mask])
    with pytest.raises(ValueError, match="needs a mask"):
        p.run_task("inpaint", img)
    with pytest.raises(ValueError, match="task must be"):
        p.run_task("depth", img)
    with pytest.raises(ValueError, match="whole image"):
        p.inpaint(img, np.ones((20, 28), bool))


def test_palette_hole_fill_reaches_the_condition_and_round_trips(img, tmp_path):
    """A Telea-trained pipeline pre-fills the hole of its condition (so it samples differently from a grey
    one with the same weights), keeps the known pixels, and saves / reloads the setting."""
    mask = np.zeros((20, 28), bool)
    mask[5:12, 6:20] = True
    telea = palette_pipe("telea")
    out = telea.inpaint(img, mask, num_inference_steps=2, generator=g())
    assert np.array_equal(out[~mask], img[~mask])
    assert not np.allclose(out, palette_pipe("grey").inpaint(img, mask, num_inference_steps=2, generator=g()))
    telea.save_pretrained(tmp_path / "telea")
    assert PalettePipeline.from_pretrained(tmp_path / "telea").config.hole_fill == "telea"
    with pytest.raises(ValueError, match="hole_fill"):
        palette_pipe("blur")
