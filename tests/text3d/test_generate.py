"""The command line: bad input gives exit code 2 and one line; a good run prints the output paths."""

from __future__ import annotations

import pytest

import text3d.run.inputs
from text3d.backends.protocols import Capabilities
from text3d.cli import main
from text3d.fakes import fake_backends

TINY = ["--preset", "fast", "--views", "2", "--size", "32x32", "--set", "video.frames=4", "--set", "video.height=32",
        "--set", "video.width=32", "--set", "cleanup.views=0", "--set", "trajectory.orbit_degrees=45"]


@pytest.fixture
def fake_loader(monkeypatch):
    """The CLI builds backends by name; here every name gives the weight-free stand-ins."""
    calls = []

    def load(preset, **kw):
        calls.append(kw)
        return fake_backends()

    monkeypatch.setattr(text3d.run.inputs, "load_backends", load)
    return calls


def _bomb(folder, width=15000, height=12000):
    """A black greyscale PNG of width x height: a few hundred KB that decode to width x height bytes."""
    from PIL import Image

    path = folder / f"bomb-{width}x{height}.png"
    if not path.exists():
        Image.new("L", (width, height)).save(path)
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """The two oversized photos, made once: 15000x12000 (past PIL's own bomb limit) and 5000x5000."""
    folder = tmp_path_factory.mktemp("bombs")
    return _bomb(folder), _bomb(folder, 5000, 5000)


def _bad_inputs(tmp_path, bombs=(None, None)):
    not_image = tmp_path / "notes.png"
    not_image.write_text("not an image")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {
        "no prompt": ([], "give a prompt"),
        "blank prompt": (["   "], "prompt is empty"),
        "zero views": (["a room", "--views", "0"], "views must be within 1..256"),
        "views over the cap": (["a room", "--views", "100000"], "views must be within 1..256"),
        "empty out": (["a room", "--out", ""], "output folder is empty"),
        "seed over 2**63-1": (["a room", "--seed", str(2**70)], "seed must be within 0..9223372036854775807"),
        "word for a number": (["a room", "--set", "depth_samples=abc"], "depth_samples='abc' is not allowed"),
        "fraction for steps": (["a room", "--set", "steps.t2i=2.5"], "steps.t2i=2.5 is not allowed; give a whole"),
        "nan depth ratio": (["a room", "--set", "lift.max_depth_ratio=nan"], "lift.max_depth_ratio=nan is not"),
        "nan component fraction": (["a room", "--set", "fusion.min_component_fraction=.nan"],
                                   "fusion.min_component_fraction=nan is not allowed; give a finite number"),
        "nan voxel": (["a room", "--set", "fusion.tsdf_voxel=nan"], "fusion.tsdf_voxel=nan is not allowed"),
        "inf voxel": (["a room", "--set", "fusion.tsdf_voxel=inf"], "fusion.tsdf_voxel=inf is not allowed"),
        "huge samples": (["a room", "--set", "depth_samples=1.0e+30"], "depth_samples=1e+30 is not allowed"),
        "not an enum member": (["a room", "--set", "fusion.method=voxels"], "fusion.method must be 'mesh' or"),
        "broken YAML": (["a room", "--set", "backends=,"], "override 'backends=,' is not valid YAML"),
        "decompression bomb": (["a room", "--image", str(bombs[0])], "is too large (180,000,000 pixels), "
                               "the limit is 16,777,216 pixels"),
        "too many pixels": (["a room", "--image", str(bombs[1])], "too large (5000x5000), the limit is 16,777,216"),
        "odd size": (["a room", "--size", "100x7"], "multiples of 8"),
        "size syntax": (["a room", "--size", "big"], "WIDTHxHEIGHT"),
        "unknown preset": (["a room", "--preset", "nope"], "unknown preset"),
        "missing image": (["a room", "--image", str(tmp_path / "missing.png")], "cannot read image"),
        "unreadable image": (["a room", "--image", str(not_image)], "cannot read image"),
        "out is a file": (["a room", "--out", str(a_file)], "is a file"),
        "out under a file": (["a room", "--out", str(a_file / "sub")], "cannot write to output folder"),
        "unknown trajectory": (["a room", "--trajectory", "spiral"], "unknown trajectory"),
        "unknown device": (["a room", "--device", "tpu"], "invalid choice"),
        "zero steps": (["a room", "--steps", "0"], "steps must be at least 1"),
        "negative seed": (["a room", "--seed", "-1"], "seed must be"),
        "unknown setting": (["a room", "--set", "colour=red"], "override 'colour=red': unknown key 'colour'"),
        "unknown nested setting": (["a room", "--set", "fusion.colour=red"], "unknown key 'colour' under 'fusion'"),
        "a group set to a value": (["a room", "--set", "fusion=3"], "'fusion' is a group of settings"),
        "unknown flag": (["a room", "--bogus"], "unrecognized arguments"),
        "views with a file": (["a room", "--views", "3", "--trajectory", str(_segment_file(tmp_path))],
                              "set views per segment"),
        "bad segment file": (["a room", "--trajectory", str(_segment_file(tmp_path, "spiral"))], "preset must be"),
        "orbit without overlap": (["a room", "--views", "4"], "orbit views do not overlap"),
        "layout strength range": (["a room", "--set", "t2i_layout_strength=1.5"], "t2i_layout_strength must be"),
        "negative guidance": (["a room", "--set", "inpaint_guidance=-1"], "inpaint_guidance must be a number >= 0"),
        "nan guidance": (["a room", "--set", "inpaint_guidance=nan"], "inpaint_guidance='nan' is not allowed"),
        "inpaint layout strength range": (["a room", "--set", "inpaint_layout_strength=0"],
                                          "inpaint_layout_strength must be"),
    }


