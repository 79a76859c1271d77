"""Scene classifier, alignment/diversity measures and the bench script, on toy data with tiny models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from text3d.models.t2i.classifier import TrainedClassifier, train_classifier
from text3d.models.t2i.data import synthetic_samples
from text3d.models.t2i.evaluate import alignment, diversity, image_grid, pairwise_distance

ROOT = Path(__file__).resolve().parents[2]


def _toy(n: int, seed: int):
    samples = synthetic_samples(n, 16, seed)
    images = np.stack([(s["rgb"] * 255).round().astype(np.uint8) for s in samples])
    labels = [s["captions"][0].split()[1] for s in samples]  # "a red room" -> "red"
    return images, labels


@pytest.fixture(scope="module")
def classifier():
    images, labels = _toy(96, 0)
    return train_classifier(images, labels, epochs=6, batch_size=16, width=8, seed=0)


def test_classifier_learns_toy_scene_types(classifier, tmp_path):
    assert classifier.classes == ["blue", "green", "red", "yellow"]
    assert classifier.val_accuracy >= 0.9
    assert classifier.history[-1] < classifier.history[0]
    images, labels = _toy(20, 1)  # unseen samples
    assert np.mean([p == t for p, t in zip(classifier.predict(images), labels)]) >= 0.9
    classifier.save(tmp_path / "clf")
    loaded = TrainedClassifier.load(tmp_path / "clf")
    np.testing.assert_allclose(loaded.predict_proba(images), classifier.predict_proba(images), atol=1e-6)
    assert loaded.classes == classifier.classes and loaded.val_accuracy == classifier.val_accuracy


def test_classifier_training_is_seeded():
    images, labels = _toy(32, 2)
    a = train_classifier(images, labels, epochs=1, batch_size=16, width=8, seed=3)
    b = train_classifier(images, labels, epochs=1, batch_size=16, width=8, seed=3)
    np.testing.assert_array_equal(a.predict_proba(images), b.predict_proba(images))


def test_diversity_and_alignment_measures():
    zeros, ones = np.zeros((8, 8, 3), np.float32), np.ones((8, 8, 3), np.float32)
    half = np.full((8, 8, 3), 0.5, np.float32)
    images = np.stack([zeros, zeros, ones, half])
    d = pairwise_distance(images)
    assert d.shape == (4, 4) and d[0, 1] == 0 and d[0, 2] == 1 and d[2, 3] == 0.5 and np.allclose(d, d.T)
    div = diversity(images, [0, 0, 1, 1])
    assert div["within"] == pytest.approx((0 + 0.5) / 2)
    assert div["between"] == pytest.approx((1 + 0.5 + 1 + 0.5) / 4)
    assert alignment(["a", "b", "a", "a"], ["a", "a", "a", "b"]) == 0.5
    with pytest.raises(ValueError):
        alignment(["a"], ["a", "b"])


def test_image_grid_layout():
    rows = [[np.zeros((8, 8, 3))] * 3, [np.ones((8, 8, 3))] * 2]
    grid = image_grid(rows, ["black", "white"], scale=2, label_width=50)
    assert grid.shape == (2 * (16 + 2), 50 + 3 * (16 + 2), 3) and grid.dtype == np.uint8


def test_bench_script_end_to_end(tmp_path, classifier):
    from text3d.models.t2i.pipeline import TextToImagePipeline

    bench = _bench_setup(tmp_path, "v_prediction", [("a crimson room", "red"), ("somewhere blue", "blue")])
    classifier.save(tmp_path / "clf")
    args = ["--pipeline", str(tmp_path / "p"), "--prompts", str(tmp_path / "prompts.yaml"), "--seeds", "3",
            "--steps", "2", "--classifier", str(tmp_path / "clf"), "--out", str(tmp_path / "docs"), "--no-realism"]
    assert bench.main(args) == 0
    report = json.loads((tmp_path / "docs" / "t2i_eval.json").read_text())
    assert 0.0 <= report["alignment"] <= report["alignment_top3"] <= 1.0 and report["n_prompts"] == 2 and report["seeds"] == [0, 1, 2]
    assert report["diversity"]["within"] > 0  # different seeds give different images
    assert sum(sum(p["predicted"].values()) for p in report["per_prompt"]) == 6
    assert (tmp_path / "docs" / "t2i_grid.png").is_file() and "Alignment" in (tmp_path / "docs" / "t2i_eval.md").read_text()
    assert "plain" not in report and not (tmp_path / "docs" / "t2i_grid_plain.png").exists()
    # with a layout bank: the retrieved-layout run, what retrieval alone picked, and the pure-noise comparison
    import torch

    from text3d.models.t2i.layout_bank import LayoutBank

    pipe = TextToImagePipeline.from_pretrained(tmp_path / "p")
    emb = pipe.encode_prompts(["a crimson room", "somewhere blue"])
    layouts = torch.tensor([[220, 20, 20], [20, 20, 220]], dtype=torch.uint8)[:, :, None, None].expand(-1, -1, 4, 4)
    pipe.layout_bank = LayoutBank(layouts.contiguous(), emb, top_k=1, scene_types=["red", "blue"])
    pipe.save_pretrained(str(tmp_path / "pb"))
    assert bench.main(["--pipeline", str(tmp_path / "pb"), "--layout-strength", "0.5"] + args[2:]) == 0
    report = json.loads((tmp_path / "docs" / "t2i_eval.json").read_text())
    assert report["layout_strength"] == 0.5 and report["layout_alignment"] == 1.0 and report["layout_size"] == 4
    assert 0.0 <= report["plain"]["alignment"] <= 1.0 and (tmp_path / "docs" / "t2i_grid_plain.png").is_file()
    md = (tmp_path / "docs" / "t2i_eval.md").read_text()
    assert "Retrieval alone" in md and "The UNet alone" in md and "strength 0.5" in md
    (tmp_path / "bad.yaml").write_text("prompts:\n  - {prompt: a library, scene_type: library}\n")
    assert report["classifier_recipe"]["width"] == 8 and report["classifier_recipe"]["epochs"] == 6
    assert bench.main(args[:2] + ["--prompts", str(tmp_path / "bad.yaml")] + args[4:]) == 2


def test_procedural_renders_for_the_classifier():
    from depthgen.data.procedural import SCENE_TYPES
    from text3d.models.t2i.classifier import procedural_renders

    images, labels, failed = procedural_renders(3, "test", size=16)
    assert images.shape == (3 - len(failed), 16, 16, 3) and images.dtype == np.uint8
    assert len(labels) == len(images) and set(labels) <= set(SCENE_TYPES)


def test_classifier_renders_cycle_the_camera_tilts():
    """Render i is tilted by pitch_offsets_deg[i % k] from the engine's camera (0: the engine's own view),
    so a classifier can be trained on the tilted views text3d's clean-up pass makes; seeded like the rest."""
    from depthgen.data.procedural.sample import generate_sample, split_seed
    from text3d.models.t2i.classifier import procedural_renders

    level, _, f0 = procedural_renders(3, "test", size=16, start=10)
    tilted, labels, f1 = procedural_renders(3, "test", size=16, start=10, pitch_offsets_deg=(0.0, 30.0, -30.0))
    assert f0 == f1 == []
    for k, i in enumerate(range(10, 13)):
        offset = (0.0, 30.0, -30.0)[i % 3]
        same = generate_sample(split_seed("test", i), size=(16, 16), sensor=None, pitch_offset_deg=offset)
        np.testing.assert_array_equal(tilted[k], same["rgb"])
        assert np.array_equal(tilted[k], level[k]) == (offset == 0.0)
    pose = generate_sample(split_seed("test", 11), size=(16, 16), sensor=None)["cam_to_world"]
    up = generate_sample(split_seed("test", 11), size=(16, 16), sensor=None, pitch_offset_deg=30.0)["cam_to_world"]
    np.testing.assert_allclose(up[:3, 3], pose[:3, 3])
    cos = float(up[:3, 2] @ pose[:3, 2])  # the optical axes are 30 degrees apart, the x axes equal
    assert cos == pytest.approx(np.cos(np.radians(30.0))) and np.allclose(up[:3, 0], pose[:3, 0])
    with pytest.raises(ValueError, match="pitch_offsets_deg needs at least one value"):
        procedural_renders(1, "test", size=16, pitch_offsets_deg=())


