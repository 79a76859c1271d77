"""Sim-to-real effects of the procedural engine: off by default, seeded, each one switchable and effective,
and the ground truth (depth, K) always that of the rendered image."""

import dataclasses

import numpy as np
import pytest

from depthgen.data.procedural import build_scene, generate_sample, render_view, split_seed
from depthgen.data.procedural.realism import (EFFECTS, REALISM_HFOV_RANGE, RealismConfig, kelvin_rgb,
                                              realism_config)

SIZE = (24, 32)
ALL_OFF = RealismConfig(**{k: False for k in EFFECTS})
GEOMETRY = ("posters", "clutter", "fov", "close_range")  # effects that change what is where in the image


def indoor_seeds(n: int = 3) -> list[int]:
    """The first ``n`` indoor validation seeds that get both posters and clutter with realism on."""
    out, i = [], 0
    while len(out) < n:
        seed = split_seed("val", i)
        scene = build_scene(seed, realism="on")
        cats = {o.category for o in scene.objects}
        if not scene.outdoor and "poster" in cats and len(cats & {"mug", "bottle", "bowl", "books", "box", "vase",
                                                                   "pot plant", "fruit"}) > 0:
            out.append(seed)
        i += 1
    return out


def same(a: dict, b: dict, keys=("rgb", "depth", "valid", "sensor_depth", "K", "cam_to_world")) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in keys)


def test_default_and_off_are_the_plain_engine():
    seed = split_seed("val", 3)
    plain = generate_sample(seed, SIZE, "kinect")
    for spec in (None, "off", False):
        s = generate_sample(seed, SIZE, "kinect", realism=spec)
        assert same(plain, s) and s["captions"] == plain["captions"] and "realism" not in s
    # every effect switched off individually is the plain engine as well, bit for bit
    s = generate_sample(seed, SIZE, "kinect", realism=ALL_OFF)
    assert same(plain, s) and s["captions"] == plain["captions"] and s["realism"] == ALL_OFF.to_dict()


def test_same_seed_same_realism_image():
    seed = split_seed("train", 11)
    a = generate_sample(seed, SIZE, "kinect", realism="on")
    b = generate_sample(seed, SIZE, "kinect", realism="on")
    assert same(a, b) and a["captions"] == b["captions"]
    c = generate_sample(split_seed("train", 12), SIZE, "kinect", realism="on")
    assert not np.array_equal(a["rgb"], c["rgb"])


@pytest.mark.parametrize("effect", EFFECTS)
def test_each_effect_works_alone_and_switches_off(effect):
    seeds = indoor_seeds()
    only = dataclasses.replace(ALL_OFF, **{effect: True})
    without = dataclasses.replace(RealismConfig(), **{effect: False})
    changed_alone, changed_in_all = False, False
    for seed in seeds:
        base = generate_sample(seed, SIZE, None, realism=ALL_OFF)
        alone = generate_sample(seed, SIZE, None, realism=only)
        full = generate_sample(seed, SIZE, None, realism="on")
        off = generate_sample(seed, SIZE, None, realism=without)
        changed_alone |= not same(base, alone)
        changed_in_all |= not same(full, off)
        if effect not in GEOMETRY:  # appearance only: the ground truth is untouched
            assert same(base, alone, ("depth", "valid", "K", "cam_to_world", "object_id"))
        assert off["realism"][effect] is False and full["realism"][effect] is True
    assert changed_alone and changed_in_all


def test_field_of_view_is_recorded_in_K():
    seeds = [split_seed("val", i) for i in range(6)]
    fovs = []
    for seed in seeds:
        s = generate_sample(seed, SIZE, None, realism="on")
        fov = np.degrees(2 * np.arctan(SIZE[1] / 2 / s["K"][0, 0]))
        assert REALISM_HFOV_RANGE[0] - 1e-6 <= fov <= REALISM_HFOV_RANGE[1] + 1e-6
        fovs.append(fov)
        # K (and the pose) are the camera of the image: rendering the same scene with them gives the same depth
        view = render_view(build_scene(seed, realism="on"), s["K"], s["cam_to_world"], SIZE)
        np.testing.assert_array_equal(view["depth"], s["depth"])
    assert max(fovs) - min(fovs) > 5.0


def test_close_range_frames_half_the_indoor_views_closer():
    """Close framing: about half the indoor views are drawn by the close camera, whose median depth is in
    CLOSE_MEDIAN_RANGE give or take the probe's coarseness; outdoor views never are."""
    from depthgen.data.procedural.camera import CLOSE_MEDIAN_RANGE
    from depthgen.data.procedural.realism import close_framed

    close_medians, usual_medians = [], []
    for i in range(24):
        seed = split_seed("val", i)
        s = generate_sample(seed, SIZE, None, realism="on")
        median = float(np.median(s["depth"][s["valid"]]))
        if s["outdoor"]:
            assert close_framed(seed, True) is None
        elif close_framed(seed, False) is not None:
            close_medians.append(median)
        else:
            usual_medians.append(median)
        if not s["outdoor"]:  # the usual camera without close framing
            off = generate_sample(seed, SIZE, None, realism="on,-close_range")
            assert (close_framed(seed, False) is not None) != same(s, off, ("cam_to_world",))
    assert len(close_medians) >= 5 and len(usual_medians) >= 5
    assert np.median(close_medians) < 0.6 * np.median(usual_medians)
    assert np.median(close_medians) <= CLOSE_MEDIAN_RANGE[1] + 0.5


