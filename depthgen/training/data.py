"""Training data: pluggable sources, per-stage example construction, and a resumable batch order.

Sources: ``data.mix`` (``SPEC@W,...``: a ``Mixture`` of datasets drawn by weight), else ``data.spec`` (one dataset
of ``depthgen.data.registry.open_dataset``, the grammar ``depthgen.evaluate --data`` reads), else ``data.kind``:
- ``procedural_shards``: ``depthgen.data.procedural.ShardDataset(data.path)`` (npz shards).
- ``procedural_live``: ``depthgen.data.procedural.generate_sample`` rendered on the fly for
  ``split_seed("train", i)``, i < ``data.live_size`` (slow: Open3D rendering per item).
- ``folder``: ``depthgen.data.folder.FolderDataset(data.path)`` (items with at least rgb, depth).
- ``synthetic``: ``SyntheticDataset``: smooth colour fields with boxes and a matching depth map, built from
  the index alone (tests and smoke runs; no other module needed).
Every source yields dicts with ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 m (0 = invalid) and
optionally ``valid``, ``sensor_depth``, ``outdoor``, ``K``.

Determinism: ``StepBatchSampler`` yields batches of ``(index, item_seed)``; the index order is a
permutation per epoch drawn from ``(seed, epoch)`` and ``item_seed`` is a function of (seed, position in
the stream). An example depends only on its key, so the stream is identical with any number of workers and
a resumed run restarts exactly at ``start_batch``. A mixture draws each position's source by weight and an item
of it uniformly (with replacement), both from ``(seed, position)`` alone, so it resumes exactly too.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

from depthgen.data.folder import FolderDataset
from depthgen.data.infill import infill_depth
from depthgen.data.registry import open_dataset
from depthgen.data.pretrain_tasks import draw_task, make_task, to_model_rgb
from depthgen.data.procedural import ShardDataset, generate_sample, split_seed
from depthgen.data.procedural.render import intrinsics
from depthgen.data.synthetic import SyntheticDataset
from depthgen.data.transforms import random_hflip, resize_depth_nearest, resize_rgb
from depthgen.models.camera import (DEFAULT_FOV_DEG, aspect_channel, canonical_scale, draw_zoom, fov_channel,
                                    normalized_focal, zoom_view)
from depthgen.models.config import TASKS
from depthgen.models.depth_param import depth_to_model
from depthgen.training.recipe import Recipe, data_specs, train_hw


class _LiveProcedural(torch.utils.data.Dataset):
    def __init__(self, n: int, size: int, sensor: str) -> None:
        self.n, self.size, self.sensor = n, size, sensor

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, Any]:
        return generate_sample(split_seed("train", i), size=(self.size, self.size), sensor=self.sensor)


class Mixture(torch.utils.data.ConcatDataset):
    """Several datasets as one (indices run through them in order) with a sampling weight each."""

    def __init__(self, datasets: list[torch.utils.data.Dataset], weights: list[float]) -> None:
        super().__init__(datasets)
        for ds in datasets:
            if len(ds) < 1:
                raise ValueError(f"{ds!r} is empty; every source of data.mix needs samples")
        self.weights = [float(w) for w in weights]


def build_source(recipe: Recipe) -> torch.utils.data.Dataset:
    """The raw sample dataset of ``recipe.data`` (see the module docstring)."""
    d = recipe.data
    specs = data_specs(recipe)
    if d.mix:
        return Mixture([open_dataset(s, "train") for s, _ in specs], [w for _, w in specs])
    if specs:
        return open_dataset(specs[0][0], "train")
    if d.kind == "synthetic":
        return SyntheticDataset(d.live_size, recipe.model.sample_size, recipe.train.seed)
    if d.kind == "procedural_live":
        return _LiveProcedural(d.live_size, recipe.model.sample_size, d.sensor)
    from pathlib import Path

    if not Path(d.path).exists():
        raise ValueError(f"data.path {d.path!r} does not exist; write the shards first or set data.path=...")
    if d.kind == "procedural_shards":
        return ShardDataset(d.path)

    return FolderDataset(d.path)


class TrainingExamples(torch.utils.data.Dataset):
    """Turns raw samples into model examples for the recipe's stage; keyed by ``(index, item_seed)``.

    Output dict (float32 tensors): cond (4, H, W) = RGB-or-degraded-RGB (3) + aux (1); target (C, H, W) in
    [-1, 1] (C = 3 Palette stages, 1 depth stages); valid (1, H, W) bool; task () long. (H, W): ``data.size``, else
    ``model.sample_size`` square (S x S below).

    Camera-aware depth recipes (``uses_camera``: FOV augmentation, canonical camera or FOV conditioning;
    depthgen.models.camera): the sample's K (or a ``DEFAULT_FOV_DEG`` camera when it has none) goes through the
    crop / uncrop first (``data.fov_aug_prob``; the uncropped border is invalid), the depth label is scaled to
    the canonical camera (``depth.canonical_fov_deg``), cond gets the FOV channel (``model.fov_conditioning``;
    (5, S, S)), and the example records ``K`` (3, 3) float32: the camera of the image the model sees
    (after the crop, at S x S; a horizontal flip does not update cx).
    """

    def __init__(self, source: torch.utils.data.Dataset, recipe: Recipe) -> None:
        self.source, self.recipe = source, recipe

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, torch.Tensor]:
        index, item_seed = key
        g = torch.Generator().manual_seed(int(item_seed))
        r = self.recipe
        raw = self.source[int(index)]
        palette = r.stage in ("pretrain", "inpaint")
        rgb0, depth0, valid0 = _source_arrays(raw, r.data.target, palette)
        K0 = None
        if not palette and uses_camera(r):
            rgb0, depth0, valid0, K0 = _camera_view(raw, rgb0, depth0, valid0, r, g)
        rgb_t, depth, valid = _model_view(rgb0, depth0, valid0, train_hw(r), r.data.hflip, g)
        if palette:
            return _palette_example(raw, r, rgb_t, depth, valid, rgb0.shape[:2], g)
        return _depth_example(raw, r, rgb_t, depth, valid, depth0.shape, K0)


def _source_arrays(raw: dict[str, Any], target: str,
                   palette: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The sample's rgb (H, W, 3) uint8, depth (H, W) float32 m and validity (H, W) bool or None.

    Palette stages use the clean depth (disocclusion mask shapes only); depth stages the recipe's target
    (``data.target``) when the sample has it. The sample's ``valid`` goes with the clean depth only.
    """
    rgb0 = np.asarray(raw["rgb"])
    depth_key = target if (target in raw and not palette) else "depth"
    depth0 = np.asarray(raw[depth_key], np.float32)
    valid0 = np.asarray(raw["valid"], bool) if ("valid" in raw and depth_key == "depth") else None
    return rgb0, depth0, valid0


