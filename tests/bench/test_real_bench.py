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
    from depthgen.models.config import DiffusionConfig, ModelConfig
    from depthgen.models.depth_pipeline import DepthGenPipeline
    from depthgen.models.diffusion import make_train_scheduler
    from depthgen.models.palette_pipeline import PalettePipeline
    from depthgen.models.unet import build_unet

    root = tmp_path_factory.mktemp("real_bench")
    cfg = ModelConfig(preset="tiny", sample_size=S)
    for name, objective in (("depth", "diffusion"), ("regression", "regression")):
        DepthGenPipeline(build_unet(cfg, 1).eval(), make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0,
                         resolution=S, objective=objective).save_pretrained(str(root / name))
    DepthGenPipeline(build_unet(cfg, 1).eval(), make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0,
                     resolution=S, canonical_fov_deg=60.0).save_pretrained(str(root / "depth-canonical"))
    PalettePipeline(build_unet(cfg, 3).eval(), make_train_scheduler(DiffusionConfig()),
                    resolution=S).save_pretrained(str(root / "inpaint"))
    rng = np.random.default_rng(0)
    K = [[30.0, 0.0, W / 2 - 0.5], [0.0, 30.0, H / 2 - 0.5], [0.0, 0.0, 1.0]]  # centred (OpenCV convention)
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
            "--quick", "--sheet", "2", "--work-dir", str(tmp_path / "cache"), "--out-dir", str(tmp_path)]
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
    # a second run reuses the cached frames (none on the sheet now) and scores them the same
    first = rep["results"]["summary"]
    assert main(argv[:-2] + ["--sheet", "0", "--out-dir", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "bench_real_depth.json").read_text())["results"]
    assert again["frames_reused"] == 2 and again["frames_timed"] == 0
    assert again["summary"]["depthgen"] == first["depthgen"]
    from bench.results import main as results_main

    assert results_main(["--docs", str(tmp_path)]) == 0
    page = (tmp_path / "RESULTS.md").read_text()
    assert "## Depth on real photographs" in page and "| DepthGen | median-scaled |" in page


def test_real_depth_frames_selects_the_measuring_frames_and_drops_the_absent_regression(tiny, tmp_path):
    from bench.real_depth import main

    argv = ["--data", str(tiny / "seq"), "--model", str(tiny / "depth"), "--regression", "none", "--frames", "1-2",
            "--sheet", "1", "--steps", "1", "--samples", "1", "--no-cache", "--out-dir", str(tmp_path)]
    assert main(argv) == 0
    res = json.loads((tmp_path / "bench_real_depth.json").read_text())["results"]
    assert res["frames"] == 2 and res["frames_selected"] == "1-2"
    assert [r["name"] for r in res["frames_rows"]] == ["000001", "000002"]
    assert res["summary"]["regression"] == {} and "of frames 1-2" in (tmp_path / "bench_real_depth.md").read_text()
    assert main(argv[:-2] + ["--frames", "7-9", "--out-dir", str(tmp_path)]) == 2  # selects nothing: one line


def test_real_depth_gives_the_frames_camera_to_a_camera_aware_model(tiny, tmp_path):
    """--camera known (default) passes each frame's K: a canonical-camera model's metric depth then follows
    the frames' focal length (56 degrees across) instead of the assumed 60, by the canonical ratio; median-scaled
    figures do not change."""
    from bench.real_depth import main
    from depthgen.models.camera import normalized_focal

    common = ["--data", str(tiny / "seq"), "--model", str(tiny / "depth-canonical"), "--regression", "none",
              "--quick", "--sheet", "0", "--no-cache"]
    runs = {}
    for camera in ("known", "default"):
        assert main(common + ["--camera", camera, "--out-dir", str(tmp_path / camera)]) == 0
        runs[camera] = json.loads((tmp_path / camera / "bench_real_depth.json").read_text())["results"]
        assert runs[camera]["camera"] == camera
    known, assumed = (runs[c]["summary"]["depthgen"] for c in ("known", "default"))
    K = np.array([[30.0, 0.0, W / 2 - 0.5], [0.0, 30.0, H / 2 - 0.5], [0.0, 0.0, 1.0]])
    ratio = normalized_focal((H, W), K=K) / normalized_focal((H, W), fov_deg=60.0)
    assert abs(ratio - 1) > 0.05
    assert known["metric"]["pred_median"] == pytest.approx(assumed["metric"]["pred_median"] * ratio, rel=0.02)
    assert known["scaled"]["abs_rel"] == pytest.approx(assumed["scaled"]["abs_rel"], abs=1e-6)


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


def test_real_photo3d_quick_and_its_oracle_reference(tiny, tmp_path):
    """The reference row lifts the frame's own true depth: it must match the fused true surface closely, which
    checks the crop, intrinsics, poses and world placement together."""
    from bench.real_photo3d import main

    argv = ["--data", str(tiny / "seq"), "--depth", str(tiny / "depth"), "--inpaint", str(tiny / "inpaint"),
            "--size", "32x24", "--voxel", "0.05", "--quick", "--out-dir", str(tmp_path),
            "--work-dir", str(tmp_path / "work")]  # 32-px views: no super-resolution cascade (8-px base models)
    assert main(argv) == 0
    rep = json.loads((tmp_path / "bench_real_photo3d.json").read_text())
    assert (tmp_path / "bench_real_photo3d.png").is_file() and (tmp_path / "bench_real_photo3d.md").is_file()
    res = rep["results"]
    assert sorted(res["fused_frames"]) == [0, 1, 2]
    assert abs(res["fov_deg"] - 56.1) < 0.5  # 2 atan(16 / 30)
    rows = res["rows"]
    assert set(rows) == {"raw", "aligned", "oracle"}
    assert rows["oracle"]["chamfer"] < 0.1 and rows["oracle"]["fscore@0.1"] > 0.9
    for r in rows.values():
        assert r["chamfer"] >= 0 and 0 <= r["fscore@0.05"] <= r["fscore@0.1"] <= 1
    assert main(argv[:-4] + ["--frame", "7", "--out-dir", str(tmp_path)]) == 2


def test_centre_crop_box_is_centred_on_the_principal_point():
    from bench.real_photo3d import centre_crop_box

    K = np.array([[525.0, 0, 327.0], [0, 525.0, 242.0], [0, 0, 1]])
    r0, r1, c0, c1 = centre_crop_box(K, (480, 640), 4 / 3)
    assert abs((c0 + c1) / 2 - 327.5) <= 0.5 and abs((r0 + r1) / 2 - 242.5) <= 0.5
    assert abs((c1 - c0) / (r1 - r0) - 4 / 3) < 0.01 and 0 <= c0 and c1 <= 640 and 0 <= r0 and r1 <= 480
