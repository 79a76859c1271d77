"""Training checkpoints that resume exactly: weights, EMA, optimizer, LR schedule, RNG states, step, config.

Layout of ``<output_dir>/checkpoint-<step:08d>/``::

    model.safetensors     the trained module's state dict
    ema.safetensors       EMA shadow weights, keyed like the model's parameters
    trainer_state.pt      optimizer, LR scheduler, EMA counters, generator + torch RNG states, step
    config.yaml           the merged recipe

A checkpoint is written to a ``.tmp`` folder and renamed, so a crash never leaves a half-written one; the
oldest are deleted beyond ``keep``. Nothing here is specific to the text-to-image model: any trainer with
one module, one optimizer, one LR scheduler and an optional diffusers ``EMAModel`` can use it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import torch

PREFIX = "checkpoint-"


def checkpoint_dirs(output_dir: str | Path) -> list[Path]:
    """Completed checkpoints in ``output_dir``, oldest first."""
    root = Path(output_dir)
    found = [p for p in root.glob(PREFIX + "*") if p.is_dir() and re.fullmatch(PREFIX + r"\d+", p.name)]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    dirs = checkpoint_dirs(output_dir)
    return dirs[-1] if dirs else None


def save_checkpoint(output_dir: str | Path, step: int, model: torch.nn.Module, optimizer, lr_scheduler,
                    ema=None, generators: dict[str, torch.Generator] | None = None, config: Any = None,
                    keep: int = 3) -> Path:
    """Write ``checkpoint-<step>`` atomically and prune old ones; returns its path."""
    from safetensors.torch import save_file

    from depthgen.config import save_config

    root = Path(output_dir)
    final = root / f"{PREFIX}{step:08d}"
    tmp = root / f"{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(tmp / "model.safetensors"))
    trainer: dict[str, Any] = {
        "step": int(step),
        "optimizer": optimizer.state_dict(),
        "lr_scheduler": lr_scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "generators": {k: g.get_state() for k, g in (generators or {}).items()},
    }
    if ema is not None:
        names = [n for n, _ in model.named_parameters()]
        ema_state = ema.state_dict()
        shadow = ema_state.pop("shadow_params")
        save_file({n: p.detach().cpu().contiguous() for n, p in zip(names, shadow)}, str(tmp / "ema.safetensors"))
        trainer["ema"] = ema_state
    torch.save(trainer, tmp / "trainer_state.pt")
    if config is not None:
        save_config(config, tmp / "config.yaml")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    for old in checkpoint_dirs(root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer=None, lr_scheduler=None, ema=None,
                    generators: dict[str, torch.Generator] | None = None) -> int:
    """Restore everything ``save_checkpoint`` wrote into the given objects; returns the step."""
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / "model.safetensors").is_file() or not (path / "trainer_state.pt").is_file():
        raise ValueError(f"{path} is not a training checkpoint (needs model.safetensors and trainer_state.pt)")
    model.load_state_dict(load_file(str(path / "model.safetensors")))
    trainer = torch.load(path / "trainer_state.pt", map_location="cpu", weights_only=False)
    if optimizer is not None:
        optimizer.load_state_dict(trainer["optimizer"])
    if lr_scheduler is not None:
        lr_scheduler.load_state_dict(trainer["lr_scheduler"])
    if ema is not None and "ema" in trainer:
        shadow = load_file(str(path / "ema.safetensors"))
        state = dict(trainer["ema"])
        state["shadow_params"] = [shadow[n] for n, _ in model.named_parameters()]
        ema.load_state_dict(state)
    torch.set_rng_state(trainer["torch_rng"])
    for key, g in (generators or {}).items():
        if key in trainer["generators"]:
            g.set_state(trainer["generators"][key])
    return int(trainer["step"])


def load_ema_weights(path: str | Path, model: torch.nn.Module) -> None:
    """Copy a checkpoint's EMA weights (or its raw weights when it has none) into ``model``."""
    from safetensors.torch import load_file

    path = Path(path)
    ema_file = path / "ema.safetensors"
    if ema_file.is_file():
        shadow = load_file(str(ema_file))
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(shadow[n])
    else:
        model.load_state_dict(load_file(str(path / "model.safetensors")))
