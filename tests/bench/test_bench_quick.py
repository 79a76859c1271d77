"""Every benchmark's --quick mode end to end with tiny random models built here (wiring, not quality):
files written, numbers in their valid ranges, bad input -> exit 2. Plus the reconstruction geometry checked
with an oracle depth model (exact depth of view 0 must reconstruct the true surface)."""

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
S = 16


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """Tiny random DepthGen (diffusion and regression), Palette and text-to-image pipelines, and two small
    folder datasets (indoor with the NYU protocol, outdoor with KITTI's)."""
    from depthgen.data.folder import write_folder_meta, write_folder_sample
    from text3d.fakes import tiny_depth_pipeline, tiny_palette_pipeline

    root = tmp_path_factory.mktemp("bench_assets")
    for name, objective in (("depth", "diffusion"), ("regression", "regression")):
        tiny_depth_pipeline(S, objective).save_pretrained(str(root / name))
    tiny_palette_pipeline(S).save_pretrained(str(root / "inpaint"))
    rng = np.random.default_rng(0)
    for kind, proto in (("indoor", "nyu"), ("outdoor", "kitti")):
        for i in range(2):
            v = np.mgrid[0:24, 0:32][0]
            depth = (2.0 + 3.0 * v / 24 + rng.uniform(0, 1)).astype(np.float32)
            depth[4:12, 6:14] = 1.2
            write_folder_sample(root / kind, f"s{i}", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), depth)
        write_folder_meta(root / kind, 1000.0, protocol=proto)
    return root


def data_args(assets):
    return ["--indoor", f"folder:{assets / 'indoor'}", "--outdoor", f"folder:{assets / 'outdoor'}"]


def read(out, name):
    assert (out / f"bench_{name}.md").is_file() and (out / f"bench_{name}.png").is_file()
    return json.loads((out / f"bench_{name}.json").read_text())


def test_depth_accuracy_of_a_camera_aware_model_with_and_without_the_camera(assets, tmp_path):
    """A canonical-camera model on data with K: rows with each image's K beside rows with 60 degrees assumed."""
    from bench.depth_accuracy import main
    from depthgen.data.folder import write_folder_meta, write_folder_sample
    from text3d.fakes import tiny_depth_pipeline

    pipe = tiny_depth_pipeline(S, "diffusion")
    pipe.register_to_config(canonical_fov_deg=60.0)
    pipe.save_pretrained(str(tmp_path / "canonical"))
    rng = np.random.default_rng(1)
    for i in range(2):
        write_folder_sample(tmp_path / "withK", f"s{i}", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8),
                            np.full((24, 32), 3.0, np.float32))
    write_folder_meta(tmp_path / "withK", 1000.0, protocol="nyu", K=[[20.0, 0, 15.5], [0, 20.0, 11.5], [0, 0, 1]])
    argv = ["--model", str(tmp_path / "canonical"), "--regression", "none", "--quick", "--out-dir", str(tmp_path),
            "--indoor", f"folder:{tmp_path / 'withK'}", "--outdoor", "none"]
    assert main(argv) == 0
    r = read(tmp_path, "depth_accuracy")["results"]["kinds"]["indoor"]
    assert set(r["depthgen_known_camera"]) == {"1", "2"}
    assert r["depthgen_known_camera"]["1"]["abs_rel"] != r["depthgen"]["1"]["abs_rel"]  # the camera changes depth
    assert "DepthGen, K given" in (tmp_path / "bench_depth_accuracy.md").read_text()


