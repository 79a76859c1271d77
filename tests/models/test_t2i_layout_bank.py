"""Retrieval-augmented text-to-image sampling: the layout bank (build, pick, save/load, CLI) and the pipeline's
``layout_strength`` path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.layout_bank import BANK_FILE, LayoutBank, main
from text3d.models.t2i.model import build_unet
from text3d.models.t2i.pipeline import TextToImagePipeline


def g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def _plain_images(colours) -> torch.Tensor:
    """(M, 3, 16, 16) uint8 images, each one flat colour."""
    c = torch.tensor(colours, dtype=torch.uint8)  # (M, 3)
    return c[:, :, None, None].expand(-1, -1, 16, 16).contiguous()


def _one_hot(m: int, dim: int = 384) -> torch.Tensor:
    return torch.eye(dim)[:m]


def _zero_unet_pipe(bank: LayoutBank | None, strength: float = 1.0) -> TextToImagePipeline:
    """A tiny pipeline whose UNet predicts x0 = 0 everywhere: what it samples shows where sampling started."""
    from diffusers import DDIMScheduler

    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=16), seed=0)
    with torch.no_grad():
        unet.conv_out.weight.zero_()
        unet.conv_out.bias.zero_()
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return TextToImagePipeline(unet, sched, layout_strength=strength, layout_bank=bank)


def _text_pipe(bank: LayoutBank | None) -> TextToImagePipeline:
    """A tiny random pipeline whose output depends visibly on the noise and the prompt."""
    from diffusers import DDIMScheduler

    unet = build_unet(T2IModelConfig(preset="tiny", sample_size=16), seed=0)
    with torch.no_grad():
        unet.conv_out.weight.mul_(50.0)
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return TextToImagePipeline(unet, sched, layout_bank=bank)


def test_build_averages_down_and_normalises():
    images = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
    images[0, 0, :, :8] = 200  # left half red
    bank = LayoutBank.build(images, torch.tensor([[3.0, 4.0], [0.0, 2.0]]), size=2, top_k=1)
    assert bank.layouts.shape == (2, 3, 2, 2) and bank.layouts.dtype == torch.uint8
    assert bank.layouts[0, 0].tolist() == [[200, 0], [200, 0]]
    torch.testing.assert_close(bank.embeddings, torch.tensor([[0.6, 0.8], [0.0, 1.0]]))
    up = bank.images(torch.tensor([0]), 8)
    assert up.shape == (1, 3, 8, 8) and float(up.min()) >= -1 and float(up.max()) <= 1
    assert float(up[0, 0, :, 0].mean()) > float(up[0, 0, :, -1].mean())  # still red on the left


def test_pick_draws_among_the_nearest():
    bank = LayoutBank(_plain_images([[255, 0, 0], [0, 255, 0], [0, 0, 255]]), _one_hot(3), top_k=2)
    query = torch.zeros(1, 384)
    query[0, 1], query[0, 2] = 1.0, 0.9  # nearest: entries 1 then 2
    picks = {int(bank.pick(query, [g(s)])[0]) for s in range(40)}
    assert picks == {1, 2}
    assert bank.pick(query, [g(7)]).tolist() == bank.pick(query, [g(7)]).tolist()  # seeded
    null = {int(bank.pick(torch.zeros(1, 384), [g(s)])[0]) for s in range(60)}
    assert null == {0, 1, 2}  # the null prompt draws from the whole bank


def test_save_load_round_trip(tmp_path):
    bank = LayoutBank(_plain_images([[255, 0, 0], [0, 0, 255]]), _one_hot(2), top_k=1,
                      scene_types=["kitchen", "beach"], sources=[5, 9])
    bank.save(tmp_path)
    loaded = LayoutBank.load(tmp_path)
    assert torch.equal(loaded.layouts, bank.layouts) and loaded.top_k == 1
    assert loaded.scene_types == ["kitchen", "beach"] and loaded.sources == [5, 9]
    torch.testing.assert_close(loaded.embeddings, bank.embeddings)
    assert LayoutBank.load(tmp_path / "elsewhere") is None


def test_bad_banks_are_value_errors():
    with pytest.raises(ValueError, match="top_k"):
        LayoutBank(_plain_images([[1, 2, 3]]), _one_hot(1), top_k=2)
    with pytest.raises(ValueError, match="embeddings"):
        LayoutBank(_plain_images([[1, 2, 3]]), _one_hot(2))
    with pytest.raises(ValueError, match="uint8"):
        LayoutBank(torch.zeros(1, 3, 4, 4), _one_hot(1))
    bank = LayoutBank(_plain_images([[1, 2, 3]]), _one_hot(1), top_k=1)
    with pytest.raises(ValueError, match="generators"):
        bank.pick(torch.zeros(2, 384), [g(0)])


def test_sampling_starts_from_the_retrieved_layout():
    red, blue = "a red room", "a blue room"
    pipe = _zero_unet_pipe(None)
    emb = pipe.encode_prompts([red, blue])
    bank = LayoutBank(_plain_images([[230, 20, 20], [20, 20, 230]]), emb, top_k=1)
    pipe.layout_bank = bank
    ra = pipe.sample(red, num_inference_steps=10, layout_strength=0.3, generator=g(0))
    rb = pipe.sample(blue, num_inference_steps=10, layout_strength=0.3, generator=g(0))
    assert ra.layouts == [0] and rb.layouts == [1]
    a, b = ra.images[0], rb.images[0]
    assert a[..., 0].mean() > a[..., 2].mean() + 0.1 and b[..., 2].mean() > b[..., 0].mean() + 0.1
    rp = pipe.sample(red, num_inference_steps=10, layout_strength=1.0, generator=g(0))
    plain = rp.images[0]
    assert rp.layouts is None and abs(plain[..., 0].mean() - plain[..., 2].mean()) < 0.05
    np.testing.assert_array_equal(pipe(red, num_inference_steps=10, layout_strength=0.3, generator=g(0))[0], a)


def test_strength_one_is_the_plain_sampler_and_seeds_repeat():
    pipe = _text_pipe(None)
    emb = pipe.encode_prompts(["a red room", "a blue room"])
    plain = pipe("a red room", num_inference_steps=4, generator=g(1))[0]
    pipe.layout_bank = LayoutBank(_plain_images([[230, 20, 20], [20, 20, 230]]), emb, top_k=2)
    np.testing.assert_array_equal(pipe("a red room", num_inference_steps=4, generator=g(1))[0], plain)
    for scheduler in ("ddim", "dpm"):
        a = pipe("a red room", num_inference_steps=4, layout_strength=0.5, generator=g(1), scheduler=scheduler)[0]
        b = pipe("a red room", num_inference_steps=4, layout_strength=0.5, generator=g(1), scheduler=scheduler)[0]
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - plain).mean() > 1e-3


def test_default_strength_saves_and_loads(tmp_path):
    pipe = _text_pipe(None)
    emb = pipe.encode_prompts(["a red room", "a blue room"])
    pipe.layout_bank = LayoutBank(_plain_images([[230, 20, 20], [20, 20, 230]]), emb, top_k=1)
    pipe.register_to_config(layout_strength=0.6)
    pipe.save_pretrained(str(tmp_path / "p"))
    assert (tmp_path / "p" / BANK_FILE).is_file()
    loaded = TextToImagePipeline.from_pretrained(tmp_path / "p")
    assert loaded.config.layout_strength == 0.6 and len(loaded.layout_bank) == 2
    a = pipe("a blue room", num_inference_steps=4, generator=g(2))[0]
    rb = loaded.sample("a blue room", num_inference_steps=4, generator=g(2))
    b = rb.images[0]
    assert rb.layouts == [1]
    np.testing.assert_allclose(a, b, atol=2e-4)
    (tmp_path / "p" / BANK_FILE).unlink()
    with pytest.raises(ValueError, match="layout_bank"):
        TextToImagePipeline.from_pretrained(tmp_path / "p")


def test_strength_mistakes_are_value_errors():
    pipe = _text_pipe(None)
    with pytest.raises(ValueError, match="layout bank"):
        pipe("a room", num_inference_steps=2, layout_strength=0.5)
    for bad in (0.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="layout_strength"):
            pipe("a room", num_inference_steps=2, layout_strength=bad)
    with pytest.raises(ValueError, match="layout_strength"):
        _zero_unet_pipe(None, strength=2.0)


def test_cli_builds_a_bank_from_shards(tmp_path, capsys):
    from depthgen.data.procedural.__main__ import main as write_shards

    shards = tmp_path / "shards"
    assert write_shards(["--out", str(shards), "--n", "6", "--size", "16x16", "--split", "train", "--quiet"]) == 0
    _text_pipe(None).save_pretrained(str(tmp_path / "p"))
    (tmp_path / "p" / "README.md").write_text("# card\n")
    for _ in range(2):  # a rebuilt bank replaces its card section
        assert main(["--pipeline", str(tmp_path / "p"), "--data", str(shards), "--n", "5", "--size", "4",
                     "--top-k", "2", "--strength", "0.7"]) == 0
    card = (tmp_path / "p" / "README.md").read_text()
    assert card.startswith("# card") and card.count("## Layout bank") == 1 and "layout_strength 0.7" in card
    bank = LayoutBank.load(tmp_path / "p")
    assert bank.layouts.shape == (5, 3, 4, 4) and bank.top_k == 2 and bank.sources == [0, 1, 2, 3, 4]
    assert all(bank.scene_types)
    assert json.loads((tmp_path / "p" / "model_index.json").read_text())["layout_strength"] == 0.7
    loaded = TextToImagePipeline.from_pretrained(tmp_path / "p")
    picks = loaded.sample("a kitchen", num_inference_steps=3, generator=g(0)).layouts
    assert picks is not None and 0 <= picks[0] < 5
    capsys.readouterr()
    assert main(["--pipeline", str(tmp_path / "nope"), "--data", str(shards)]) == 2
    assert "model_index.json" in capsys.readouterr().err
    assert main(["--pipeline", str(tmp_path / "p"), "--data", str(shards), "--n", "50"]) == 2
    assert main(["--pipeline", str(tmp_path / "p"), "--data", str(shards), "--strength", "0"]) == 2
