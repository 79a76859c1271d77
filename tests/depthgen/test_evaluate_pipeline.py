"""The evaluate CLI end to end with a tiny random DepthGenPipeline saved to disk (no trained weights)."""

import json

import numpy as np
import pytest

from depthgen.data.folder import FolderDataset, write_folder_meta, write_folder_sample
from depthgen.evaluation.evaluate import evaluate_model, main

S = 16


@pytest.fixture(scope="module")
def saved_pipe(tmp_path_factory):
    pipeline = pytest.importorskip("depthgen.models.depth_pipeline")
    from depthgen.models.config import DiffusionConfig, ModelConfig
    from depthgen.models.diffusion import make_train_scheduler
    from depthgen.models.unet import build_unet

    unet = build_unet(ModelConfig(preset="tiny", sample_size=S), 1, seed=0).eval()
    pipe = pipeline.DepthGenPipeline(unet, make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0,
                                     resolution=S)
    path = tmp_path_factory.mktemp("pipe") / "tiny"
    pipe.save_pretrained(str(path))
    return path


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        depth = rng.uniform(1.0, 6.0, size=(12, 20)).astype(np.float32)
        write_folder_sample(tmp_path / "d", f"s{i}", rng.integers(0, 256, (12, 20, 3), dtype=np.uint8), depth)
    write_folder_meta(tmp_path / "d", 1000)
    return tmp_path / "d"


def test_cli_matches_the_python_api(saved_pipe, folder, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--model", str(saved_pipe), "--data", f"folder:{folder}", "--samples", "1", "2", "--steps", "2",
            "--out", str(out), "--device", "cpu", "--quiet", "--seed", "3"]
    assert main(args) == 0
    saved = json.loads((out / "results.json").read_text())
    assert saved["num_images"] == 2 and set(saved["metrics"]) == {"1", "2"}
    assert all(np.isfinite(saved["metrics"]["2"][m]) for m in saved["metric_names"])

    from depthgen.models.depth_pipeline import DepthGenPipeline

    pipe = DepthGenPipeline.from_pretrained(str(saved_pipe))
    direct = evaluate_model(pipe, FolderDataset(folder), None, samples=[1, 2], steps=2, seed=3)
    assert direct["metrics"]["2"]["abs_rel"] == pytest.approx(saved["metrics"]["2"]["abs_rel"], rel=1e-5)
    # the batch size only changes how the samples are chunked, not which samples are drawn
    chunked = evaluate_model(pipe, FolderDataset(folder), None, samples=[1, 2], steps=2, seed=3, batch_size=1)
    assert chunked["metrics"]["2"]["abs_rel"] == pytest.approx(direct["metrics"]["2"]["abs_rel"], rel=1e-5)


def test_cli_folder_that_is_not_a_pipeline(folder, tmp_path, capsys):
    (tmp_path / "empty_model").mkdir()
    assert main(["--model", str(tmp_path / "empty_model"), "--data", f"folder:{folder}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a saved pipeline" in err and "\n" not in err