def test_depth_accuracy_and_results_page(assets, tmp_path):
    from bench.depth_accuracy import main
    from bench.results import main as results_main

    argv = ["--model", str(assets / "depth"), "--regression", str(assets / "regression"), "--quick",
            "--out-dir", str(tmp_path), *data_args(assets)]
    assert main(argv) == 0
    rep = read(tmp_path, "depth_accuracy")
    assert rep["quick"] and set(rep["results"]["kinds"]) == {"indoor", "outdoor"}
    for r in rep["results"]["kinds"].values():
        assert r["num_images"] == 2 and set(r["depthgen"]) == {"1", "2"}
        for m in (*r["depthgen"].values(), r["regression"]):
            assert 0 <= m["delta1"] <= m["delta2"] <= m["delta3"] <= 1 and m["abs_rel"] >= 0 and m["rmse"] >= 0
    assert "nyu" in rep["results"]["kinds"]["indoor"]["protocol"]
    assert "kitti" in rep["results"]["kinds"]["outdoor"]["protocol"]
    # a diffusion model is not a regression baseline
    assert main(argv[:2] + ["--regression", str(assets / "depth")] + argv[4:]) == 2
    assert results_main(["--docs", str(tmp_path)]) == 0
    page = (tmp_path / "RESULTS.md").read_text()
    from bench.results import EXTERNAL, SECTIONS

    assert "### Indoor: 2 images" in page and "quick mode only" in page
    assert page.count("**Not yet run.**") == len(SECTIONS) + len(EXTERNAL) - 1  # all but depth_accuracy


def test_completion(assets, tmp_path):
    from bench.completion import METHODS, main

    assert main(["--model", str(assets / "depth"), "--quick", "--out-dir", str(tmp_path), *data_args(assets)]) == 0
    rep = read(tmp_path, "completion")
    assert (tmp_path / "bench_completion_example.png").is_file()
    for r in rep["results"]["kinds"].values():
        assert r["num_images"] + r["skipped"] == 2 and 0 < r["mean_hole_fraction"] < 1
        assert set(r["metrics"]) == set(METHODS)
        for m in METHODS:
            assert r["metrics"][m]["hole"]["abs_rel"] >= 0 and r["metrics"][m]["seam"]["num_images"] >= 1
    assert main(["--model", str(assets / "depth"), "--quick", "--band", "0", *data_args(assets)]) == 2


def test_inpainting(assets, tmp_path):
    from bench.inpainting import METHODS, SHEET, main

    assert main(["--model", str(assets / "inpaint"), "--quick", "--out-dir", str(tmp_path), *data_args(assets)]) == 0
    rep = read(tmp_path, "inpainting")
    assert (tmp_path / SHEET).is_file() and rep["results"]["contact_sheet"] == SHEET
    assert rep["results"]["model_resolution"] == S and rep["results"]["steps"] == 2
    for r in rep["results"]["kinds"].values():
        assert r["num_images"] + r["skipped"] == 2 and 0 < r["mean_hole_fraction"] < 1
        assert set(r["metrics"]) == set(METHODS)
        for m in METHODS:
            hole, seam = r["metrics"][m]["hole"], r["metrics"][m]["seam"]
            assert 0 < hole["psnr"]["mean"] <= 100 and 0 <= hole["mae"]["mean"] <= 1
            assert hole["psnr"]["num_images"] == r["num_images"] and seam["mae"]["num_images"] >= 1
        assert r["by_hole_size"]["small"]["num_images"] == 0  # Palette samples every hole
        assert r["by_hole_size"]["large"]["num_images"] == r["num_images"]
    assert "wins on PSNR" in (tmp_path / "bench_inpainting.md").read_text()
    assert main(["--model", str(assets / "inpaint"), "--quick", "--band", "0", *data_args(assets)]) == 2
    assert main(["--model", str(assets / "depth"), "--quick", *data_args(assets)]) == 2  # not a Palette folder


def test_uncertainty(assets, tmp_path):
    from bench.uncertainty import main

    assert main(["--model", str(assets / "depth"), "--quick", "--out-dir", str(tmp_path), *data_args(assets)]) == 0
    for r in read(tmp_path, "uncertainty")["results"]["kinds"].values():
        assert -1 <= r["spearman_pooled"] <= 1 and r["ause"] >= 0 and r["num_images"] == 2
        assert r["oracle_curve"][0] == pytest.approx(1.0) and len(r["model_curve"]) == len(r["fractions"])


