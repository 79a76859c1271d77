"""The real-photo benchmarks in --quick mode on a tiny synthetic RGB-D sequence with tiny random models
(wiring, not quality), their priors, and the clean skip when the data folder is absent."""

import json

import numpy as np
import pytest

S = 16
H, W = 24, 32


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny random DepthGen (diffusion and regression) pipelines and a 3-frame sequence of a box in a room
    (folder format with K and poses)."""
    from depthgen.data.folder import write_folder_meta, write_folder_sample
    from depthgen.diffusion import make_train_scheduler
    from depthgen.model import build_unet
    from depthgen.pipeline import DepthGenPipeline
    from depthgen.recipe import DiffusionConfig, ModelConfig

    root = tmp_path_factory.mktemp("real_bench")
    cfg = ModelConfig(preset="tiny", sample_size=S)
    for name, objective in (("depth", "diffusion"), ("regression", "regression")):
        DepthGenPipeline(build_unet(cfg, 1).eval(), make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0,
                         resolution=S, objective=objective).save_pretrained(str(root / name))
    rng = np.random.default_rng(0)
    K = [[30.0, 0.0, W / 2], [0.0, 30.0, H / 2], [0.0, 0.0, 1.0]]
    poses = {}
    for i in range(3):
        depth = np.full((H, W), 2.0, np.float32)  # a wall 2 m ahead, the camera sliding sideways
        depth[8:16, 10:20] = 1.5
        write_folder_sample(root / "seq", f"{i:06d}", rng.integers(0, 255, (H, W, 3), dtype=np.uint8), depth)
        T = np.eye(4)
        T[0, 3] = 0.02 * i
        poses[f"{i:06d}"] = T.tolist()
    write_folder_meta(root / "seq", 1000.0, K=K)
    (root / "seq" / "poses.json").write_text(json.dumps({"poses": poses}))
    return root


def test_real_depth_quick(tiny, tmp_path):
    from bench.real_depth import main

    argv = ["--data", str(tiny / "seq"), "--model", str(tiny / "depth"), "--regression", str(tiny / "regression"),
            "--quick", "--sheet", "2", "--out-dir", str(tmp_path)]
    assert main(argv) == 0
    rep = json.loads((tmp_path / "bench_real_depth.json").read_text())
    for f in ("bench_real_depth.md", "bench_real_depth.png", "bench_real_depth_sheet.png", "bench_real_depth_frames.csv"):
        assert (tmp_path / f).is_file()
    sm = rep["results"]["summary"]
    assert rep["results"]["frames"] == 2 and set(sm["depthgen"]) == {"metric", "scaled"}
    for name in ("depthgen", "regression", "ramp", "constant"):
        m = sm[name]["scaled"]
        assert 0 <= m["delta1"] <= 1 and m["abs_rel"] >= 0
        assert m["pred_median"] == pytest.approx(sm["gt_median"], rel=1e-5)  # median scaling matches medians
    # one constant (2.0 m, the wall) is right on most pixels: the oracle constant finds it
    assert sm["constant"]["metric"]["value_m"] == pytest.approx(2.0, rel=0.02)
    lines = (tmp_path / "bench_real_depth_frames.csv").read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("index,name,gt_median")
    assert main(argv[:-2] + ["--stride", "0", "--out-dir", str(tmp_path)]) == 2
    from bench.results import main as results_main

    assert results_main(["--docs", str(tmp_path)]) == 0
    page = (tmp_path / "RESULTS.md").read_text()
    assert "## Depth on real photographs" in page and "| DepthGen | median-scaled |" in page


def test_real_depth_skips_without_data(tmp_path, capsys):
    from bench.real_depth import main

    assert main(["--data", str(tmp_path / "absent"), "--out-dir", str(tmp_path)]) == 0
    assert "skipped" in capsys.readouterr().out and not list(tmp_path.iterdir())
    from bench.results import main as results_main

    assert results_main(["--docs", str(tmp_path)]) == 0  # no section for a real-data benchmark never run
    assert "Depth on real photographs" not in (tmp_path / "RESULTS.md").read_text()


def test_ramp_prior_shape():
    from bench.real_depth import ramp_depth

    r = ramp_depth((10, 4), 2.0)
    assert r.shape == (10, 4) and np.all(np.diff(r[:, 0]) < 0)  # deeper towards the top
    assert r[0, 0] == pytest.approx(1.95) and r[-1, 0] == pytest.approx(1.05)