def _camera_view(raw: dict[str, Any], rgb0: np.ndarray, depth0: np.ndarray, valid0: np.ndarray | None,
                 recipe: Recipe, g: torch.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """FOV augmentation: the arrays and camera K (3, 3) float64 after a crop / uncrop drawn from ``g``
    (``data.fov_aug_prob``, ``data.fov_aug_max_zoom``); the sample's K, else a ``DEFAULT_FOV_DEG`` camera; the
    uncropped border is invalid (valid (H, W) bool, all True before when the sample has none)."""
    K0 = (np.asarray(raw["K"], np.float64) if raw.get("K") is not None
          else intrinsics(depth0.shape, DEFAULT_FOV_DEG))
    zoom, u, v = draw_zoom(g, recipe.data.fov_aug_prob, recipe.data.fov_aug_max_zoom)
    if valid0 is None:
        valid0 = np.ones(depth0.shape, bool)
    return zoom_view(rgb0, depth0, valid0, K0, zoom, u, v)


def _model_view(rgb0: np.ndarray, depth0: np.ndarray, valid0: np.ndarray | None, hw: tuple[int, int], hflip: bool,
                g: torch.Generator) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """The arrays at the training resolution ``hw`` = (H, W) (then flipped at random when ``hflip``): rgb (3, H, W)
    in [-1, 1], depth (H, W) float32 m and valid (H, W) bool (finite, positive and valid in the source)."""
    arrays = {"rgb": resize_rgb(rgb0, hw), "depth": resize_depth_nearest(depth0, hw)}
    if valid0 is not None:
        arrays["valid"] = resize_depth_nearest(valid0, hw)
    if hflip:
        arrays = random_hflip(arrays, g)
    rgb_t = to_model_rgb(arrays["rgb"])  # (3, S, S)
    depth = arrays["depth"]
    valid = np.isfinite(depth) & (depth > 0)
    if "valid" in arrays:
        valid &= arrays["valid"]
    return rgb_t, depth, valid


def _palette_example(raw: dict[str, Any], recipe: Recipe, rgb_t: torch.Tensor, depth: np.ndarray,
                     valid: np.ndarray, source_hw: tuple[int, int], g: torch.Generator) -> dict[str, torch.Tensor]:
    """A Palette example: the stage's task (``inpaint``, else drawn from ``recipe.tasks``) made from the image;
    with ``diffusion.loss_region`` ``hole`` an inpaint / uncrop example scores only the hole."""
    h, w = train_hw(recipe)
    task = "inpaint" if recipe.stage == "inpaint" else draw_task(recipe.tasks, g)
    K = None
    if raw.get("K") is not None:  # intrinsics scaled to the model resolution (flip moves cx slightly: ignored)
        K = np.asarray(raw["K"], np.float64).copy()
        K[0] *= w / source_hw[1]
        K[1] *= h / source_hw[0]
    cond, aux, target, tid = make_task(task, rgb_t, g, recipe.tasks, depth=np.where(valid, depth, 0.0), K=K)
    scored = torch.ones(1, h, w, dtype=torch.bool)
    if recipe.diffusion.loss_region == "hole" and task in ("inpaint", "uncrop"):
        scored = aux > 0.5  # the sampler re-imposes the known pixels, so only the fill is learned
    return {"cond": torch.cat([cond, aux], 0), "target": target, "valid": scored, "task": torch.tensor(tid)}


def _depth_example(raw: dict[str, Any], recipe: Recipe, rgb_t: torch.Tensor, depth: np.ndarray, valid: np.ndarray,
                   source_hw: tuple[int, int], K0: np.ndarray | None) -> dict[str, torch.Tensor]:
    """A depth example: cond = rgb + aux (+ the FOV and aspect channels), target = the hole-filled depth in model space.

    K0: the camera (3, 3) of a camera-aware recipe's source view (``source_hw`` its size), else None. With it the
    depth is scaled to the canonical camera and cond gets the FOV (and aspect) channel when the recipe asks, and the
    example records ``K`` (3, 3) float32 at S x S.
    """
    r, (h, w) = recipe, train_hw(recipe)
    extra: dict[str, torch.Tensor] = {}
    aux = [torch.zeros(1, h, w)]
    if K0 is not None:
        focal = normalized_focal(source_hw, K0)
        if r.depth.canonical_fov_deg is not None:  # metric -> canonical-camera depth (0 stays 0)
            depth = (depth * canonical_scale(focal, r.depth.canonical_fov_deg)).astype(np.float32)
        if r.model.fov_conditioning:
            aux.append(torch.full((1, h, w), fov_channel(focal)))
        if r.model.aspect_conditioning:
            aux.append(torch.full((1, h, w), aspect_channel(source_hw, K0)))
        Ks = K0.copy()
        Ks[0] *= w / source_hw[1]
        Ks[1] *= h / source_hw[0]
        extra["K"] = torch.from_numpy(Ks).float()
    filled = _filled_depth(depth, valid, bool(raw.get("outdoor", False)), r)
    x = depth_to_model(torch.from_numpy(np.ascontiguousarray(filled)), r.depth.param, r.depth.d_min, r.depth.d_max)
    cond = torch.cat([rgb_t, *aux], 0)
    return {"cond": cond, "target": x[None].float(), "valid": torch.from_numpy(valid)[None],
            "task": torch.tensor(TASKS.index("depth")), **extra}


def _filled_depth(depth: np.ndarray, valid: np.ndarray, outdoor: bool, recipe: Recipe) -> np.ndarray:
    """(S, S) float32 m depth with its invalid pixels filled (``diffusion.infill``), kept at 0 (the ablation),
    or all ``d_max`` when nothing is valid."""
    if not valid.any():
        # Nothing to learn from: an all-invalid map contributes no loss (valid all False).
        return np.full_like(depth, recipe.depth.d_max)
    if recipe.diffusion.infill:
        return infill_depth(depth, valid, outdoor=outdoor, sky_depth=recipe.depth.d_max)
    return np.where(valid, depth, 0.0).astype(np.float32)  # ablation: holes stay at the far/near clip


def uses_camera(recipe: Recipe) -> bool:
    """True when a depth recipe uses the camera: FOV augmentation, the canonical camera or FOV conditioning."""
    return (recipe.data.fov_aug_prob > 0 or recipe.depth.canonical_fov_deg is not None
            or recipe.model.fov_conditioning or recipe.model.aspect_conditioning)


class StepBatchSampler(torch.utils.data.Sampler):
    """Infinite batches of ``(index, item_seed)`` keys starting at batch ``start_batch``.

    With ``world_size`` > 1 each process takes every ``world_size``-th batch (offset ``rank``).
    """

    def __init__(self, n: int, batch_size: int, seed: int, start_batch: int = 0, rank: int = 0, world_size: int = 1) -> None:
        if n < 1:
            raise ValueError("the training dataset is empty; check data.path")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start_batch, self.rank, self.world_size = start_batch, rank, world_size

    def _perm(self, epoch: int) -> torch.Tensor:
        return torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))

    def index(self, pos: int, cache: dict[int, torch.Tensor]) -> int:
        """The dataset index at stream position ``pos`` (``cache``: the current epoch's permutation)."""
        epoch, j = divmod(pos, self.n)
        if epoch not in cache:
            cache.clear()
            cache[epoch] = self._perm(epoch)
        return int(cache[epoch][j])

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        b = self.start_batch * self.world_size + self.rank
        cache: dict[int, torch.Tensor] = {}
        while True:
            keys = [(self.index(pos, cache), (self.seed * 7_919_113 + pos) % (2 ** 62))
                    for pos in range(b * self.batch_size, (b + 1) * self.batch_size)]
            yield keys
            b += self.world_size


