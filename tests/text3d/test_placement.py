"""Where the models run: one dtype rule (float16 on CUDA, float32 elsewhere) reaches every backend's model. On CPU
the rule is swapped for bfloat16 to show that each loader passes it through and each model runs in it; the CUDA
tests (device placement, a run on the GPU, TSDF fusion on the GPU) are skipped without a GPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from text3d.backends import depth as depth_backends
from text3d.backends import placement
from text3d.backends.registry import build_backend
from text3d.fakes import save_tiny_public_models


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def model_of(backend) -> torch.nn.Module:
    """The network a backend runs (a pipeline's UNet, or the transformers model)."""
    pipe = getattr(backend, "pipe", None)
    return pipe.unet if pipe is not None else backend.model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_public_models(tmp_path_factory.mktemp("tiny"))


def test_the_rule():
    assert placement.model_dtype("cpu") == torch.float32
    assert placement.model_dtype("cuda") == placement.model_dtype(torch.device("cuda", 0)) == torch.float16


def test_every_loader_passes_the_rule_through(tiny, monkeypatch):
    bf16 = lambda device: torch.bfloat16  # noqa: E731 - the CUDA rule's stand-in on a CPU
    monkeypatch.setattr(placement, "model_dtype", bf16)
    monkeypatch.setattr(depth_backends, "model_dtype", bf16)
    specs = [("t2i", "embedded"), ("inpaint", "embedded"), ("depth", "embedded"), ("t2i", str(tiny / "t2i")),
             ("inpaint", str(tiny / "inpaint")), ("depth", str(tiny / "marigold")), ("depth", str(tiny / "dpt"))]
    for kind, spec in specs:
        net = model_of(build_backend(kind, spec, "cpu"))
        assert (net.dtype, net.device.type) == (torch.bfloat16, "cpu"), (kind, spec)
    from text3d.run.upscale import load_sr_pipeline, sr_model_path

    load_sr_pipeline.cache_clear()
    assert load_sr_pipeline(str(sr_model_path("embedded")), "cpu").unet.dtype == torch.bfloat16
    load_sr_pipeline.cache_clear()
    g = torch.Generator().manual_seed(0)
    image = np.random.default_rng(0).random((16, 16, 3)).astype(np.float32)
    assert np.isfinite(build_backend("t2i", str(tiny / "t2i")).generate("a room", height=16, width=16, steps=1,
                                                                         generator=g).image).all()
    for spec in (tiny / "marigold", tiny / "dpt"):  # in bfloat16, known depth kept as given
        known = np.full((16, 16), 2.0, np.float32)
        mask = np.zeros((16, 16), bool)
        mask[:, :8] = True
        res = build_backend("depth", str(spec)).complete(image, known, mask, steps=2, samples=1, generator=g)
        assert np.isfinite(res.depth).all() and (res.depth[mask] == 2.0).all()


@CUDA
def test_cuda_puts_every_model_on_the_gpu_in_float16(tiny):
    import text3d
    from text3d.run.upscale import load_sr_pipeline, sr_model_path

    backends = text3d.load_backends("default", device="cuda")
    for b in (backends.t2i, backends.inpaint, backends.depth):
        net = model_of(b)
        assert (net.device.type, net.dtype) == ("cuda", torch.float16), b.name
    for kind, spec in (("t2i", tiny / "t2i"), ("inpaint", tiny / "inpaint"), ("depth", tiny / "marigold"),
                       ("depth", tiny / "dpt")):
        net = model_of(build_backend(kind, str(spec), "cuda"))
        assert (net.device.type, net.dtype) == ("cuda", torch.float16), spec
    sr = load_sr_pipeline(str(sr_model_path("embedded")), "cuda").unet
    assert (sr.device.type, sr.dtype) == ("cuda", torch.float16)


@CUDA
def test_a_run_on_cuda_and_tsdf_fusion_on_the_gpu(tmp_path):
    import open3d.core as o3c

    import text3d
    from text3d.geometry.fuse import fusion_device

    if o3c.cuda.is_available():
        assert fusion_device().get_type() == o3c.Device.DeviceType.CUDA
    result = text3d.generate_scene("a cozy library", preset="fast", device="cuda", views=2, trajectory="walk",
                                   out_dir=tmp_path / "run", overrides=["video.enabled=false", "fusion.method=tsdf"])
    assert result.mesh.n_faces > 0


def test_fusion_runs_on_the_cpu_without_a_gpu():
    import open3d.core as o3c

    from text3d.geometry.fuse import fusion_device

    if not o3c.cuda.is_available():
        assert fusion_device().get_type() == o3c.Device.DeviceType.CPU