def test_clutter_and_posters_add_objects_on_top_of_the_same_room():
    seed = indoor_seeds(1)[0]
    plain = build_scene(seed)
    dressed = build_scene(seed, realism="on")
    n = len(plain.triangles)
    np.testing.assert_array_equal(dressed.vertices[: len(plain.vertices)], plain.vertices)
    np.testing.assert_array_equal(dressed.triangles[:n], plain.triangles)
    added = {o.category for o in dressed.objects[len(plain.objects):]}
    assert "poster" in added and len(dressed.triangles) > n
    # posters and items rest on the room: every new vertex is inside the room's box
    W, D, H = plain.camera["room"]
    extra = dressed.vertices[len(plain.vertices):]
    assert (extra[:, 0] > -1e-3).all() and (extra[:, 0] < W + 1e-3).all() and (extra[:, 2] < H).all()


def test_meshes_agree_with_realism_renders_view_independent_parts():
    """Light colours and textures are view-independent: the scene mesh is coloured with them too."""
    seed = indoor_seeds(1)[0]
    s_plain, s_real = build_scene(seed), build_scene(seed, realism="on")
    assert not np.allclose(s_plain.lights[0].colour, s_real.lights[0].colour)
    v, f, c = s_real.mesh(max_edge=0.5)
    assert v.shape[0] == c.shape[0] and np.isfinite(c).all() and 0 <= c.min() and c.max() <= 1


def test_realism_config_parsing():
    assert realism_config(None) is None and realism_config("off") is None and realism_config(False) is None
    assert realism_config("on") == RealismConfig() == realism_config(True)
    cfg = realism_config("on,-jpeg,-noise")
    assert not cfg.jpeg and not cfg.noise and cfg.blur
    assert realism_config({"fov": False}) == RealismConfig(fov=False)
    for bad in ("maybe", "on,jpeg", {"sparkle": True}, 3):
        with pytest.raises(ValueError, match="realism"):
            realism_config(bad)


def test_colour_temperature_runs_warm_to_cool():
    warm, cool = kelvin_rgb(3000), kelvin_rgb(6500)
    assert warm[0] > warm[2] and cool[2] > warm[2] and warm[1] == cool[1] == 1.0


def test_procedural_dataset_passes_realism_on():
    from depthgen.data.procedural import ProceduralDataset

    item = next(iter(ProceduralDataset("val", SIZE, None, n=1, realism="on,-jpeg")))
    ref = generate_sample(split_seed("val", 0), SIZE, None, realism="on,-jpeg")
    assert same(item, ref) and item["realism"]["jpeg"] is False
    plain = next(iter(ProceduralDataset("val", SIZE, None, n=1)))
    assert "realism" not in plain


def test_shards_record_realism_and_refuse_mixing(tmp_path):
    import json

    from depthgen.data.procedural import ShardDataset
    from depthgen.data.procedural.shards import write_shards

    write_shards(tmp_path, 2, (16, 16), "val", None, shard_size=2, progress=False, realism="on,-noise")
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["realism"]["noise"] is False and meta["realism"]["jpeg"] is True
    item = ShardDataset(tmp_path)[1]
    np.testing.assert_array_equal(item["rgb"], generate_sample(split_seed("val", 1), (16, 16), None,
                                                               realism="on,-noise")["rgb"])
    with pytest.raises(ValueError, match="realism"):
        write_shards(tmp_path, 2, (16, 16), "val", None, shard_size=2, progress=False)


def test_cli_realism_flag(tmp_path, capsys):
    import json

    from depthgen.data.procedural.__main__ import main

    assert main(["--out", str(tmp_path / "on"), "--n", "1", "--size", "16x12", "--split", "val", "--realism", "on",
                 "--quiet"]) == 0
    meta = json.loads((tmp_path / "on" / "meta.json").read_text())
    assert meta["realism"] == RealismConfig().to_dict() and meta["size"] == [12, 16]
    assert main(["--out", str(tmp_path / "off"), "--n", "1", "--size", "16x12", "--quiet"]) == 0
    assert json.loads((tmp_path / "off" / "meta.json").read_text())["realism"] is None
    capsys.readouterr()
    assert main(["--out", str(tmp_path / "bad"), "--n", "1", "--realism", "sometimes"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "realism" in err