def _segment_file(folder, preset="orbit"):
    path = folder / f"tour-{preset}.yaml"
    path.write_text(f"segments:\n  - {{preset: {preset}, views: 2}}\n")
    return path


CASES = ["no prompt", "blank prompt", "zero views", "views over the cap", "empty out", "seed over 2**63-1",
         "word for a number", "fraction for steps", "nan depth ratio", "nan component fraction", "nan voxel",
         "inf voxel", "huge samples", "not an enum member", "broken YAML", "decompression bomb", "too many pixels",
         "odd size", "size syntax", "unknown preset", "missing image", "unreadable image", "out is a file",
         "out under a file", "unknown trajectory", "unknown device", "zero steps", "negative seed", "unknown setting",
         "unknown flag", "views with a file", "bad segment file", "orbit without overlap", "layout strength range",
         "negative guidance", "nan guidance", "inpaint layout strength range"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_exits_2_with_one_line(case, tmp_path, capsys, fake_loader, monkeypatch, bombs):
    monkeypatch.chdir(tmp_path)
    argv, needle = _bad_inputs(tmp_path, bombs)[case]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert not (tmp_path / "outputs").exists()            # nothing written for a run that could not start
    assert fake_loader == []                               # checked before any model loads


def test_cuda_without_a_gpu_is_bad_input(capsys, fake_loader, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    assert main(["a room", "--device", "cuda", "--out", str(tmp_path / "o")]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_unknown_model_name_is_bad_input(capsys, tmp_path):
    pytest.importorskip("text3d.backends.registry", reason="the backend registry is not written yet")
    assert main(["a room", "--t2i", "no-such-model-anywhere", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert not (tmp_path / "o").exists()


def test_a_run_prints_its_output_paths(tmp_path, capsys, fake_loader, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["A cozy library!", "--seed", "3", *TINY]) == 0       # progress bars on (stderr)
    out = capsys.readouterr().out
    folder = tmp_path / "outputs" / "a-cozy-library-3"                # default --out: outputs/<slug>-<seed>
    for name in ("scene.ply", "scene.glb", "points.ply", "scene.mp4", "manifest.json", "transforms.json"):
        assert (folder / name).is_file() and name in out
    assert fake_loader[0]["need_t2i"] is True


def test_inpaint_guidance_is_refused_for_prompt_blind_inpainting(tmp_path, capsys, fake_loader):
    assert main(["a room", "--out", str(tmp_path / "o"), "--set", "inpaint_guidance=5", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "takes no guidance" in err[0]
    assert not (tmp_path / "o").exists()


def test_layout_strength_is_refused_for_other_text_to_image_models(tmp_path, capsys, fake_loader):
    assert main(["a room", "--out", str(tmp_path / "o"), "--set", "t2i_layout_strength=0.5", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "embedded text-to-image model only" in err[0]
    assert not (tmp_path / "o").exists()


def test_inpaint_layout_strength_is_refused_for_other_inpainting_models(tmp_path, capsys, fake_loader):
    assert main(["a room", "--out", str(tmp_path / "o"), "--set", "inpaint_layout_strength=0.5", *TINY]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "embedded text inpainting model only" in err[0]
    assert not (tmp_path / "o").exists()


def test_inpaint_options_pass_only_what_is_set():
    from text3d.config import inpaint_options, load_preset

    cfg = load_preset("default")
    assert inpaint_options(cfg) == {}
    cfg.inpaint_guidance, cfg.inpaint_layout_strength = 3.0, 1.0
    assert inpaint_options(cfg) == {"guidance_scale": 3.0, "layout_strength": 1.0}


def test_model_names_reach_the_loader(tmp_path, fake_loader):
    argv = ["a room", "--out", str(tmp_path / "o"), "--t2i", "t2i-x", "--inpaint", "inp-y", "--depth", "dep-z",
            "--device", "cpu", "--quiet", *TINY]
    assert main(argv) == 0
    assert fake_loader == [{"t2i": "t2i-x", "inpaint": "inp-y", "depth": "dep-z", "device": "cpu", "need_t2i": True}]


@pytest.fixture(scope="module")
def tiny_model_dirs(tmp_path_factory):
    """Tiny randomly initialised embedded-type pipelines saved as folders (what the registry loads by path)."""
    import torch

    from text3d.fakes import tiny_depth_pipeline, tiny_palette_pipeline, tiny_t2i_pipeline
    from text3d.models.t2i.layout_bank import LayoutBank

    root = tmp_path_factory.mktemp("models")
    # like the shipped model: sampling starts from a retrieved layout (two flat ones here)
    layouts = torch.tensor([[200, 180, 150], [90, 140, 220]], dtype=torch.uint8)[:, :, None, None].expand(-1, -1, 4, 4)
    bank = LayoutBank(layouts.contiguous(), torch.eye(384)[:2], top_k=1, scene_types=["library", "beach"], sources=[3, 8])
    tiny_t2i_pipeline(16, bank, layout_strength=0.6).save_pretrained(str(root / "t2i"))
    tiny_palette_pipeline(16).save_pretrained(str(root / "inpaint"))
    tiny_depth_pipeline(16).save_pretrained(str(root / "depth"))
    return root


def test_cli_through_the_real_registry_with_tiny_models(tiny_model_dirs, tmp_path, capsys):
    """Wiring only (random weights): folders -> registry -> backends -> a full run whose files load back."""
    import json

    import trimesh

    out = tmp_path / "o"
    argv = ["a cozy library", "--out", str(out), "--t2i", str(tiny_model_dirs / "t2i"),
            "--inpaint", str(tiny_model_dirs / "inpaint"), "--depth", str(tiny_model_dirs / "depth"),
            "--steps", "2", "--device", "cpu", "--quiet", *TINY]
    assert main(argv) == 0, capsys.readouterr().err
    mesh = trimesh.load(out / "scene.ply", process=False)
    assert len(mesh.faces) > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backends"]["depth"] == str(tiny_model_dirs / "depth")
    assert [v["kind"] for v in manifest["views"]] == ["first", "trajectory"]
    assert manifest["settings"]["steps"] == {"t2i": 2, "inpaint": 2, "depth": 2}
    first = manifest["first_view"]
    assert first["layout_strength"] == 0.6 and first["layout"]["scene_type"] in ("library", "beach")
    assert first["layout"]["training_index"] == {"library": 3, "beach": 8}[first["layout"]["scene_type"]]
    plain = tmp_path / "plain"  # the UNet alone, from pure noise
    argv[argv.index(str(out))] = str(plain)
    assert main([*argv, "--set", "t2i_layout_strength=1.0"]) == 0, capsys.readouterr().err
    manifest = json.loads((plain / "manifest.json").read_text())
    assert manifest["first_view"] == {"layout_strength": 1.0}


@pytest.mark.parametrize("preset", ["fast", "default"])  # base models at the view size, and the 4x SR cascade
def test_tilted_views_get_the_layout_transform_of_their_tilt(tmp_path, preset):
    """A backend that starts from a layout is told each view's tilt from level: the identity for the level
    orbit views, ``level_view_homography`` at the size it paints for a tilted clean-up view."""
    import numpy as np

    import text3d
    from text3d.geometry.cameras import intrinsics_from_fov
    from text3d.fakes import MeanInpaint
    from text3d.run.trajectory import level_view_homography

    class Recording(MeanInpaint):
        capabilities = Capabilities(layout_transform=True)

        def __init__(self):
            self.calls = []

        def inpaint(self, image, mask, *, prompt, steps, generator, layout_transform=None):
            self.calls.append((image.shape[:2], layout_transform))
            return super().inpaint(image, mask, prompt=prompt, steps=steps, generator=generator)

    backends = fake_backends()
    backends.inpaint = Recording()
    res = text3d.generate_scene("a room", out_dir=tmp_path / "o", preset=preset, views=4, size=(64, 64),
                                backends=backends,
                                overrides=["video.enabled=false", "cleanup.views=2", "trajectory.orbit_degrees=135"])
    painted = [v for v in res.views[1:] if v.filled.any()]
    assert len(backends.inpaint.calls) == len(painted) >= 3
    tilted = 0
    for v, ((h, w), transform) in zip(painted, backends.inpaint.calls):
        expected = level_view_homography(intrinsics_from_fov(60.0, w, h), v.cam_to_world)
        np.testing.assert_allclose(transform, expected, atol=1e-9)
        tilted += not np.allclose(transform, np.eye(3))
        if v.kind == "trajectory":
            np.testing.assert_allclose(transform, np.eye(3), atol=1e-9)
    assert tilted >= 1
