"""A coloured triangle mesh as three arrays, and concatenation.

Why a plain dataclass: geometry code stays pure functions on arrays; Open3D and trimesh objects are made
only at the edges (rendering, clean-up, export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class Mesh:
    """Triangle mesh with per-vertex colours.

    vertices: (n, 3) float64 metres (world frame); faces: (m, 3) int64 vertex indices, counter-clockwise
    seen from the side the surface faces; colors: (n, 3) float32 in [0, 1].
    """

    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray

    def __post_init__(self) -> None:
        self.vertices = np.asarray(self.vertices, dtype=np.float64).reshape(-1, 3)
        self.faces = np.asarray(self.faces, dtype=np.int64).reshape(-1, 3)
        self.colors = np.asarray(self.colors, dtype=np.float32).reshape(-1, 3)
        if len(self.colors) != len(self.vertices):
            raise ValueError(f"mesh has {len(self.vertices)} vertices but {len(self.colors)} colours")

    @classmethod
    def empty(cls) -> "Mesh":
        """A mesh with no vertices and no faces."""
        return cls(np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.float32))

    @property
    def n_vertices(self) -> int:
        return int(len(self.vertices))

    @property
    def n_faces(self) -> int:
        return int(len(self.faces))

    def transformed(self, transform: np.ndarray) -> "Mesh":
        """The mesh with vertices mapped by a (4, 4) rigid transform (faces and colours unchanged)."""
        t = np.asarray(transform, dtype=np.float64)
        return Mesh(self.vertices @ t[:3, :3].T + t[:3, 3], self.faces.copy(), self.colors.copy())


def concat_meshes(meshes: Sequence[Mesh]) -> Mesh:
    """One mesh holding all of ``meshes`` (face indices offset; no vertices merged)."""
    meshes = [m for m in meshes if m.n_vertices > 0]
    if not meshes:
        return Mesh.empty()
    offsets = np.cumsum([0] + [m.n_vertices for m in meshes[:-1]])
    return Mesh(
        np.concatenate([m.vertices for m in meshes]),
        np.concatenate([m.faces + off for m, off in zip(meshes, offsets)]),
        np.concatenate([m.colors for m in meshes]),
    )