def test_ablations_train_every_variant_equally(assets, tmp_path):
    from bench.ablations import VARIANTS, main

    common = ["--config", str(ROOT / "configs" / "depthgen" / "tiny.yaml"), "--set", "stage=finetune",
              "--set", f"model.sample_size={S}", "--set", "train.batch_size=2", "--set", "data.live_size=8",
              "--set", f"train.init_from={assets / 'inpaint'}", "--runs-dir", str(tmp_path / "runs"),
              "--outdoor", "none", "--indoor", f"folder:{assets / 'indoor'}"]
    assert main([*common, "--variants", "no_sud"]) == 2  # the tiny recipe has no SUD to switch off
    assert main([*common, "--set", "diffusion.sud_prob=0.5", "--quick", "--out-dir", str(tmp_path)]) == 0
    rep = read(tmp_path, "ablations")
    assert list(rep["results"]["variants"]) == list(VARIANTS)
    for v, r in rep["results"]["variants"].items():
        assert r["steps_logged"] == 2 and r["final_loss"] > 0, v
        assert Path(r["pipeline"], "model_index.json").is_file()
        assert 0 <= r["eval"]["indoor"]["metrics"]["2"]["delta1"] <= 1
    cfg = (tmp_path / "runs" / "l2" / "pipeline" / "training_config.yaml").read_text()
    assert "loss: l2" in cfg


def test_speed(assets, tmp_path):
    from bench.speed import main

    assert main(["--model", str(assets / "depth"), "--quick", "--no-text3d", "--out-dir", str(tmp_path)]) == 0
    rep = read(tmp_path, "speed")
    (row,) = rep["results"]["depthgen"]
    assert row["seconds_per_image"] > 0 and row["peak_rss_mib"] >= row["rss_after_load_mib"] > 0
    eff = rep["results"]["efficiency"]
    assert eff["peak"]["gflops_best"] > 0
    assert all(r["gflop_per_forward"] > 0 and 0 < r["fraction_of_peak"] for r in eff["rows"])
    assert eff["rows"][1]["gflop_per_forward"] == pytest.approx(2 * eff["rows"][0]["gflop_per_forward"])
    assert main(["--model", str(tmp_path / "missing"), "--quick"]) == 2


def test_speed_text3d_job_reads_the_manifest(assets, tmp_path):
    """The text3d measurement (run in-process here to save a process start)."""
    from bench.speed import QUICK_TEXT3D
    from bench.speed_worker import build_parser, text3d_job
    from text3d.fakes import tiny_t2i_pipeline

    tiny_t2i_pipeline(S).save_pretrained(str(tmp_path / "t2i"))
    argv = ["text3d", "--out", str(tmp_path / "run"), "--t2i", str(tmp_path / "t2i"), "--inpaint",
            str(assets / "inpaint"), "--depth", str(assets / "depth"), "--size", "32x32", "--views", "2",
            "--steps", "2"] + [x for o in QUICK_TEXT3D for x in ("--set", o)]
    out = text3d_job(build_parser().parse_args(argv))
    t = out["timings_s"]
    assert {"load", "t2i", "depth", "inpaint", "fusion", "export", "total"} <= set(t)
    assert t["total"] <= out["wall_s"] + 1e-3 and out["views"] == 2 and out["peak_rss_mib"] > 0


procedural = pytest.importorskip  # the reconstruction tests need depthgen.data.procedural (Open3D)


def test_reconstruction_quick(assets, tmp_path):
    procedural("depthgen.data.procedural")
    from bench.reconstruction import main

    argv = ["--depth", str(assets / "depth"), "--inpaint", str(assets / "inpaint"), "--quick",
            "--out-dir", str(tmp_path), "--work-dir", str(tmp_path / "work")]
    assert main(argv) == 0
    rep = read(tmp_path, "reconstruction")
    (row,) = rep["results"]["scenes"]
    assert row["views"] == 2 and row["median_scale"] > 0
    for v in ("raw", "aligned"):
        m = row["variants"][v]
        assert m["chamfer"] > 0 and 0 <= m["fscore@0.05"] <= m["fscore@0.1"] <= 1 and m["gt_points"] > 0