def test_bench_reuses_the_saved_classifier_only_when_trained_as_asked(tmp_path, classifier, monkeypatch):
    """A cached classifier is used when the settings asked for match how it was trained; other settings
    retrain it (here on 40 tiny stand-in renders) instead of silently measuring with the old one."""
    import text3d.models.t2i.classifier as clf_mod

    spec = importlib.util.spec_from_file_location("bench_t2i", ROOT / "bench" / "bench_t2i.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    classifier.save(tmp_path / "clf")
    rendered = []

    def fake_renders(n, split="test", size=64, start=0, progress=False, pitch_offsets_deg=(0.0,)):
        rendered.append(n)
        images, labels = _toy(n, 1)
        return images, labels, []

    monkeypatch.setattr(clf_mod, "procedural_renders", fake_renders)
    same = bench.get_classifier(tmp_path / "clf", 16, renders=None, epochs=6, width=8)
    assert rendered == [] and same.recipe["epochs"] == 6
    new = bench.get_classifier(tmp_path / "clf", 16, renders=40, epochs=2, width=8)
    assert rendered == [40] and new.recipe == {**new.recipe, "renders": 40, "epochs": 2, "width": 8}
    assert clf_mod.TrainedClassifier.load(tmp_path / "clf").recipe["renders"] == 40  # saved over the old one
    assert bench.get_classifier(tmp_path / "clf", 16, renders=40, epochs=None, width=None) is not None
    assert rendered == [40]
    tilted = bench.get_classifier(tmp_path / "clf", 16, renders=40, epochs=2, width=8, pitch_offsets=[0.0, 30.0, -30.0])
    assert rendered == [40, 40] and tilted.recipe["pitch_offsets"] == [0.0, 30.0, -30.0]
    assert bench.get_classifier(tmp_path / "clf", 16, pitch_offsets=[0.0, 30.0, -30.0]) is not None
    assert rendered == [40, 40]


def test_bench_reports_realism_from_noise(tmp_path):
    """With procedural scene types the bench adds the two-sample test and the prompt sensitivity, for the generated
    images and for true renders."""
    bench = _bench_setup(tmp_path, "sample", [("somewhere to cook", "kitchen"), ("somewhere to sleep", "bedroom")])
    args = ["--pipeline", str(tmp_path / "p"), "--prompts", str(tmp_path / "prompts.yaml"), "--seeds", "5",
            "--steps", "2", "--classifier", str(ROOT / "assets" / "scene-classifier"), "--out", str(tmp_path / "docs"),
            "--compare-size", "32"]
    assert bench.main(args) == 0
    r = json.loads((tmp_path / "docs" / "t2i_eval.json").read_text())["realism"]
    assert r["compare_size"] == 32 and r["two_sample_images"] == 10 and len(r["two_sample_per_draw"]) == 3
    assert 0.0 <= r["two_sample_accuracy"] <= 1.0  # 10 + 10 images: too few to expect a verdict here
    assert abs(r["two_sample_accuracy"] - sum(r["two_sample_per_draw"]) / 3) < 1e-9
    assert r["prompt_sensitivity"] > 0 and r["prompt_sensitivity_true_renders"] > 0 and r["indoor_prompts"] == 2
    assert "Realism from pure noise" in (tmp_path / "docs" / "t2i_eval.md").read_text()


def _bench_setup(tmp_path, prediction_type: str, prompts: list[tuple[str, str]]):
    """A tiny random text-to-image pipeline in tmp_path/p, a prompt file tmp_path/prompts.yaml, and bench.bench_t2i
    loaded from its file."""
    from diffusers import DDIMScheduler

    from text3d.models.t2i.config import T2IModelConfig
    from text3d.models.t2i.model import build_unet
    from text3d.models.t2i.pipeline import TextToImagePipeline

    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type)
    TextToImagePipeline(build_unet(T2IModelConfig(preset="tiny", sample_size=16)), sched).save_pretrained(str(tmp_path / "p"))
    (tmp_path / "prompts.yaml").write_text("prompts:\n" + "".join(f"  - {{prompt: {p}, scene_type: {t}}}\n"
                                                                   for p, t in prompts))
    spec = importlib.util.spec_from_file_location("bench_t2i", ROOT / "bench" / "bench_t2i.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench
