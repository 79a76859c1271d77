"""The text-conditioned inpainting model: tiny random components built here, no shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler

from depthgen.models.diffusion import make_train_scheduler
from text3d.models.inpaint import TextInpaintPipeline
from text3d.models.inpaint.masks import MASK_KINDS, draw_masks, trajectory_mask
from text3d.models.inpaint.model import build_unet, load_from_t2i, model_input
from text3d.models.t2i.config import T2IDiffusionConfig, T2IModelConfig
from text3d.models.t2i.model import build_unet as build_t2i_unet
from text3d.models.t2i.model import unet_forward as t2i_forward

CFG = T2IModelConfig(preset="tiny", sample_size=16, coord_channels=True)


def tiny_pipeline(seed: int = 0) -> TextInpaintPipeline:
    unet = build_unet(CFG, seed=seed)
    with torch.no_grad():  # random, non-zero condition columns so that the mask and known pixels matter
        unet.conv_in.weight[:, 5:] = torch.randn(unet.conv_in.weight[:, 5:].shape, generator=torch.Generator().manual_seed(1)) * 0.3
    sched = DDIMScheduler.from_config(make_train_scheduler(T2IDiffusionConfig(prediction_type="sample")).config)
    return TextInpaintPipeline(unet.eval(), sched)


def scene(size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (size, size, 3)).astype(np.float32)
    mask = np.zeros((size, size), bool)
    mask[:, size // 2:] = True
    return image, mask


def test_known_pixels_unchanged_and_any_size():
    pipe = tiny_pipeline()
    image, mask = scene(24)  # not the model size: sampled at 16, resized back
    out = pipe(image, mask, "a library", num_inference_steps=3, generator=torch.Generator().manual_seed(0))
    assert out.shape == image.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[~mask], image[~mask])
    assert not np.allclose(out[mask], image[mask])


def test_two_prompts_same_seed_differ():
    pipe = tiny_pipeline()
    image, mask = scene()
    a = pipe(image, mask, "a cozy library", num_inference_steps=3, generator=torch.Generator().manual_seed(0))
    b = pipe(image, mask, "a sandy beach", num_inference_steps=3, generator=torch.Generator().manual_seed(0))
    c = pipe(image, mask, "a cozy library", num_inference_steps=3, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a, c)
    assert np.abs(a[mask] - b[mask]).mean() > 1e-3


def test_guidance_zero_is_the_unconditional_prediction():
    pipe = tiny_pipeline()
    image, mask = scene()
    g0 = pipe(image, mask, "a cozy library", num_inference_steps=3, guidance_scale=0.0,
              generator=torch.Generator().manual_seed(0))
    uncond = pipe(image, mask, "", num_inference_steps=3, guidance_scale=1.0, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(g0, uncond, atol=1e-5)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "x"])
def test_bad_guidance_is_one_clear_error(bad):
    pipe = tiny_pipeline()
    image, mask = scene()
    with pytest.raises(ValueError, match="guidance scale must be a number >= 0"):
        pipe(image, mask, "a room", num_inference_steps=2, guidance_scale=bad)


def test_seam_width_changes_only_the_hole_and_is_saved(tmp_path):
    pipe = tiny_pipeline()
    image, mask = scene()
    kw = dict(num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    plain = pipe(image, mask, "a room", seam_width=0.0, **kw)
    kw["generator"] = torch.Generator().manual_seed(0)
    blended = pipe(image, mask, "a room", seam_width=4.0, **kw)
    np.testing.assert_array_equal(blended[~mask], image[~mask])
    assert np.abs(blended[mask] - plain[mask]).mean() > 1e-3
    pipe.register_to_config(seam_width=4.0)
    pipe.save_pretrained(str(tmp_path / "p"))
    assert TextInpaintPipeline.from_pretrained(tmp_path / "p").config.seam_width == 4.0
    with pytest.raises(ValueError, match="seam width must be a number >= 0"):
        pipe(image, mask, "a room", num_inference_steps=2, seam_width=-1)


def test_missing_prompt_is_one_clear_error():
    pipe = tiny_pipeline()
    image, mask = scene()
    with pytest.raises(ValueError, match="prompt must be a string"):
        pipe(image, mask, None, num_inference_steps=2)


def test_save_load_offline_same_output(tmp_path):
    pipe = tiny_pipeline()
    pipe.save_pretrained(str(tmp_path / "p"))
    loaded = TextInpaintPipeline.from_pretrained(tmp_path / "p")
    image, mask = scene()
    a = pipe(image, mask, "a room", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    b = loaded(image, mask, "a room", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not a saved TextInpaintPipeline"):
        TextInpaintPipeline.from_pretrained(tmp_path)


def test_starts_as_the_text_to_image_model():
    """Zero-initialised condition channels: the inpainting UNet first predicts what the t2i UNet does."""
    t2i = build_t2i_unet(CFG, seed=3).eval()
    unet = build_unet(CFG, seed=0).eval()
    load_from_t2i(unet, t2i.state_dict())
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    t, text = torch.tensor([10, 500]), torch.randn(2, 384, generator=torch.Generator().manual_seed(1))
    mask = torch.ones(2, 1, 16, 16)
    with torch.no_grad():
        a = t2i_forward(t2i, x, t, text)
        b = unet(model_input(x, mask, torch.rand(2, 3, 16, 16)), t, encoder_hidden_states=text[:, None], class_labels=text).sample
    torch.testing.assert_close(a, b)


def test_masks_seeded_and_shaped():
    for kind in MASK_KINDS:
        m1 = trajectory_mask(kind, 32, 32, torch.Generator().manual_seed(5))
        m2 = trajectory_mask(kind, 32, 32, torch.Generator().manual_seed(5))
        np.testing.assert_array_equal(m1, m2)
        assert m1.any() and not m1.all()
    turn = [trajectory_mask("turn", 64, 64, torch.Generator().manual_seed(s)).mean() for s in range(20)]
    assert min(turn) >= 0.29 and max(turn) <= 0.95  # a side band of 30-85% plus disocclusions
    frame = trajectory_mask("frame", 64, 64, torch.Generator().manual_seed(0))
    assert frame[0].all() and frame[-1].all() and not frame[32, 32]
    batch = draw_masks(6, 16, 16, ("turn", "frame"), (1.0, 1.0), torch.Generator().manual_seed(0))
    assert batch.shape == (6, 1, 16, 16) and set(batch.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="unknown mask kind"):
        trajectory_mask("spiral", 8, 8, torch.Generator())


def _bank(colours) -> "LayoutBank":
    """A bank of flat-colour 16x16 layouts whose embeddings are the text encoder's for one prompt each."""
    from text3d.models.t2i.layout_bank import LayoutBank

    prompts = [p for p, _ in colours]
    pipe = tiny_pipeline()
    emb = torch.cat([pipe.encode_prompt(p) for p in prompts])
    images = torch.tensor([c for _, c in colours], dtype=torch.uint8)[:, :, None, None].expand(-1, -1, 16, 16)
    return LayoutBank.build(images.contiguous(), emb, size=16, top_k=1)