class MixtureBatchSampler(StepBatchSampler):
    """``StepBatchSampler`` over a ``Mixture``: position ``pos`` takes source s with probability ``w_s / sum(w)``
    and a uniform item of it, drawn from ``(seed, pos)`` (so any position is known without the ones before)."""

    def __init__(self, mixture: Mixture, batch_size: int, seed: int, start_batch: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        super().__init__(len(mixture), batch_size, seed, start_batch, rank, world_size)
        self.sizes = np.array([len(d) for d in mixture.datasets])
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self.p = np.array(mixture.weights) / sum(mixture.weights)

    def index(self, pos: int, cache: dict[int, torch.Tensor]) -> int:
        rng = np.random.default_rng([self.seed, pos, 0x6D6978])
        s = int(rng.choice(len(self.p), p=self.p))
        return int(self.starts[s] + rng.integers(self.sizes[s]))


def make_loader(recipe: Recipe, start_batch: int = 0, rank: int = 0, world_size: int = 1,
                source: torch.utils.data.Dataset | None = None) -> torch.utils.data.DataLoader:
    """An infinite DataLoader of example batches for ``recipe`` beginning at micro-batch ``start_batch``."""
    raw = source if source is not None else build_source(recipe)
    ds = TrainingExamples(raw, recipe)
    args = (recipe.train.batch_size, recipe.train.seed, start_batch, rank, world_size)
    sampler = MixtureBatchSampler(raw, *args) if isinstance(raw, Mixture) else StepBatchSampler(len(ds), *args)
    nw = recipe.data.num_workers
    return torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=nw, persistent_workers=nw > 0)
