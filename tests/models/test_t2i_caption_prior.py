"""The caption prior (``text3d.models.t2i.caption_prior``): projection toward the nearest training captions,
save/load, the CLI, and both image pipelines' ``caption_prior_strength``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.models.t2i.caption_prior import PRIOR_FILE, CaptionPrior, main
from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.model import build_unet
from text3d.models.t2i.pipeline import TextToImagePipeline
from tests.models.test_inpaint_model import tiny_pipeline as tiny_inpaint_pipeline


def g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def _axes(*rows: tuple[float, ...], dim: int = 8) -> torch.Tensor:
    """(len(rows), dim) embeddings with the given leading values."""
    out = torch.zeros(len(rows), dim)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
    return out


def _text_pipe(prior: CaptionPrior | None = None, strength: float = 0.0) -> TextToImagePipeline:
    """A tiny random pipeline whose output depends visibly on the prompt."""
    from diffusers import DDIMScheduler

    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=16), seed=0)
    with torch.no_grad():
        unet.conv_out.weight.mul_(50.0)
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return TextToImagePipeline(unet, sched, caption_prior=prior, caption_prior_strength=strength)


def test_projection_moves_toward_the_nearest_captions():
    bank = CaptionPrior(_axes((1.0,), (0.0, 1.0), (0.0, 0.0, 1.0)), top_k=1)
    q = torch.nn.functional.normalize(_axes((0.6, 0.8)), dim=-1)  # nearest entry: the second axis
    np.testing.assert_allclose(bank.project(q, 0.0), q)
    np.testing.assert_allclose(bank.project(q, 1.0), _axes((0.0, 1.0)), atol=1e-6)
    half = bank.project(q, 0.5)
    assert abs(float(half.norm()) - 1) < 1e-5
    assert float(half[0, 1]) > float(q[0, 1]) and float(half[0, 0]) < float(q[0, 0])  # part of the way
    two = CaptionPrior(bank.embeddings, top_k=2).project(q, 1.0)  # mean of the two nearest, renormalised
    np.testing.assert_allclose(two, torch.nn.functional.normalize(_axes((1.0, 1.0)), dim=-1), atol=1e-6)
    null = torch.zeros(2, 8)
    assert torch.equal(bank.project(null, 0.7), null)  # the guidance's null embedding stays zero
    batch = bank.project(torch.cat([q, null[:1]]), 0.5)  # a batch equals its rows one by one
    np.testing.assert_allclose(batch[:1], half)
    np.testing.assert_allclose(batch[1:], null[:1])


def test_bad_priors_and_strengths_are_value_errors():
    with pytest.raises(ValueError, match="top_k"):
        CaptionPrior(_axes((1.0,)), top_k=2)
    with pytest.raises(ValueError, match="embeddings"):
        CaptionPrior(torch.zeros(0, 8))
    bank = CaptionPrior(_axes((1.0,)), top_k=1)
    for bad in (-0.1, 1.5, float("nan"), "much"):
        with pytest.raises(ValueError, match="caption_prior_strength"):
            bank.project(_axes((1.0,)), bad)
    with pytest.raises(ValueError, match=r"\(n, 8\)"):
        bank.project(torch.zeros(1, 4), 0.5)


def test_save_load_round_trip(tmp_path):
    bank = CaptionPrior(_axes((3.0, 4.0), (0.0, 1.0)), top_k=2)
    bank.save(tmp_path)
    loaded = CaptionPrior.load(tmp_path)
    assert loaded.top_k == 2 and len(loaded) == 2
    torch.testing.assert_close(loaded.embeddings, bank.embeddings, atol=1e-3, rtol=0)  # stored as float16
    assert CaptionPrior.load(tmp_path / "elsewhere") is None


def test_pipeline_strength_changes_the_picture_and_zero_is_the_plain_sampler(tmp_path):
    plain = _text_pipe()
    emb = plain.encode_prompts(["a red room with a bed", "a blue garden with trees"])
    prior = CaptionPrior(emb, top_k=1)
    pipe = _text_pipe(prior, strength=0.0)
    base = plain("a crimson bedroom", num_inference_steps=4, generator=g(0))[0]
    np.testing.assert_array_equal(pipe("a crimson bedroom", num_inference_steps=4, generator=g(0))[0], base)
    moved = pipe("a crimson bedroom", num_inference_steps=4, generator=g(0), caption_prior_strength=1.0)[0]
    caption = plain("a red room with a bed", num_inference_steps=4, generator=g(0))[0]
    np.testing.assert_allclose(moved, caption, atol=1e-4)  # strength 1, top_k 1: the nearest caption's picture
    # the saved default round-trips with the folder
    pipe.register_to_config(caption_prior_strength=1.0)
    pipe.save_pretrained(str(tmp_path / "p"))
    assert (tmp_path / "p" / PRIOR_FILE).is_file()
    loaded = TextToImagePipeline.from_pretrained(tmp_path / "p")
    assert loaded.config.caption_prior_strength == 1.0 and len(loaded.caption_prior) == 2
    np.testing.assert_allclose(loaded("a crimson bedroom", num_inference_steps=4, generator=g(0))[0], caption, atol=2e-4)
    (tmp_path / "p" / PRIOR_FILE).unlink()
    with pytest.raises(ValueError, match="caption_prior"):
        TextToImagePipeline.from_pretrained(tmp_path / "p")


def test_pipeline_strength_mistakes_are_value_errors():
    with pytest.raises(ValueError, match="caption prior"):
        _text_pipe()("a room", num_inference_steps=2, caption_prior_strength=0.5)
    with pytest.raises(ValueError, match="caption_prior_strength"):
        _text_pipe(CaptionPrior(_axes((1.0,), dim=384), top_k=1), strength=2.0)


def test_inpainting_takes_the_prior_too(tmp_path):
    pipe = tiny_inpaint_pipeline()
    image = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
    mask = np.zeros((16, 16), bool)
    mask[4:12, 4:12] = True
    caption = "a red room with a bed"
    pipe.caption_prior = CaptionPrior(pipe.encode_prompt(caption), top_k=1)
    plain = pipe(image, mask, "a crimson bedroom", num_inference_steps=3, generator=g(0))
    moved = pipe(image, mask, "a crimson bedroom", num_inference_steps=3, generator=g(0), caption_prior_strength=1.0)
    target = pipe(image, mask, caption, num_inference_steps=3, generator=g(0))
    np.testing.assert_allclose(moved, target, atol=1e-4)
    assert np.abs(moved - plain)[mask].mean() > 1e-4
    np.testing.assert_array_equal(moved[~mask], image[~mask])
    pipe.register_to_config(caption_prior_strength=1.0)
    pipe.save_pretrained(str(tmp_path / "p"))
    loaded = type(pipe).from_pretrained(tmp_path / "p")
    np.testing.assert_allclose(loaded(image, mask, "a crimson bedroom", num_inference_steps=3, generator=g(0)), target,
                               atol=2e-4)


def test_cli_builds_a_prior_from_shards(tmp_path, capsys):
    from depthgen.data.procedural.__main__ import main as write_shards

    shards = tmp_path / "shards"
    assert write_shards(["--out", str(shards), "--n", "4", "--size", "16x16", "--split", "train", "--quiet"]) == 0
    _text_pipe().save_pretrained(str(tmp_path / "p"))
    assert main(["--pipeline", str(tmp_path / "p"), "--captions", str(shards), "--n", "6", "--top-k", "3",
                 "--strength", "0.4"]) == 0
    prior = CaptionPrior.load(tmp_path / "p")
    assert len(prior) == 6 and prior.top_k == 3
    assert json.loads((tmp_path / "p" / "model_index.json").read_text())["caption_prior_strength"] == 0.4
    loaded = TextToImagePipeline.from_pretrained(tmp_path / "p")
    a = loaded("a kitchen", num_inference_steps=2, generator=g(0))[0]
    b = loaded("a kitchen", num_inference_steps=2, generator=g(0), caption_prior_strength=0.0)[0]
    assert np.abs(a - b).mean() > 1e-4  # the saved strength is used
    capsys.readouterr()
    assert main(["--pipeline", str(tmp_path / "nope"), "--captions", str(shards)]) == 2
    assert "model_index.json" in capsys.readouterr().err
    assert main(["--pipeline", str(tmp_path / "p"), "--captions", str(tmp_path / "missing")]) == 2
    assert main(["--pipeline", str(tmp_path / "p"), "--captions", str(shards), "--strength", "3"]) == 2
    assert main(["--pipeline", str(tmp_path / "p"), "--captions", str(shards), "--top-k", "99"]) == 2


def test_cli_writes_one_card_section_and_keeps_the_rest(tmp_path):
    from depthgen.data.procedural.__main__ import main as write_shards

    shards = tmp_path / "shards"
    assert write_shards(["--out", str(shards), "--n", "3", "--size", "16x16", "--split", "train", "--quiet"]) == 0
    _text_pipe().save_pretrained(str(tmp_path / "p"))
    (tmp_path / "p" / "README.md").write_text("# card\n\n## Caption prior\n\nstale text\n\n## Layout bank\n\nkept\n")
    for strength in ("0.3", "0.6"):  # a rebuilt prior replaces its own section only
        assert main(["--pipeline", str(tmp_path / "p"), "--captions", str(shards), "--n", "4", "--top-k", "2",
                     "--strength", strength]) == 0
    card = (tmp_path / "p" / "README.md").read_text()
    assert card.startswith("# card") and card.count("## Caption prior") == 1 and "stale text" not in card
    assert "## Layout bank\n\nkept" in card and "default saved here: 0.6" in card and "--top-k 2" in card
