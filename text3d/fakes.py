"""Weight-free stand-in backends (implementing ``text3d.backends.protocols``) for tests, UI tests and
measuring the pipeline's own overhead. They are deterministic given the generator and do no learning:

- ``GradientTextToImage``: a colour gradient whose hues come from the prompt and the generator.
- ``MeanInpaint``: holes filled with the mean known colour plus generator noise; known pixels unchanged.
- ``PlaneDepth``: a fronto-parallel plane at ``distance`` metres (plus per-sample noise); ``complete`` keeps
  the known pixels exactly and fills the rest with their median depth.

And the embedded pipelines at the ``tiny`` preset with random weights (``tiny_depth_pipeline``,
``tiny_palette_pipeline``, ``tiny_t2i_pipeline``): what tests save as folders for the backend registry, the
CLI and the benchmarks to load, in seconds and without a download. Likewise tiny random public-weight models,
saved as folders: Stable Diffusion text-to-image and inpainting (``save_tiny_stable_diffusion``), Marigold
(``save_tiny_marigold``) and a transformers DPT depth model (``save_tiny_dpt``), with a CLIP tokenizer built
from vocab files written beside them; ``put_in_hub_cache`` places such a folder in a local Hugging Face cache under
a hub id, a stand-in for the hub.
"""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler

from depthgen.models.config import DiffusionConfig, ModelConfig
from depthgen.models.depth_pipeline import DepthGenPipeline
from depthgen.models.diffusion import make_train_scheduler
from depthgen.models.palette_pipeline import PalettePipeline
from depthgen.models.unet import build_unet as build_depth_unet
from text3d.backends.loading import Backends
from text3d.backends.protocols import DepthResult, ImageResult
from text3d.models.inpaint.model import build_unet as build_inpaint_unet
from text3d.models.inpaint.pipeline import TextInpaintPipeline
from text3d.models.t2i.config import T2IModelConfig
from text3d.models.t2i.layout_bank import LayoutBank
from text3d.models.t2i.model import build_unet as build_t2i_unet
from text3d.models.t2i.pipeline import TextToImagePipeline


def _rng(generator) -> np.random.Generator:
    """A numpy RNG seeded from one draw of a torch.Generator (keeps the protocols' generator contract)."""
    import torch

    return np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))


class GradientTextToImage:
    name = "fake-gradient"

    def generate(self, prompt: str, *, height: int, width: int, steps: int, generator) -> ImageResult:
        rng = _rng(generator)
        base = np.array([(zlib.crc32(prompt.encode()) >> s) & 255 for s in (0, 8, 16)], np.float32) / 255.0
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        img = base * 0.5 + 0.25 + 0.25 * np.stack([xx / width, yy / height, 1 - xx / width], -1)
        img += rng.normal(0, 0.02, img.shape).astype(np.float32)
        return ImageResult(np.clip(img, 0, 1).astype(np.float32))


class MeanInpaint:
    name = "fake-mean-inpaint"

    def inpaint(self, image: np.ndarray, mask: np.ndarray, *, prompt: str, steps: int, generator) -> np.ndarray:
        rng = _rng(generator)
        out = np.array(image, dtype=np.float32, copy=True)
        known = ~mask
        mean = out[known].mean(axis=0) if known.any() else np.full(3, 0.5, np.float32)
        out[mask] = np.clip(mean + rng.normal(0, 0.03, (int(mask.sum()), 3)), 0, 1)
        return out


class PlaneDepth:
    name = "fake-plane-depth"

    def __init__(self, distance: float = 3.0, noise: float = 0.01):
        self.distance, self.noise = distance, noise

    def _samples(self, base: np.ndarray, samples: int, generator) -> DepthResult:
        rng = _rng(generator)
        s = base[None] * (1.0 + self.noise * rng.standard_normal((samples,) + base.shape))
        s = s.astype(np.float32)
        return DepthResult(np.median(s, axis=0).astype(np.float32), s.std(axis=0).astype(np.float32), s)

    def predict(self, image: np.ndarray, *, steps: int, samples: int, generator) -> DepthResult:
        return self._samples(np.full(image.shape[:2], self.distance, np.float32), samples, generator)

    def complete(self, image: np.ndarray, known_depth: np.ndarray, known_mask: np.ndarray, *, steps: int,
                 samples: int, generator) -> DepthResult:
        fill = float(np.median(known_depth[known_mask])) if known_mask.any() else self.distance
        res = self._samples(np.full(image.shape[:2], fill, np.float32), samples, generator)
        for arr in (res.depth, *res.samples):
            arr[known_mask] = known_depth[known_mask]
        res.uncertainty[known_mask] = 0.0
        return res


def fake_backends(distance: float = 3.0) -> Backends:
    """All three stand-ins together."""
    return Backends(GradientTextToImage(), MeanInpaint(), PlaneDepth(distance))


def tiny_depth_pipeline(size: int = 16, objective: str = "diffusion") -> DepthGenPipeline:
    """A randomly initialised ``tiny`` DepthGen pipeline at ``size`` x ``size`` (depth 0.5-20 m); ``objective``
    ``"regression"`` makes the one-pass baseline."""
    unet = build_depth_unet(ModelConfig(preset="tiny", sample_size=size), 1).eval()
    return DepthGenPipeline(unet, make_train_scheduler(DiffusionConfig()), d_min=0.5, d_max=20.0, resolution=size,
                            objective=objective)


def tiny_palette_pipeline(size: int = 16) -> PalettePipeline:
    """A randomly initialised ``tiny`` Palette (inpainting) pipeline at ``size`` x ``size``."""
    unet = build_depth_unet(ModelConfig(preset="tiny", sample_size=size), 3).eval()
    return PalettePipeline(unet, make_train_scheduler(DiffusionConfig()), resolution=size)


