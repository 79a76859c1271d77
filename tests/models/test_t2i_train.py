"""Training the text-to-image model on the synthetic toy set: loss falls, resume is exact, SIGINT checkpoints."""

from __future__ import annotations

import csv
import signal

import pytest
import torch

from depthgen.common.config import load_config
from text3d.models.t2i.config import T2IRecipe

DEBUG = "configs/models/t2i/debug.yaml"


def _cfg(out, *over: str) -> T2IRecipe:
    return load_config(T2IRecipe, DEBUG, [f"train.output_dir={out}", *over])


def train(cfg: T2IRecipe, **kw) -> dict:
    """The shared trainer on the text-to-image task, its result as a dict."""
    from depthgen.training.trainer import train as run
    from text3d.models.t2i.train import T2ITask

    return vars(run(T2ITask(cfg), progress=False, **kw))


def _weights(ckpt):
    from safetensors.torch import load_file

    return load_file(str(ckpt / "model.safetensors")), load_file(str(ckpt / "ema.safetensors"))


def test_loss_falls_on_toy_set(tmp_path):
    cfg = _cfg(tmp_path, "train.max_steps=80", "train.lr=2e-3", "train.lr_schedule=constant", "train.batch_size=8",
               "train.checkpoint_every=1000", "diffusion.prediction_type=epsilon")
    res = train(cfg)
    with open(tmp_path / "log.csv", newline="") as f:
        losses = [float(r["loss"]) for r in csv.DictReader(f)]
    assert len(losses) == 80
    first, last = sum(losses[:15]) / 15, sum(losses[-15:]) / 15
    assert last < 0.7 * first, (first, last)
    assert (res["export"] / "model_index.json").is_file()


def test_resume_continues_exactly(tmp_path):
    import shutil

    full = train(_cfg(tmp_path / "a"))  # 6 steps, checkpoints at 3 and 6
    assert full["step"] == 6
    (tmp_path / "b").mkdir()
    shutil.copytree(tmp_path / "a" / "checkpoint-3", tmp_path / "b" / "checkpoint-3")
    shutil.copy(tmp_path / "a" / "log.csv", tmp_path / "b" / "log.csv")
    resumed = train(_cfg(tmp_path / "b"), resume=True)
    assert resumed["step"] == 6
    (wa, ea), (wb, eb) = _weights(full["checkpoint"]), _weights(resumed["checkpoint"])
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
        assert torch.equal(ea[k], eb[k]), k
    with open(tmp_path / "b" / "log.csv") as fb, open(tmp_path / "a" / "log.csv") as fa:
        assert list(csv.reader(fb))[1:] != []
        rows_a = {r[0]: r[1] for r in list(csv.reader(fa))[1:]}
        fb.seek(0)
        rows_b = {r[0]: r[1] for r in list(csv.reader(fb))[1:]}
    assert all(rows_a[s] == l for s, l in rows_b.items())  # replayed steps log the same losses


def test_stop_step_then_resume_equals_one_run(tmp_path):
    full = train(_cfg(tmp_path / "a", "train.checkpoint_every=100"))
    part = train(_cfg(tmp_path / "b", "train.checkpoint_every=100"), stop_step=2)
    assert part["step"] == 2 and part["export"] is None  # schedule not finished: nothing exported
    rest = train(_cfg(tmp_path / "b", "train.checkpoint_every=100"), resume=True)
    assert rest["step"] == 6 and rest["export"] is not None
    (wa, ea), (wb, eb) = _weights(full["checkpoint"]), _weights(rest["checkpoint"])
    assert all(torch.equal(wa[k], wb[k]) and torch.equal(ea[k], eb[k]) for k in wa)


def test_signal_checkpoints_and_resume_latest(tmp_path, monkeypatch):
    from depthgen.training.trainer import StopFlag
    from text3d.models.t2i.train import T2ITask

    real_loss, calls = T2ITask.loss, {"n": 0}
    stop = StopFlag()

    def loss_then_signal(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            stop._handle(signal.SIGTERM, None)  # what the installed handler does on SIGTERM
        return real_loss(self, *args, **kwargs)

    monkeypatch.setattr(T2ITask, "loss", loss_then_signal)
    res = train(_cfg(tmp_path, "train.checkpoint_every=100"), stop=stop)
    assert res["interrupted"] and res["step"] == 2 and res["export"] is None
    assert res["checkpoint"].name == "checkpoint-2"
    monkeypatch.setattr(T2ITask, "loss", real_loss)
    again = train(_cfg(tmp_path, "train.checkpoint_every=100"), resume=True)
    assert again["step"] == 6 and not again["interrupted"]


def test_cli_bad_input_exits_2(tmp_path, capsys):
    from text3d.models.t2i.train import main

    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "train.bogus=1"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "data.kind=folder"]) == 2


