"""The shipped TAEF2 autoencoder (assets/autoencoder): architecture, weights, round trip, latent cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from text3d.models.autoencoder import TinyAutoencoder
from text3d.models.autoencoder.encode import channel_statistics, encode_images, read_cache, write_cache

ASSET = Path(__file__).resolve().parents[2] / "assets" / "autoencoder"


@pytest.fixture(scope="module")
def autoencoder() -> TinyAutoencoder:
    return TinyAutoencoder.from_pretrained(str(ASSET)).eval()


@pytest.fixture(scope="module")
def renders() -> np.ndarray:
    """(4, 256, 256, 3) uint8: procedural test-split renders."""
    from depthgen.data.procedural import ProceduralDataset

    return np.stack([s["rgb"] for s in ProceduralDataset("test", (256, 256), n=4)])


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of images (B, 3, H, W) in [0, 1]."""
    return 10 * torch.log10(1.0 / ((a - b) ** 2).mean((1, 2, 3)))


def test_shipped_weights_are_fp16_with_licence():
    from safetensors import safe_open

    assert "MIT License" in (ASSET / "LICENSE").read_text()
    with safe_open(str(ASSET / "diffusion_pytorch_model.safetensors"), framework="pt") as f:
        dtypes = {f.get_slice(k).get_dtype() for k in f.keys()}
    assert dtypes == {"F16"}


def test_parameter_counts_match_the_published_halves(autoencoder):
    assert sum(p.numel() for p in autoencoder.encoder.parameters()) == 1_338_528
    assert sum(p.numel() for p in autoencoder.decoder.parameters()) == 1_338_499


def test_render_round_trips_at_the_measured_psnr(autoencoder, renders):
    """The first four test renders come back at TAEF2's measured 30.7, 32.1, 22.6 (fine brick) and 34.8 dB; a 64-px
    bicubic round trip of the same renders gives 25.7, 26.6, 21.4 and 29.3 dB."""
    x = torch.from_numpy(renders).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        z = autoencoder.encode(x)
        y = autoencoder.decode(z)
    assert z.shape == (4, 32, 32, 32)
    got = psnr(y, x)
    small = torch.nn.functional.interpolate(x, size=(64, 64), mode="bicubic", antialias=True, align_corners=False)
    bicubic = psnr(torch.nn.functional.interpolate(small, size=(256, 256), mode="bicubic").clamp(0, 1), x)
    assert torch.allclose(got, torch.tensor([30.7, 32.1, 22.6, 34.8]), atol=0.3), got
    assert (got > bicubic + 1.0).all() and (got - bicubic).mean() > 4.0, (got, bicubic)


def test_odd_sizes_are_refused(autoencoder):
    with pytest.raises(ValueError, match="multiples of 8"):
        autoencoder.encode(torch.zeros(1, 3, 30, 32))


def test_latent_cache_round_trips(tmp_path, autoencoder, renders):
    latents = encode_images(autoencoder, list(renders[:3]), batch=2)
    assert latents.dtype == torch.float16 and latents.shape == (3, 32, 32, 32)
    caps = [["a kitchen"], ["a street", "a road"], ["a park"]]
    write_cache(tmp_path / "c.safetensors", latents, caps)
    z, mean, std, got_caps = read_cache(tmp_path / "c.safetensors")
    assert torch.equal(z, latents) and got_caps == caps
    m, s = channel_statistics(latents)
    assert torch.allclose(mean, m) and torch.allclose(std, s)


def test_published_state_dicts_load(tmp_path, autoencoder):
    """``load_published`` reads state dicts keyed as the published ``nn.Sequential`` files are."""
    torch.save(autoencoder.encoder.state_dict(), tmp_path / "enc.pth")
    torch.save(autoencoder.decoder.state_dict(), tmp_path / "dec.pth")
    again = TinyAutoencoder.load_published(tmp_path / "enc.pth", tmp_path / "dec.pth")
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(again(x), autoencoder(x), atol=1e-5)
    torch.save({"nope": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="not a TAEF2 state dict"):
        TinyAutoencoder.load_published(tmp_path / "bad.pth", tmp_path / "dec.pth")


def test_a_saved_copy_keeps_the_published_bytes_and_the_licence(tmp_path, autoencoder):
    """A pipeline folder's ``vae/`` is the shipped file itself (one git object) with the MIT licence beside it."""
    assert autoencoder.dtype == torch.float32  # loaded for computing
    autoencoder.save_pretrained(tmp_path / "vae")
    name = "diffusion_pytorch_model.safetensors"
    assert (tmp_path / "vae" / name).read_bytes() == (ASSET / name).read_bytes()
    assert (tmp_path / "vae" / "LICENSE").read_text() == (ASSET / "LICENSE").read_text()
    assert autoencoder.dtype == torch.float32  # the model itself is left as it was
