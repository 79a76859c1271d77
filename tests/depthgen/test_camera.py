"""depthgen.models.camera: field of view <-> focal, the canonical-camera transform, crop / uncrop, EXIF focal length."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from depthgen.models.camera import (DEFAULT_FOV_DEG, REFERENCE_FOV_DEG, canonical_scale, check_fov, draw_zoom,
                                    exif_focal_35mm, focal_to_fov, fov_channel, fov_to_focal, from_canonical,
                                    normalized_focal, photo_focal_px, square_focal, to_canonical, zoom_view)


@pytest.mark.parametrize("fov", [20.0, 45.0, 60.0, 90.0, 150.0])
def test_fov_focal_round_trip(fov):
    assert focal_to_fov(fov_to_focal(fov, 64), 64) == pytest.approx(fov, abs=1e-9)
    K = np.array([[fov_to_focal(fov, 48), 0, 24], [0, fov_to_focal(fov, 48), 16], [0, 0, 1]])
    assert normalized_focal((32, 48), K=K) == pytest.approx(normalized_focal((32, 48), fov_deg=fov))
    assert normalized_focal((40, 40), fov_deg=fov) == pytest.approx(square_focal(fov))


@pytest.mark.parametrize("canonical", [45.0, 60.0, 80.0])
def test_canonical_transform_round_trips(canonical):
    rng = np.random.default_rng(0)
    d = rng.uniform(0.2, 50, (6, 7)).astype(np.float64)
    d[0, 0] = 0.0  # invalid stays invalid
    for fov in (40.0, 60.0, 95.0):
        f = normalized_focal((6, 7), fov_deg=fov)
        dc = to_canonical(d, f, canonical)
        np.testing.assert_allclose(from_canonical(dc, f, canonical), d, rtol=1e-12)
        assert dc[0, 0] == 0.0
        t = torch.from_numpy(d)
        assert torch.allclose(from_canonical(to_canonical(t, f, canonical), f, canonical), t)
    # the canonical camera itself is unchanged; a wider lens (smaller focal) has larger canonical depth
    assert canonical_scale(square_focal(canonical), canonical) == pytest.approx(1.0)
    assert canonical_scale(square_focal(canonical + 20), canonical) > 1.0


def test_fov_channel_and_defaults():
    assert fov_channel(square_focal(REFERENCE_FOV_DEG)) == pytest.approx(0.0)
    assert fov_channel(square_focal(45.0)) > 0 > fov_channel(square_focal(90.0))
    assert normalized_focal((8, 8)) == pytest.approx(square_focal(DEFAULT_FOV_DEG))
    with pytest.raises(ValueError, match="not both"):
        normalized_focal((8, 8), K=np.eye(3), fov_deg=60.0)
    for bad in (0, -5, 180, 200.0, float("nan"), "60", True):
        with pytest.raises(ValueError, match="fov"):
            check_fov(bad)


def test_two_fields_of_view_give_depth_ratios_that_follow_the_transform():
    """One scene, one pose, two lenses (render_view): a 3D point has the same metric z-depth in both
    renders, and the canonical depths of that point differ by exactly the transform's ratio f_wide / f_narrow
    -- the point looks f_narrow / f_wide times larger through the narrow lens, as if that much nearer."""
    from depthgen.data.procedural import build_scene, generate_sample, render_view
    from depthgen.data.procedural.render import intrinsics

    size = (33, 33)  # odd: pixel 16's centre is on the optical axis
    base = generate_sample(3, size=size, sensor=None)
    scene = build_scene(3)
    narrow = intrinsics(size, 50.0)
    wide = narrow.copy()
    wide[0, 0] = wide[1, 1] = narrow[0, 0] / 2  # 86 degrees: narrow pixel 16 + 2k sees along wide pixel 16 + k
    a = render_view(scene, narrow, base["cam_to_world"], size, captions=False)
    b = render_view(scene, wide, base["cam_to_world"], size, captions=False)
    da, db = a["depth"][::2, ::2], b["depth"][8:25, 8:25]  # (17, 17): the same rays
    ok = a["valid"][::2, ::2] & b["valid"][8:25, 8:25]
    assert ok.sum() >= 100
    np.testing.assert_allclose(db[ok], da[ok], rtol=1e-4)  # same points, same metric z-depth
    fa, fb = normalized_focal(size, K=narrow), normalized_focal(size, K=wide)
    ca = to_canonical(a["depth"], fa, 60.0)[::2, ::2]
    cb = to_canonical(b["depth"], fb, 60.0)[8:25, 8:25]
    np.testing.assert_allclose(cb[ok] / ca[ok], fa / fb, rtol=1e-4)
    assert fa / fb == pytest.approx(2.0)
    assert fa / fb == pytest.approx(math.tan(math.radians(focal_to_fov(wide[0, 0], 33) / 2)) /
                                    math.tan(math.radians(25.0)))
    np.testing.assert_allclose(from_canonical(cb, fb, 60.0)[ok], da[ok], rtol=1e-4)


@pytest.mark.parametrize("zoom, u, v", [(1.6, 0.5, 0.5), (1.3, 0.0, 1.0), (0.7, 0.5, 0.5), (0.6, 1.0, 0.2)])
def test_zoom_view_moves_pixels_as_its_K_says(zoom, u, v):
    """Every output pixel's ray (K'^-1 p') is the ray of the source pixel it shows (K^-1 p)."""
    h, w = 30, 40
    K = np.array([[35.0, 0, 21.0], [0, 35.0, 14.0], [0, 0, 1]])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    rgb = np.full((h, w, 3), 200, np.uint8)
    # encode each source pixel's centre in two "depth" maps (nearest sampling keeps them exact)
    outs = [zoom_view(rgb, c, np.ones((h, w), bool), K, zoom, u, v) for c in (xx + 1000.0, yy + 1000.0)]
    (rgb2, sx, valid2, K2), (_, sy, _, _) = outs
    assert K2[0, 0] == pytest.approx(zoom * K[0, 0]) and K2[1, 1] == pytest.approx(zoom * K[1, 1])
    src_ray_x, src_ray_y = (sx - 1000.0 - K[0, 2]) / K[0, 0], (sy - 1000.0 - K[1, 2]) / K[1, 1]
    out_ray_x, out_ray_y = (xx - K2[0, 2]) / K2[0, 0], (yy - K2[1, 2]) / K2[1, 1]
    inner = valid2.copy()
    inner[[0, -1]] = False
    inner[:, [0, -1]] = False
    assert inner.sum() > 100
    # nearest sampling: within one source pixel
    assert np.abs(src_ray_x - out_ray_x)[inner].max() <= 1.0 / K[0, 0] + 1e-6
    assert np.abs(src_ray_y - out_ray_y)[inner].max() <= 1.0 / K[1, 1] + 1e-6
    if zoom > 1:
        assert valid2.all()  # a crop stays inside the image
    else:
        assert not valid2.all() and (sx[~valid2] == 0).all()
        assert (rgb2[~valid2] == 128).mean() > 0.8  # the new border is grey (bilinear blends its first pixel)