def test_cli_runs_and_exports(tmp_path):
    from text3d.models.t2i.pipeline import TextToImagePipeline
    from text3d.models.t2i.train import main

    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "--max-steps", "2",
                 "--export", str(tmp_path / "exp")]) == 0
    pipe = TextToImagePipeline.from_pretrained(tmp_path / "exp")
    img = pipe("a red room", num_inference_steps=2, generator=torch.Generator().manual_seed(0))[0]
    assert img.shape == (16, 16, 3)


def test_export_only_writes_the_checkpoint_ema(tmp_path, capsys):
    from text3d.models.t2i.pipeline import TextToImagePipeline
    from text3d.models.t2i.train import main

    assert main(["--export-only", "--from", str(tmp_path), "--out", str(tmp_path / "exp")]) == 2
    assert "checkpoint" in capsys.readouterr().err
    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "--max-steps", "2"]) == 0
    assert main(["--export-only", "--from", str(tmp_path), "--out", str(tmp_path / "exp")]) == 0
    unet = TextToImagePipeline.from_pretrained(tmp_path / "exp").unet
    _, ema = _weights(tmp_path / "checkpoint-2")
    cast = _cfg(tmp_path).train.export_dtype == "float16"
    for name, value in unet.state_dict().items():
        want = ema[name].half().float() if cast else ema[name]
        assert torch.equal(value.float(), want), name
    assert "2 optimizer steps" in (tmp_path / "exp" / "README.md").read_text()
    assert main(["--export-only", "--from", str(tmp_path)]) == 2


def test_export_only_applies_overrides_to_the_checkpoint_recipe(tmp_path, capsys):
    from text3d.models.t2i.pipeline import TextToImagePipeline
    from text3d.models.t2i.train import main

    assert main(["--config", DEBUG, f"train.output_dir={tmp_path}", "--max-steps", "2"]) == 0
    assert main(["--export-only", "--from", str(tmp_path), "--out", str(tmp_path / "plain")]) == 0
    assert main(["--export-only", "--from", str(tmp_path), "--out", str(tmp_path / "exp"),
                 "diffusion.guidance_scale=4.5"]) == 0
    plain = TextToImagePipeline.from_pretrained(tmp_path / "plain").config.guidance_scale
    assert plain != 4.5 and TextToImagePipeline.from_pretrained(tmp_path / "exp").config.guidance_scale == 4.5
    capsys.readouterr()
    assert main(["--export-only", "--from", str(tmp_path), "--out", str(tmp_path / "bad"), "diffusion.guidanse=1"]) == 2
    assert "guidanse" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_caption_cache_is_reused(tmp_path):
    from text3d.models.t2i.data import CaptionBank

    class CountingEncoder:
        name = "fake"

        def __init__(self):
            self.seen: list[str] = []

        def encode(self, texts, progress=False):
            self.seen += list(texts)
            return torch.nn.functional.normalize(torch.randn(len(texts), 384, generator=torch.Generator().manual_seed(0)), dim=1)

    enc = CountingEncoder()
    a = CaptionBank.build([["x", "y"], ["y"]], enc, tmp_path / "c.safetensors")
    b = CaptionBank.build([["y"], ["z"]], enc, tmp_path / "c.safetensors")
    assert enc.seen == ["x", "y", "z"]  # y came from the cache the second time
    assert torch.equal(a.embeddings[a.captions.index("y")], b.embeddings[b.captions.index("y")])
    assert b.ids == [[0], [1]]


def test_max_captions_limits_captions_per_image():
    from text3d.models.t2i.data import from_samples, synthetic_samples

    samples = synthetic_samples(4, 8)
    assert [len(c) for c in from_samples(samples, 8).captions] == [2, 2, 2, 2]
    assert [len(c) for c in from_samples(samples, 8, max_captions=1).captions] == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="16x16"):
        from_samples(samples, 16)


