"""One rule for ``generator=None`` in every pipeline (depthgen.models.sampling.resolve_generator): draw from torch's
global RNG, as diffusers does, so ``torch.manual_seed(s)`` before a call makes it repeatable and two calls
without re-seeding differ. Tiny random models built here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.depthgen.test_pipeline import depth_pipe, palette_pipe
from tests.models.test_inpaint_model import scene
from tests.models.test_inpaint_model import tiny_pipeline as tiny_inpaint
from tests.models.test_sr_model import tiny_pipeline as tiny_sr
from tests.models.test_t2i_pipeline import _tiny_pipe as tiny_t2i

IMAGE = np.random.default_rng(0).uniform(0, 1, (16, 16, 3)).astype(np.float32)
HOLE = scene()[1]

CALLS = {
    "depthgen": lambda: (lambda p: p(IMAGE, num_samples=2, num_inference_steps=2).depth)(depth_pipe()),
    "palette": lambda: (lambda p: p.inpaint(IMAGE, HOLE, num_inference_steps=2))(palette_pipe()),
    "t2i": lambda: (lambda p: p("a room", num_inference_steps=2)[0])(tiny_t2i()),
    "inpaint": lambda: (lambda p: p(IMAGE, HOLE, "a room", num_inference_steps=2))(tiny_inpaint()),
    "sr": lambda: (lambda p: p(IMAGE, num_inference_steps=2))(tiny_sr("diffusion")),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_none_draws_from_the_global_rng(name):
    torch.manual_seed(123)
    a = np.asarray(CALLS[name]())
    torch.manual_seed(123)
    b = np.asarray(CALLS[name]())
    c = np.asarray(CALLS[name]())  # not re-seeded: the global RNG has moved on
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-6