def tiny_t2i_pipeline(size: int = 16, layout_bank: LayoutBank | None = None,
                      layout_strength: float = 1.0) -> TextToImagePipeline:
    """A randomly initialised ``tiny`` text-to-image pipeline at ``size`` x ``size`` (v-prediction DDIM),
    optionally with a layout bank to start sampling from."""
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return TextToImagePipeline(build_t2i_unet(T2IModelConfig(preset="tiny", sample_size=size)), sched,
                               layout_strength=layout_strength, layout_bank=layout_bank)


def tiny_text_inpaint_pipeline(size: int = 16) -> TextInpaintPipeline:
    """A randomly initialised ``tiny`` text-conditioned inpainting pipeline at ``size`` x ``size`` (x0 DDIM)."""
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="sample")
    unet = build_inpaint_unet(T2IModelConfig(preset="tiny", sample_size=size, coord_channels=True)).eval()
    return TextInpaintPipeline(unet, sched)


# ------------------------------------------------------------------ tiny random public-weight model folders
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tiny_clip(folder: Path):
    """A CLIP BPE tokenizer over single letters (and "room"), from vocab.json / merges.txt written to ``folder``,
    and a 2-layer CLIP text encoder of width 32 over it."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>"] + list(LETTERS) + [c + "</w>" for c in LETTERS] + ["ro", "roo",
                                                                                                     "room</w>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\nr o\nro o\nroo m</w>\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16)
    encoder = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokens), hidden_size=32, intermediate_size=37,
                                           num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=16,
                                           bos_token_id=0, eos_token_id=1, pad_token_id=1))
    return tokenizer, encoder


def _tiny_latent_parts(unet_in: int):
    """A tiny cross-attention UNet with ``unet_in`` input channels and a tiny 4-channel VAE."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    unet = UNet2DConditionModel(sample_size=16, in_channels=unet_in, out_channels=4, block_out_channels=(32, 64),
                                layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32)
    vae = AutoencoderKL(in_channels=3, out_channels=3, block_out_channels=(32, 64), latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    return unet, vae


def save_tiny_stable_diffusion(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """Random tiny ``StableDiffusionPipeline`` (``root/t2i``) and ``StableDiffusionInpaintPipeline``
    (``root/inpaint``, a 9-channel UNet) folders; the same ``seed``, the same weights."""
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

    out = []
    for name, cls, unet_in in (("t2i", StableDiffusionPipeline, 4), ("inpaint", StableDiffusionInpaintPipeline, 9)):
        with torch.random.fork_rng():  # the constructors draw from torch's global RNG; leave it as it was
            torch.manual_seed(seed)
            tokenizer, encoder = tiny_clip(Path(root) / "tokenizer-files")
            unet, vae = _tiny_latent_parts(unet_in)
        scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                  clip_sample=False, steps_offset=1)
        cls(vae=vae, text_encoder=encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler, safety_checker=None,
            feature_extractor=None, requires_safety_checker=False).save_pretrained(str(Path(root) / name))
        out.append(Path(root) / name)
    return out[0], out[1]


def save_tiny_marigold(folder: Path, prediction_type: str = "depth", seed: int = 0) -> Path:
    """A random tiny ``MarigoldDepthPipeline`` (affine-invariant ``prediction_type`` "depth" or "disparity",
    v-prediction DDIM with trailing timesteps as Marigold v1.1) saved to ``folder``."""
    from diffusers import MarigoldDepthPipeline

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        tokenizer, encoder = tiny_clip(Path(folder).parent / "tokenizer-files")
        unet, vae = _tiny_latent_parts(8)
    scheduler = DDIMScheduler(prediction_type="v_prediction", timestep_spacing="trailing", steps_offset=1)
    MarigoldDepthPipeline(unet=unet, vae=vae, scheduler=scheduler, text_encoder=encoder, tokenizer=tokenizer,
                          prediction_type=prediction_type, scale_invariant=True, shift_invariant=True,
                          default_denoising_steps=2, default_processing_resolution=32).save_pretrained(str(folder))
    return Path(folder)


def save_tiny_dpt(folder: Path, seed: int = 0) -> Path:
    """A random tiny transformers ``DPTForDepthEstimation`` with its image processor (32 px) saved to ``folder``."""
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    cfg = DPTConfig(hidden_size=32, num_hidden_layers=4, num_attention_heads=4, intermediate_size=37,
                    image_size=32, patch_size=8, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[8, 16, 32, 32],
                    fusion_hidden_size=16, head_in_index=-1, is_hybrid=False)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = DPTForDepthEstimation(cfg)
    model.save_pretrained(str(folder))
    DPTImageProcessor(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(str(folder))
    return Path(folder)


def save_tiny_public_models(root: Path) -> Path:
    """``root/t2i``, ``root/inpaint`` (Stable Diffusion), ``root/marigold`` and ``root/dpt``: every kind of
    public-weight folder text3d loads, tiny and random; returns ``root``."""
    save_tiny_stable_diffusion(root)
    save_tiny_marigold(Path(root) / "marigold")
    save_tiny_dpt(Path(root) / "dpt")
    return Path(root)


HUB_COMMIT = "0" * 40


def put_in_hub_cache(folder: Path, repo_id: str, cache: Path) -> Path:
    """Copy ``folder`` into the Hugging Face cache folder ``cache`` (what ``HF_HUB_CACHE`` names) as hub id
    ``repo_id``, in the layout huggingface_hub reads offline (``models--org--name/snapshots/<commit>``,
    ``refs/main``); returns the snapshot folder."""
    repo = Path(cache) / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / HUB_COMMIT
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(HUB_COMMIT)
    return snapshot
