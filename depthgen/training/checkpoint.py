"""Training checkpoints: everything needed to continue a run exactly, written atomically.

Layout of ``output_dir/checkpoint-<step>/``::

    model.safetensors     UNet weights (the raw, trained weights)
    ema.safetensors       EMA shadow weights, same keys as model.safetensors
    unet_config.json      UNet2DModel config (rebuilds the architecture)
    ema_state.json        EMAModel scalars (decay, optimization_step, ...)
    optimizer.pt          AdamW state dict            lr_scheduler.pt  LR schedule state dict
    rng.pt                training generator, torch global, numpy and python RNG states
    state.json            {"step": int, "wall_time": float seconds of training so far}
    config.yaml           the merged recipe
``output_dir/last`` holds the name of the newest checkpoint directory. Only the newest ``keep`` are kept.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from depthgen.common.config import save_config


def _named(model: torch.nn.Module) -> list[str]:
    return [n for n, _ in model.named_parameters()]


def ema_state_dict(ema: Any, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """EMA shadow params keyed like the model's parameters."""
    return {n: p.detach().cpu().contiguous() for n, p in zip(_named(model), ema.shadow_params)}


def save_checkpoint(output_dir: str | Path, step: int, model: torch.nn.Module, ema: Any, optimizer: Any,
                    lr_scheduler: Any, generator: torch.Generator, recipe: Any, wall_time: float, keep: int) -> Path:
    """Write ``checkpoint-<step>`` (via a temp dir + rename), update ``last``, prune old ones."""
    from safetensors.torch import save_file

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / f"checkpoint-{step}"
    tmp = out / f".checkpoint-{step}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"))
    save_file(ema_state_dict(ema, model), str(tmp / "ema.safetensors"))
    if getattr(model, "config", None) is not None:  # diffusers models: the config that rebuilds them
        (tmp / "unet_config.json").write_text(json.dumps(dict(model.config), indent=1, default=list))
    scalars = {k: v for k, v in ema.state_dict().items() if k != "shadow_params"}
    (tmp / "ema_state.json").write_text(json.dumps(scalars))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(lr_scheduler.state_dict(), tmp / "lr_scheduler.pt")
    torch.save({"generator": generator.get_state(), "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(), "python": random.getstate()}, tmp / "rng.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, "wall_time": wall_time}))
    save_config(recipe, tmp / "config.yaml")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    _write_last(out, final.name)
    prune(out, keep)
    return final


def _write_last(out: Path, name: str) -> None:
    tmp = out / "last.tmp"
    tmp.write_text(name + "\n")
    tmp.replace(out / "last")


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoint dirs sorted by step."""
    out = Path(output_dir)
    found = [p for p in out.glob("checkpoint-*") if p.is_dir() and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def prune(output_dir: Path, keep: int) -> None:
    for p in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(p, ignore_errors=True)


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The checkpoint named by ``last`` (or the newest one on disk), None if there is none."""
    out = Path(output_dir)
    last = out / "last"
    if last.is_file():
        p = out / last.read_text().strip()
        if (p / "state.json").is_file():
            return p
    found = list_checkpoints(out)
    return found[-1] if found else None


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint dir as given, or the newest checkpoint of an output_dir; anything else -> ValueError."""
    p = Path(path)
    if not p.exists():
        raise ValueError(f"checkpoint path not found: {p}")
    if (p / "state.json").is_file():
        return p
    found = latest_checkpoint(p)
    if found is None:
        raise ValueError(f"{p} is neither a checkpoint dir nor an output_dir with checkpoints")
    return found


def checkpoint_step(ckpt: str | Path) -> int:
    """The optimizer step a checkpoint dir was written at (its ``state.json``)."""
    return int(json.loads((Path(ckpt) / "state.json").read_text())["step"])


def load_init_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights to start a run from: an output_dir's newest checkpoint, a checkpoint dir (EMA), a pipeline
    folder or a ``.safetensors`` file."""
    p = Path(path)
    if (p / "last").exists():
        p = latest_checkpoint(p) or p
    return load_weights(p, prefer_ema=True)


def load_weights(path: str | Path, prefer_ema: bool = True) -> dict[str, torch.Tensor]:
    """UNet state dict from a checkpoint dir (EMA if present and preferred), a pipeline folder (its
    ``unet/``) or a ``.safetensors`` file. Missing path -> ValueError."""
    from safetensors.torch import load_file

    p = Path(path)
    if p.is_file() and p.suffix == ".safetensors":
        return load_file(str(p))
    if (p / "model.safetensors").is_file():
        state = load_file(str(p / "model.safetensors"))
        if prefer_ema and (p / "ema.safetensors").is_file():
            state.update(load_file(str(p / "ema.safetensors")))  # buffers (none today) stay from the model
        return state
    unet = p / "unet" / "diffusion_pytorch_model.safetensors"
    if unet.is_file():
        return load_file(str(unet))
    raise ValueError(f"no weights found at {p}: expected a checkpoint dir, a pipeline folder or a .safetensors file")


def load_training_state(ckpt: Path, model: torch.nn.Module, ema: Any, optimizer: Any, lr_scheduler: Any,
                        generator: torch.Generator) -> tuple[int, float]:
    """Restore everything ``save_checkpoint`` wrote; returns (step, wall_time)."""
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
    shadow = load_file(str(ckpt / "ema.safetensors"))
    scalars = json.loads((ckpt / "ema_state.json").read_text())
    ema.load_state_dict({**scalars, "shadow_params": [shadow[n] for n in _named(model)]})
    optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", weights_only=False))
    lr_scheduler.load_state_dict(torch.load(ckpt / "lr_scheduler.pt", weights_only=False))
    rng = torch.load(ckpt / "rng.pt", weights_only=False)
    generator.set_state(rng["generator"])
    torch.set_rng_state(rng["torch"])
    np.random.set_state(rng["numpy"])
    random.setstate(rng["python"])
    state = json.loads((ckpt / "state.json").read_text())
    return int(state["step"]), float(state["wall_time"])
