"""Palette pretraining tasks: shapes, ranges, determinism, and what each task degrades."""

import numpy as np
import pytest
import torch

from depthgen.data.pretrain_tasks import draw_task, fill_hole, jpeg_degrade, make_task, to_model_rgb
from depthgen.models.config import TASKS
from depthgen.training.recipe import TasksConfig


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return to_model_rgb((rng.random((24, 32, 3)) * 255).astype(np.uint8))


@pytest.mark.parametrize("task", ["colorize", "inpaint", "uncrop", "jpeg"])
def test_task_shapes_and_determinism(task, image):
    a = make_task(task, image, torch.Generator().manual_seed(1))
    b = make_task(task, image, torch.Generator().manual_seed(1))
    cond, aux, target, tid = a
    assert cond.shape == (3, 24, 32) and aux.shape == (1, 24, 32) and target.shape == (3, 24, 32)
    assert tid == TASKS.index(task)
    assert torch.equal(target, image)
    assert cond.min() >= -1 and cond.max() <= 1
    assert all(torch.equal(x, y) for x, y in zip(a[:3], b[:3]))


def test_colorize_is_grey(image):
    cond, aux, _, _ = make_task("colorize", image, torch.Generator())
    assert torch.allclose(cond[0], cond[1]) and torch.allclose(cond[1], cond[2])
    assert (aux == 1).all()


@pytest.mark.parametrize("task", ["inpaint", "uncrop"])
def test_masked_tasks_blank_only_the_mask(task, image):
    cond, aux, _, _ = make_task(task, image, torch.Generator().manual_seed(3))
    m = aux[0].bool()
    assert m.any() and not m.all()
    assert (cond[:, m] == 0).all()
    assert torch.equal(cond[:, ~m], image[:, ~m])


def test_inpaint_with_depth_disocclusion(image):
    depth = np.full((24, 32), 8.0, np.float32)
    depth[6:18, 10:20] = 1.0
    _, aux, _, _ = make_task("inpaint", image, torch.Generator().manual_seed(0), depth=depth, mask_kind="disocclusion")
    assert aux.any()


def test_jpeg_changes_the_image(image):
    low = jpeg_degrade(image, 5)
    assert low.shape == image.shape and (low - image).abs().mean() > 0.01


def test_draw_task_follows_weights():
    cfg = TasksConfig(names=("colorize", "jpeg"), weights=(1.0, 0.0))
    g = torch.Generator().manual_seed(0)
    assert {draw_task(cfg, g) for _ in range(20)} == {"colorize"}


def smooth_image(h=24, w=32):
    """(3, H, W) [-1, 1]: a smooth colour ramp, so a classical fill can recover the hole closely."""
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    return to_model_rgb(np.stack([xx, yy, 0.5 * (xx + yy)], -1).astype(np.float32))


def test_telea_prefill_fills_only_the_hole_and_beats_grey():
    image = smooth_image()
    m = torch.zeros(1, 24, 32)
    m[:, 8:15, 10:20] = 1
    telea, grey_fill = fill_hole(image, m, "telea"), fill_hole(image, m, "grey")
    hole = m[0].bool()
    assert torch.equal(telea[:, ~hole], image[:, ~hole]) and (grey_fill[:, hole] == 0).all()
    err = lambda x: float((x[:, hole] - image[:, hole]).abs().mean())
    assert err(telea) < 0.25 * err(grey_fill)  # the classical fill is close on a smooth image; grey is not
    with pytest.raises(ValueError, match="hole_fill"):
        fill_hole(image, m, "zeros")


def test_telea_band_keeps_telea_near_the_edge_and_grey_deep_inside():
    from depthgen.data.pretrain_tasks import TELEA_BAND

    image = smooth_image(40, 48)
    m = torch.zeros(1, 40, 48)
    m[:, 4:36, 6:42] = 1  # 32 x 36: its centre is 16 pixels from the nearest known pixel
    band, telea = fill_hole(image, m, "telea_band"), fill_hole(image, m, "telea")
    hole = m[0].bool()
    assert torch.equal(band[:, ~hole], image[:, ~hole])
    edge = torch.zeros_like(hole)
    edge[4:4 + TELEA_BAND, 6:42] = True  # the hole's first rows: within the band
    assert torch.equal(band[:, edge], telea[:, edge]) and not (band[:, edge] == 0).all()
    assert (band[:, 4 + TELEA_BAND + 2:36 - TELEA_BAND - 2, 6 + TELEA_BAND + 2:42 - TELEA_BAND - 2] == 0).all()
    small = torch.zeros(1, 40, 48)
    small[:, 10:14, 10:30] = 1  # 4 pixels tall: every pixel is near an edge, so it is all Telea
    assert torch.equal(fill_hole(image, small, "telea_band"), fill_hole(image, small, "telea"))


def test_make_task_uses_the_configured_hole_fill(image):
    cfg = TasksConfig(names=("inpaint",), weights=(1.0,), hole_fill="telea")
    cond, aux, _, _ = make_task("inpaint", image, torch.Generator().manual_seed(3), cfg)
    m = aux[0].bool()
    assert m.any() and torch.equal(cond[:, ~m], image[:, ~m]) and not (cond[:, m] == 0).all()
    assert torch.equal(cond, fill_hole(image, aux, "telea"))


def test_recipe_rejects_unknown_hole_fill():
    from depthgen.training.recipe import Recipe

    with pytest.raises(ValueError, match="tasks.hole_fill"):
        Recipe(tasks=TasksConfig(hole_fill="blur"))