@pytest.mark.slow
def test_trained_model_follows_the_prompt_and_unseen_words(tmp_path):
    """~1 min: train the tiny model on the toy colour rooms; the wall (top rows) takes the prompted colour,
    also for a word no caption contains ("crimson")."""
    import numpy as np

    from text3d.models.t2i.pipeline import TextToImagePipeline
    res = train(_cfg(tmp_path, "train.max_steps=200", "train.lr=2e-3", "train.lr_schedule=constant",
                     "train.batch_size=16", "train.checkpoint_every=1000", "train.ema_decay=0.9",
                     "data.synthetic_size=64", "diffusion.text_dropout=0.2"))
    pipe = TextToImagePipeline.from_pretrained(res["export"])

    def wall(prompt: str) -> np.ndarray:
        gens = [torch.Generator().manual_seed(i) for i in range(4)]
        ims = np.stack(pipe([prompt] * 4, num_inference_steps=10, generator=gens))
        return ims[:, :6].mean(axis=(0, 1, 2))  # mean RGB of the top rows (the wall)

    for prompt, channel in [("a red room", 0), ("a crimson room", 0), ("a room with green walls", 1), ("a blue room", 2)]:
        rgb = wall(prompt)
        assert rgb[channel] == rgb.max() and rgb[channel] - np.delete(rgb, channel).max() > 0.2, (prompt, rgb)


def test_t_shift_moves_the_training_timesteps_toward_noise(monkeypatch):
    import text3d.models.t2i.model as model
    from depthgen.models.config import DiffusionConfig
    from depthgen.models.diffusion import make_train_scheduler
    from text3d.models.t2i.train import training_step

    seen = []

    def fake_forward(unet, x_t, t, text):
        seen.append(t.clone())
        return torch.zeros_like(x_t, requires_grad=True)

    monkeypatch.setattr(model, "unet_forward", fake_forward)
    sched = make_train_scheduler(DiffusionConfig(prediction_type="sample"))
    x0, text = torch.zeros(4096, 3, 2, 2), torch.zeros(4096, 384)
    training_step(None, sched, x0, text, torch.Generator().manual_seed(0))
    training_step(None, sched, x0, text, torch.Generator().manual_seed(0), t_shift=3.0)
    plain, shifted = (float((t >= 900).float().mean()) for t in seen)
    assert plain == pytest.approx(0.10, abs=0.02) and shifted == pytest.approx(0.25, abs=0.03)


def test_bad_t_shift_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="t_shift"):
        _cfg(tmp_path, "diffusion.t_shift=-1")


def test_card_says_when_timesteps_were_shifted(tmp_path):
    from text3d.models.t2i.export import CARD, training_card

    plain = training_card(_cfg(tmp_path), 5)
    shifted = training_card(_cfg(tmp_path, "diffusion.t_shift=3"), 5)
    assert plain["shift"] == "" and "t_shift 3" in shifted["shift"]
    assert "{shift}" in CARD


def test_latent_model_trains_exports_and_decodes(tmp_path):
    """A latent recipe learns from a latent cache and exports a pipeline that decodes 8x its sample size."""
    from text3d.models.autoencoder.encode import write_cache
    from text3d.models.t2i import TextToImagePipeline

    g = torch.Generator().manual_seed(0)
    latents = (torch.randn(8, 32, 8, 8, generator=g) * 0.7 + 0.1).to(torch.float16)
    cache = write_cache(tmp_path / "lat.safetensors", latents, [[f"a room {i}"] for i in range(8)])
    cfg = _cfg(tmp_path / "run", "model.sample_size=8", "model.latent_channels=32", "model.coord_channels=true",
               "data.kind=latents", f"data.path={cache}", "data.hflip=false", "train.max_steps=3",
               "diffusion.guidance_scale=5", f"train.export_dir={tmp_path / 'pipe'}")
    res = train(cfg)
    assert (res["export"] / "vae" / "config.json").is_file() and (res["export"] / "vae" / "LICENSE").is_file()
    card = (res["export"] / "README.md").read_text()
    assert "first 64x64 view" in card and "8x8x32 latent" in card and "vae/LICENSE" in card
    assert "default 5, saved" in card
    pipe = TextToImagePipeline.from_pretrained(str(res["export"]))
    assert pipe.is_latent and pipe.unet.config.in_channels == 34 and pipe.config.guidance_scale == 5.0
    images = pipe("a room", num_inference_steps=2, generator=torch.Generator().manual_seed(1))
    assert images[0].shape == (64, 64, 3) and images[0].dtype.name == "float32"
    assert 0.0 <= images[0].min() and images[0].max() <= 1.0
    again = pipe("a room", num_inference_steps=2, generator=torch.Generator().manual_seed(1))
    assert (again[0] == images[0]).all()
    with pytest.raises(ValueError, match="needs a layout bank"):
        pipe("a room", num_inference_steps=2, layout_strength=0.5)


def test_latent_recipe_needs_a_latent_cache_and_no_flips(tmp_path):
    with pytest.raises(ValueError, match="go together"):
        _cfg(tmp_path, "model.latent_channels=32")
    with pytest.raises(ValueError, match="hflip must be false"):
        _cfg(tmp_path, "model.latent_channels=32", "data.kind=latents", "data.hflip=true")
