"""End-to-end runs of text3d.generate_scene with weight-free stand-in backends (text3d.fakes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import text3d
from text3d.backends.loading import Backends
from text3d.fakes import GradientTextToImage, MeanInpaint, PlaneDepth, fake_backends
from text3d.geometry.lift import PUSH_BACK_FACTORS

from tests.text3d.test_video import read_mp4

TINY = ["video.frames=6", "video.height=48", "video.width=64", "cleanup.views=1", "cleanup.score_size=16",
        "trajectory.orbit_degrees=45"]


def _run(tmp_path, name="run", backends=None, **kw):
    args = dict(out_dir=tmp_path / name, preset="fast", views=3, seed=0, size=(32, 32), overrides=TINY,
                backends=backends or fake_backends(), trajectory="orbit")
    args.update(kw)
    return text3d.generate_scene(kw.pop("prompt", "a cozy library"), **{k: v for k, v in args.items() if k != "prompt"})


def test_end_to_end_writes_files_that_load_back(tmp_path):
    import trimesh

    events = []
    res = _run(tmp_path, progress=lambda stage, f: events.append((stage, f)))
    p = res.paths
    assert {"ply", "glb", "points", "mp4", "manifest", "transforms", "views_dir", "first_view", "first_depth",
            "first_uncertainty"} <= set(p)
    assert all(path.exists() for path in p.values())
    assert res.mesh.n_faces > 1000 and len(res.views) == 4                  # 3 trajectory views + 1 clean-up
    ply = trimesh.load(p["ply"], process=False)
    glb = trimesh.load(p["glb"], force="mesh", process=False)
    assert len(ply.vertices) == res.mesh.n_vertices and len(ply.faces) == res.mesh.n_faces
    assert len(glb.faces) == res.mesh.n_faces
    extent = ply.bounds[1] - ply.bounds[0]
    assert np.all(extent < 20) and extent.max() > 1                           # sane size for a 3 m plane
    frames = read_mp4(p["mp4"])
    assert frames.shape == (6, 48, 64, 3) and frames.std() > 1               # rendered, not blank
    manifest = json.loads(p["manifest"].read_text())
    assert manifest["prompt"] == "a cozy library" and manifest["seed"] == 0
    assert manifest["backends"]["depth"] == "fake-plane-depth"
    assert {"t2i", "depth", "inpaint", "render", "lift", "fusion", "export", "video", "total"} <= set(manifest["timings_s"])
    assert manifest["versions"]["open3d"] and manifest["outputs"]["ply"] == "scene.ply"
    transforms = json.loads(p["transforms"].read_text())
    assert len(transforms["frames"]) == len(res.views) and transforms["w"] == 32
    assert all((res.out_dir / f["file_path"]).exists() for f in transforms["frames"])
    fractions = [f for _, f in events]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert {s for s, _ in events} >= {"first view", "views", "clean-up", "fusion", "export", "video"}
    assert not list(res.out_dir.rglob("*.tmp*"))                              # no temporary file left


def test_same_seed_same_mesh_other_seed_other_mesh(tmp_path):
    a = _run(tmp_path, "a", seed=7)
    b = _run(tmp_path, "b", seed=7)
    c = _run(tmp_path, "c", seed=8)
    assert np.array_equal(a.mesh.vertices, b.mesh.vertices) and np.array_equal(a.mesh.faces, b.mesh.faces)
    assert np.array_equal(a.mesh.colors, b.mesh.colors)
    assert not np.array_equal(a.mesh.colors, c.mesh.colors)


def test_first_view_from_a_photo(tmp_path):
    from PIL import Image

    photo = np.zeros((60, 90, 3), np.uint8)
    photo[:, 15:75] = [200, 40, 10]                  # centre crop to square keeps only the red band
    Image.fromarray(photo).save(tmp_path / "photo.png")
    backends = Backends(None, MeanInpaint(), PlaneDepth())
    res = _run(tmp_path, backends=backends, image=tmp_path / "photo.png", prompt=None, views=2)
    first = res.views[0].image
    assert first.shape == (32, 32, 3)
    # the crop's edge columns blend a little with the cut-off black through the resampling filter
    assert np.allclose(first[:, 2:-2], [200 / 255, 40 / 255, 10 / 255], atol=0.02)
    assert res.manifest["image"].endswith("photo.png")


class RecordingInpaint(MeanInpaint):
    def __init__(self):
        self.prompts = []

    def inpaint(self, image, mask, *, prompt, steps, generator):
        self.prompts.append(prompt)
        return super().inpaint(image, mask, prompt=prompt, steps=steps, generator=generator)


def test_segment_prompts_reach_the_inpainter(tmp_path):
    import yaml

    spec = {"segments": [{"preset": "orbit", "views": 2, "params": {"orbit_degrees": 40}},
                         {"preset": "orbit", "views": 2, "prompt": "a bed by the window",
                          "params": {"orbit_degrees": 80}}]}
    (tmp_path / "tour.yaml").write_text(yaml.safe_dump(spec))
    inpaint = RecordingInpaint()
    res = _run(tmp_path, backends=Backends(GradientTextToImage(), inpaint, PlaneDepth()),
               trajectory=str(tmp_path / "tour.yaml"), views=None, overrides=TINY[:3] + ["cleanup.views=0"])
    assert [v.prompt for v in res.views] == ["a cozy library"] * 2 + ["a bed by the window"] * 2
    assert inpaint.prompts == ["a cozy library", "a bed by the window", "a bed by the window"]


def test_tsdf_fusion_and_align_options_run(tmp_path):
    res = _run(tmp_path, overrides=TINY + ["fusion.method=tsdf", "video.enabled=false"])
    assert res.manifest["mesh"]["method"] == "tsdf" and res.mesh.n_faces > 100 and "mp4" not in res.paths
    pytest.importorskip("depthgen.evaluation.align", reason="depthgen.evaluation.align is not written yet")
    res = _run(tmp_path, "align", overrides=TINY + ["depth_completion=align", "video.enabled=false"])
    assert res.mesh.n_faces > 1000


def test_new_depth_never_lands_in_front_of_what_earlier_views_saw(tmp_path):
    """Every filled pixel, lifted, passes the free-space test against all earlier views."""
    from text3d.geometry.projection import unproject
    from text3d.geometry.lift import ViewDepth, in_free_space
    from text3d.geometry.masks import near_depth

    res = _run(tmp_path, backends=Backends(GradientTextToImage(), MeanInpaint(), PlaneDepth(3.0, noise=0.3)),
               trajectory="walk", overrides=TINY + ["trajectory.walk_step=0.5", "video.enabled=false"])
    from text3d.geometry.cameras import intrinsics_from_fov

    K = intrinsics_from_fov(60.0, 32, 32)
    assert sum(v.free_space.get("pushed", 0) for v in res.views) > 0     # the rough fake depth needs the clamp
    for i, view in enumerate(res.views[1:], start=1):
        prior = [ViewDepth(K, v.cam_to_world, near_depth(v.depth, 1)) for v in res.views[:i]]
        new = view.filled & (view.depth > 0)
        pts = unproject(view.depth, K, view.cam_to_world)[new]
        assert not in_free_space(pts, prior, 0.03).any()


class _FarFill(PlaneDepth):
    """Plane depth whose completion puts every unseen pixel 5x further than the known ones."""

    def complete(self, image, known_depth, known_mask, *, steps, samples, generator):
        res = super().complete(image, known_depth, known_mask, steps=steps, samples=samples, generator=generator)
        res.depth[~known_mask] *= 5.0
        return res


def test_max_depth_ratio_keeps_filled_depth_within_the_first_views_extent(tmp_path):
    backends = lambda: Backends(GradientTextToImage(), MeanInpaint(), _FarFill(3.0))
    off = _run(tmp_path, "off", backends=backends(), overrides=TINY + ["video.enabled=false", "lift.max_depth_ratio=0"])
    on = _run(tmp_path, "on", backends=backends(), overrides=TINY + ["video.enabled=false", "lift.max_depth_ratio=1.0"])
    far = lambda res: max(float(v.depth[v.filled].max()) for v in res.views[1:] if v.filled.any())
    first = float(on.views[0].depth.max())
    assert far(off) > 2.0 * first                  # uncapped, the fake's far fill reaches the mesh
    assert far(on) <= first * max(PUSH_BACK_FACTORS) + 1e-4  # capped; only the free-space push-back may go beyond


def test_max_depth_ratio_below_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="max_depth_ratio"):
        _run(tmp_path, overrides=TINY + ["lift.max_depth_ratio=0.5"])