def test_reconstruction_geometry_with_exact_depth(tmp_path):
    """An oracle depth model (the true depth of view 0) must give back the true surface seen by view 0:
    checks K, the generation-to-world transform and the point sampling together."""
    procedural("depthgen.data.procedural")
    import argparse

    from bench.reconstruction import run_scene
    from depthgen.data.procedural import generate_sample, split_seed
    from text3d.backends.protocols import DepthResult
    from text3d.fakes import MeanInpaint
    from text3d.backends.loading import Backends

    size = (40, 40)
    truth = generate_sample(split_seed("test", 0), size=size, sensor=None)
    assert not truth["outdoor"]  # an indoor scene: every pixel has a surface

    class ExactDepth:
        name = "exact"

        def predict(self, image, *, steps, samples, generator):
            d = truth["depth"].astype(np.float32)
            return DepthResult(d, np.zeros_like(d), d[None])

    args = argparse.Namespace(work_dir=str(tmp_path), preset="default", views=1, steps=1, seed=0, max_points=50_000)
    # 40-px views without the super-resolution cascade, every pixel meshed (the default's stride 2 is coarser)
    row, _ = run_scene(0, args, Backends(None, MeanInpaint(), ExactDepth()), size,
                       ["video.enabled=false", "cleanup.views=0", "sr.enabled=false", "lift.mesh_stride=1"], (80, 80))
    assert row["median_scale"] == pytest.approx(1.0)
    raw = row["variants"]["raw"]
    assert raw["view0_abs_rel"] == 0 and raw["fscore@0.1"] > 0.85 and raw["accuracy"] < 0.03


def test_unet_flops_of_a_camera_and_aspect_aware_model():
    """The FLOP count feeds a camera-aware UNet its extra constant input channels (the shipped DepthGen takes 7)."""
    from bench.flops import unet_flops
    from depthgen.models.config import ModelConfig
    from depthgen.models.unet import build_unet

    plain = build_unet(ModelConfig(preset="tiny", sample_size=S), 1).eval()
    camera = build_unet(ModelConfig(preset="tiny", sample_size=S, fov_conditioning=True, aspect_conditioning=True),
                        1).eval()
    assert camera.config.in_channels == plain.config.in_channels + 2
    flops_plain, flops_camera = unet_flops(plain), unet_flops(camera)
    assert flops_camera > flops_plain > 0  # only the first convolution sees two more channels
    assert flops_camera - flops_plain < 0.05 * flops_plain


def test_speed_times_the_default_models_of_text3d():
    """The text3d run of bench.speed uses the models a plain `python -m text3d.generate` loads."""
    from bench.speed import build_parser
    from text3d.backends.registry import ASSETS, EMBEDDED
    from text3d.config import load_preset

    args = build_parser().parse_args([])
    backends = load_preset("default").backends
    for kind, given in (("t2i", args.t2i), ("inpaint", args.inpaint), ("depth", args.model)):
        assert Path(given) == ASSETS / EMBEDDED[getattr(backends, kind)][kind], kind
    assert Path(args.t2i).name == "t2i-latent" and Path(args.model).name == "depthgen"


def test_outpainting_refuses_a_bad_setting_and_passes_good_ones_to_every_run(tmp_path, capsys):
    from bench.outpainting import main

    assert main(["--quick", "--out-dir", str(tmp_path), "--set", "steps.inpant=3"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "inpant" in err and not list(tmp_path.iterdir())
    quick = ["--quick", "--out-dir", str(tmp_path), "--set", "steps.t2i=1", "--set", "steps.depth=1",
             "--set", "video.enabled=false", "--true-renders", "4"]
    runs = {}
    for steps in ("1", "3"):
        assert main(quick + ["--set", f"steps.inpaint={steps}"]) == 0
        report = json.loads((tmp_path / "bench_outpainting.json").read_text())
        assert (tmp_path / "bench_outpainting_sheet.png").is_file()
        assert f"steps.inpaint={steps}" in report["settings"]["set"]
        runs[steps] = report["results"]["models"]["after"]["runs"][0]
    # the same seed and first view; only the inpainting's step count differs, so the later views do
    assert runs["1"]["aligned"][0] == runs["3"]["aligned"][0]
    assert runs["1"]["detail_rel"] != runs["3"]["detail_rel"]
