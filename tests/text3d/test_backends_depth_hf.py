"""Depth backends for real-world weights (Marigold, DPT, Depth Anything) with tiny randomly initialised models
saved to a temporary folder (``text3d.fakes`` and here): they load offline (the network guard is on), give depth of the
image's size, and keep known depth exactly when completing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from text3d.backends.depth import MarigoldDepthBackend, TransformersDepthBackend, relative_to_metres
from text3d.backends.protocols import DepthBackend
from text3d.backends.registry import build_backend
from text3d.fakes import put_in_hub_cache, save_tiny_dpt, save_tiny_marigold


def _depth_anything(root, kind: str):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=37,
                            image_size=28, patch_size=14, out_features=["stage1", "stage2", "stage3", "stage4"],
                            reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=32, patch_size=14,
                              neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_hidden_size=8,
                              depth_estimation_type=kind, max_depth=10 if kind == "metric" else 1)
    folder = root / f"depth_anything_{kind}"
    DepthAnythingForDepthEstimation(cfg).save_pretrained(str(folder))
    DPTImageProcessor(size={"height": 28, "width": 28}, keep_aspect_ratio=False,
                      ensure_multiple_of=14).save_pretrained(str(folder))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth_hf")
    save_tiny_marigold(root / "marigold")
    save_tiny_dpt(root / "dpt")
    _depth_anything(root, "relative")
    _depth_anything(root, "metric")
    return root


FOLDERS = {"marigold": "MarigoldDepthBackend", "dpt": "TransformersDepthBackend",
           "depth_anything_relative": "TransformersDepthBackend", "depth_anything_metric": "TransformersDepthBackend"}
OUTPUTS = {"marigold": "depth", "dpt": "disparity", "depth_anything_relative": "disparity",
           "depth_anything_metric": "metric"}


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_loads_from_a_folder_and_predicts_the_image_size(models, folder):
    backend = build_backend("depth", str(models / folder), "cpu")
    assert type(backend).__name__ == FOLDERS[folder] and isinstance(backend, DepthBackend)
    assert backend.output == OUTPUTS[folder] and backend.name == str(models / folder)
    image = np.random.default_rng(0).random((30, 44, 3)).astype(np.float32)
    res = backend.predict(image, steps=2, samples=2, generator=g())
    assert res.depth.shape == (30, 44) and res.depth.dtype == np.float32
    assert np.isfinite(res.depth).all() and (res.depth > 0).all()
    assert res.uncertainty.shape == (30, 44) and (res.uncertainty >= 0).all()
    again = backend.predict(image, steps=2, samples=2, generator=g())
    np.testing.assert_array_equal(res.depth, again.depth)  # same generator, same depth


@pytest.mark.parametrize("folder", ["marigold", "dpt", "depth_anything_metric"])
def test_complete_keeps_known_depth_and_fits_the_rest(models, folder):
    backend = build_backend("depth", str(models / folder), "cpu")
    image = np.random.default_rng(1).random((24, 32, 3)).astype(np.float32)
    known = np.full((24, 32), 2.5, np.float32) + np.linspace(0, 1, 32, dtype=np.float32)[None]
    mask = np.zeros((24, 32), bool)
    mask[:, :20] = True
    res = backend.complete(image, known, mask, steps=2, samples=1, generator=g())
    assert res.depth.shape == (24, 32)
    np.testing.assert_array_equal(res.depth[mask], known[mask])
    assert (res.uncertainty[mask] == 0).all()
    fill = res.depth[~mask]
    assert np.isfinite(fill).all() and (fill > 0).all()
    # the fitted fill sits at the known depth's scale, not at the model's own units
    assert 0.5 < np.median(fill) / np.median(known[mask]) < 2.0


def test_relative_outputs_become_positive_depth_in_the_stated_range():
    x = np.linspace(0.0, 3.0, 12, dtype=np.float32).reshape(3, 4)
    d = relative_to_metres(x, "depth", (0.5, 8.0))
    assert d.min() == pytest.approx(0.5) and d.max() == pytest.approx(8.0) and np.all(np.diff(d.ravel()) > 0)
    disp = relative_to_metres(x, "disparity", (0.5, 8.0))
    assert disp.min() == pytest.approx(0.5) and disp.max() == pytest.approx(8.0) and np.all(np.diff(disp.ravel()) < 0)
    np.testing.assert_array_equal(relative_to_metres(np.full((2, 2), 3.0), "metric"), np.full((2, 2), 3.0, np.float32))
    with pytest.raises(ValueError, match="output kind"):
        relative_to_metres(x, "inverse")


def test_loads_from_the_hub_cache_offline(models, tmp_path, monkeypatch):
    """A hub id resolves to its snapshot in the local Hugging Face cache, with no network."""
    put_in_hub_cache(models / "dpt", "someone/tiny-dpt", tmp_path / "hub")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    backend = build_backend("depth", "someone/tiny-dpt", "cpu")
    assert isinstance(backend, TransformersDepthBackend) and backend.name == "someone/tiny-dpt"
    assert backend.predict(np.zeros((16, 20, 3), np.float32), steps=1, samples=1, generator=g()).depth.shape == (16, 20)
    with pytest.raises(ValueError, match="not in the local Hugging Face cache"):
        build_backend("depth", "someone/not-cached", "cpu")


def test_bad_depth_folders_are_one_line_errors(tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(ValueError, match="not a DepthGenPipeline, MarigoldDepthPipeline or transformers") as e:
        build_backend("depth", str(tmp_path / "cfg"))
    assert "\n" not in str(e.value)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text(json.dumps({"architectures": ["DPTForDepthEstimation"]}))
    with pytest.raises(ValueError, match="cannot load depth model") as e:
        build_backend("depth", str(tmp_path / "broken"))
    assert "\n" not in str(e.value)


def test_cli_bad_depth_name_exits_2_with_one_line(tmp_path, capsys):
    from PIL import Image

    from text3d.cli import main

    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "photo.png")
    code = main(["--image", str(tmp_path / "photo.png"), "--depth", "no-such-depth-model", "--out", str(tmp_path / "o"),
                 "--quiet"])
    err = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines()
           if ln.strip() and "Loading pipeline components" not in ln]  # diffusers' loading bars of other models
    assert code == 2 and len(err) == 1 and "no-such-depth-model" in err[0]
