"""Procedural RGB-D scenes with captions and exact ground truth (issue #3).

Scenes come from a grammar (``indoor``: 9 room types, ``outdoor``: street, park, forest, beach, hills) built
from low-poly primitives with procedural textures; ``render`` ray-casts them with Open3D (z-depth, normals,
object / material ids, shaded RGB with shadows, sky); ``sensors`` adds Kinect / LiDAR artefacts; ``captions``
describes what is in view. See docs/ARCHITECTURE.md ("Procedural data") for the contract.

    from depthgen.data.procedural import generate_sample, build_scene, render_view, split_seed
    s = generate_sample(split_seed("train", 0), size=(64, 64), sensor="kinect")
    scene = build_scene(seed); V, F, C = scene.mesh()
    view = render_view(scene, s["K"], s["cam_to_world"], size=(64, 64))

Shards: ``python -m depthgen.data.procedural --out DIR --n N --size 64x64 --split train --sensor kinect``;
read with ``ShardDataset(DIR)``; on-the-fly: ``ProceduralDataset(split, size, sensor)``.
Open3D is imported inside functions only.
"""

from depthgen.data.procedural.dataset import ProceduralDataset, ShardDataset
from depthgen.data.procedural.sample import (SCENE_TYPES, SPLITS, build_scene, choose_scene_type, generate_sample,
                                             render_view, split_seed)
from depthgen.data.procedural.scene import Scene

__all__ = ["generate_sample", "build_scene", "render_view", "split_seed", "ProceduralDataset", "ShardDataset",
           "Scene", "SCENE_TYPES", "SPLITS", "choose_scene_type"]