def test_layout_strength_starts_the_hole_from_the_retrieved_layout(tmp_path, monkeypatch):
    """Below 1 the hole starts from the layout retrieved by the prompt: with a denoiser that keeps what it is
    given, a red layout paints a red hole and a blue one a blue hole; the known pixels stay, the pick is
    recorded, and the bank is saved and loaded with the folder; strength 1 (the default) is the pure-noise
    sampler, and below 1 without a bank is one clear error."""
    import text3d.models.inpaint.pipeline as inpaint_pipeline

    monkeypatch.setattr(inpaint_pipeline, "unet_forward", lambda unet, x, t, text, m, cond: x.clone())  # x0 = x_t
    image, mask = scene()
    pipe = tiny_pipeline()
    out = pipe.paint(image, mask, "a library", num_inference_steps=4, generator=torch.Generator().manual_seed(0))
    plain = out.image
    assert out.layout is None
    with pytest.raises(ValueError, match="needs a layout bank"):
        pipe(image, mask, "a library", num_inference_steps=4, layout_strength=0.5)
    pipe.layout_bank = _bank([("a library", (255, 0, 0)), ("a beach", (0, 0, 255))])
    red = pipe(image, mask, "a library", num_inference_steps=4, layout_strength=0.5,
               generator=torch.Generator().manual_seed(0))
    blue_out = pipe.paint(image, mask, "a beach", num_inference_steps=4, layout_strength=0.5,
                          generator=torch.Generator().manual_seed(0))
    blue = blue_out.image
    assert blue_out.layout == 1
    np.testing.assert_array_equal(red[~mask], image[~mask])
    def redness(x):
        return x[mask][:, 0].mean() - x[mask][:, 2].mean()

    assert redness(red) > 0.1 and redness(blue) < -0.1 and redness(red) - redness(blue) > 0.3
    same_default = pipe(image, mask, "a library", num_inference_steps=4, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(plain, same_default)  # the saved default stays 1: pure noise

    pipe.register_to_config(layout_strength=0.5)
    pipe.save_pretrained(str(tmp_path / "p"))
    loaded = TextInpaintPipeline.from_pretrained(tmp_path / "p")
    assert loaded.config.layout_strength == 0.5 and len(loaded.layout_bank) == 2
    again = loaded(image, mask, "a library", num_inference_steps=4, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(again, red, atol=2e-3)  # the bank's embeddings are stored in float16
    (tmp_path / "p" / "layout_bank.safetensors").unlink()
    with pytest.raises(ValueError, match="has no p/layout_bank.safetensors"):
        TextInpaintPipeline.from_pretrained(tmp_path / "p")


def test_layout_transform_warps_the_layout_to_the_views_tilt():
    """A level layout with red above and blue below: a hole in the lower half of a level view starts from
    blue; the same hole in a view tilted up (the level picture seen 8 rows lower, the top rows continued
    above it) starts from red. The identity is the level call exactly; a bad transform is one clear error."""
    import text3d.models.inpaint.pipeline as inpaint_pipeline

    layout = np.zeros((1, 3, 16, 16), np.uint8)
    layout[0, 0, :8] = 255   # red above the horizon
    layout[0, 2, 8:] = 255   # blue below
    image, _ = scene()
    mask = np.zeros((16, 16), bool)
    mask[9:] = True
    pipe = tiny_pipeline()
    from text3d.models.t2i.layout_bank import LayoutBank

    pipe.layout_bank = LayoutBank(torch.from_numpy(layout), pipe.encode_prompt("a room"), top_k=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(inpaint_pipeline, "unet_forward", lambda unet, x, t, text, m, cond: x.clone())  # x0 = x_t

        def run(transform):
            return pipe(image, mask, "a room", num_inference_steps=4, layout_strength=0.5, seam_width=0,
                        layout_transform=transform, generator=torch.Generator().manual_seed(0))

        level, tilted_up = run(None), run(np.array([[1.0, 0, 0], [0, 1.0, 8.0], [0, 0, 1.0]]))
        np.testing.assert_array_equal(run(np.eye(3)), level)
        with pytest.raises(ValueError, match="layout_transform must be a finite, invertible 3x3"):
            run(np.zeros((3, 3)))

    def blueness(x):
        return x[mask][:, 2].mean() - x[mask][:, 0].mean()

    assert blueness(level) > 0.3 and blueness(tilted_up) < -0.3
    np.testing.assert_array_equal(tilted_up[~mask], image[~mask])


def test_latent_model_trains_from_the_t2i_weights_and_keeps_known_pixels(tmp_path):
    """A latent inpainting recipe starts from a latent text-to-image model, trains on a latent cache, exports with
    the autoencoder, paints 8x its sample size and leaves the known pixels exactly as they were."""
    from depthgen.common.config import load_config
    from depthgen.training.trainer import train
    from text3d.models.autoencoder.encode import write_cache
    from text3d.models.inpaint.config import InpaintRecipe
    from text3d.models.inpaint.train import InpaintTask
    from text3d.models.t2i.config import T2IRecipe
    from text3d.models.t2i.train import T2ITask

    g = torch.Generator().manual_seed(0)
    latents = (torch.randn(8, 32, 8, 8, generator=g) * 0.7 + 0.1).to(torch.float16)
    cache = write_cache(tmp_path / "lat.safetensors", latents, [[f"a room {i}"] for i in range(8)])
    common = ["model.preset=tiny", "model.sample_size=8", "model.latent_channels=32", "model.coord_channels=true",
              "data.kind=latents", f"data.path={cache}", "data.hflip=false", "train.batch_size=2",
              "train.max_steps=2", "train.checkpoint_every=2", "train.log_every=1", "train.warmup_steps=1"]
    t2i = load_config(T2IRecipe, None, common + [f"train.output_dir={tmp_path / 't2i'}"])
    train(T2ITask(t2i), progress=False)
    recipe = load_config(InpaintRecipe, None, common + [f"train.output_dir={tmp_path / 'inp'}",
                                                        f"train.init_from={tmp_path / 't2i'}",
                                                        f"train.export_dir={tmp_path / 'pipe'}"])
    result = train(InpaintTask(recipe), progress=False)
    pipe = TextInpaintPipeline.from_pretrained(str(result.export))
    assert pipe.is_latent and pipe.image_size == 64 and pipe.unet.config.in_channels == 32 + 2 + 1 + 32
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (48, 40, 3)).astype(np.float32)
    mask = np.zeros((48, 40), bool)
    mask[:, 25:] = True
    a = pipe(image, mask, "a room", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    b = pipe(image, mask, "a room", num_inference_steps=2, generator=torch.Generator().manual_seed(0))
    assert a.shape == image.shape and a.dtype == np.float32
    np.testing.assert_array_equal(a[~mask], image[~mask])
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[mask] - image[mask]).mean() > 0.01  # the hole was painted