def test_draw_zoom_range_and_off():
    g = torch.Generator().manual_seed(0)
    draws = [draw_zoom(g, 1.0, 1.5) for _ in range(200)]
    zooms = np.array([d[0] for d in draws])
    assert zooms.min() >= 1 / 1.5 - 1e-9 and zooms.max() <= 1.5 + 1e-9
    assert (zooms > 1.2).any() and (zooms < 0.8).any()
    assert all(0 <= d[1] <= 1 and 0 <= d[2] <= 1 for d in draws)
    assert draw_zoom(torch.Generator().manual_seed(0), 0.0, 1.5) == (1.0, 0.5, 0.5)


def _jpeg(path, size, focal_35mm=None):
    im = Image.fromarray(np.full((size[1], size[0], 3), 90, np.uint8))
    if focal_35mm is None:
        im.save(path, "JPEG")
        return
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0xA405] = focal_35mm  # Exif IFD: FocalLengthIn35mmFilm
    im.save(path, "JPEG", exif=exif)


def test_exif_focal_length_is_read(tmp_path):
    _jpeg(tmp_path / "a.jpg", (60, 40), focal_35mm=28)
    with Image.open(tmp_path / "a.jpg") as im:
        assert exif_focal_35mm(im) == 28.0
    focal, size = photo_focal_px(tmp_path / "a.jpg")
    assert size == (60, 40)
    assert focal == pytest.approx(28 * 60 / 36)  # 3:2: the diagonal rule equals the 36 mm width rule
    assert focal_to_fov(focal, 60) == pytest.approx(2 * math.degrees(math.atan(18 / 28)))  # 65.5 degrees
    _jpeg(tmp_path / "b.jpg", (60, 40))
    assert photo_focal_px(tmp_path / "b.jpg") is None
    assert photo_focal_px(tmp_path / "missing.jpg") is None
