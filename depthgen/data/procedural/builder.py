"""SceneBuilder: the state shared by the grammar while one scene is built (mesh, objects, lights, rng),
with helpers that place parts in an object's local frame.

Local frame of a placed object: origin on the floor at (x, y, z0), local +x to its right, local +y the
direction it faces (its front), +z up; ``yaw`` rotates local into world about z.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.materials import MAT, colour
from depthgen.data.procedural.primitives import MeshBuilder
from depthgen.data.procedural.scene import Light, Scene, SceneObject


class SceneBuilder:
    """Accumulates one scene. ``rng`` is the scene's only source of randomness."""

    def __init__(self, seed: int, scene_type: str, outdoor: bool, rng: np.random.Generator) -> None:
        self.seed, self.scene_type, self.outdoor, self.rng = seed, scene_type, outdoor, rng
        self.mesh = MeshBuilder()
        self.objects: list[SceneObject] = []
        self.lights: list[Light] = []
        self.ambient = np.array([0.3, 0.3, 0.3])
        self.sky: dict | None = None
        self.camera: dict = {}
        self.mood = ""
        self.adjectives: tuple[str, ...] = ()

    # --- objects -------------------------------------------------------------------------------------------
    def new_object(self, category: str, colour_name: str | None = None, material: str | None = None,
                   words: tuple[str, ...] = (), structural: bool = False) -> int:
        """Register a captionable object; returns its id."""
        oid = len(self.objects)
        self.objects.append(SceneObject(oid, category, colour_name, material, tuple(words), structural))
        return oid

    def tex(self) -> float:
        """A fresh texture offset (decorrelates textures between objects)."""
        return float(self.rng.uniform(0, 100))

    def col(self, name: str) -> np.ndarray:
        """Linear RGB of a palette colour with a little jitter."""
        return colour(name, self.rng)

    # --- parts in a local frame -------------------------------------------------------------------------------
    @staticmethod
    def to_world(x: float, y: float, yaw: float, local: np.ndarray, z0: float = 0.0) -> np.ndarray:
        """Local points (n, 3) -> world (n, 3) for an object at (x, y, z0) with ``yaw``."""
        local = np.atleast_2d(np.asarray(local, np.float64))
        c, s = np.cos(yaw), np.sin(yaw)
        out = np.empty_like(local)
        out[:, 0] = x + c * local[:, 0] - s * local[:, 1]
        out[:, 1] = y + s * local[:, 0] + c * local[:, 1]
        out[:, 2] = z0 + local[:, 2]
        return out

    def boxes(self, x: float, y: float, yaw: float, centres, sizes, obj, mat: str, rgb, z0: float = 0.0,
              tex: float | None = None) -> None:
        """Boxes given by local centres (n, 3) and sizes (n, 3), material name, linear colour(s)."""
        c = self.to_world(x, y, yaw, centres, z0)
        self.mesh.boxes(c, sizes, obj, MAT[mat], rgb, yaw=yaw, tex=self.tex() if tex is None else tex)

    def cylinders(self, x: float, y: float, yaw: float, bottoms, radius, height, obj, mat: str, rgb,
                  z0: float = 0.0, sides: int = 8, top_scale: float = 1.0, caps: bool = True) -> None:
        """Vertical cylinders / frustums standing on local points ``bottoms`` (n, 3)."""
        b = self.to_world(x, y, yaw, bottoms, z0)
        self.mesh.cylinders(b, radius, height, obj, MAT[mat], rgb, sides=sides, top_scale=top_scale,
                            tex=self.tex(), caps=caps)

    def spheres(self, x: float, y: float, yaw: float, centres, radii, obj, mat: str, rgb, z0: float = 0.0) -> None:
        """Low-poly ellipsoids at local centres (n, 3) with radii (n,) or (n, 3)."""
        self.mesh.spheres(self.to_world(x, y, yaw, centres, z0), radii, obj, MAT[mat], rgb, tex=self.tex())

    def quad(self, corners, obj, mat: str, rgb) -> None:
        """One world-space quad (4, 3), counter-clockwise seen from the front."""
        self.mesh.quads(np.asarray(corners, np.float64)[None], obj, MAT[mat], rgb, tex=self.tex())

    def point_light(self, pos, rgb, intensity: float, radius: float = 2.5) -> None:
        self.lights.append(Light("point", np.asarray(rgb, np.float64) * intensity, position=np.asarray(pos, float),
                                 radius=radius))

    def finish(self) -> Scene:
        arrays = self.mesh.finish()
        return Scene(seed=self.seed, scene_type=self.scene_type, outdoor=self.outdoor, objects=self.objects,
                     lights=self.lights, ambient=np.asarray(self.ambient, np.float64), sky=self.sky,
                     camera=self.camera, mood=self.mood, adjectives=self.adjectives, **arrays)


WARM = np.array([1.0, 0.78, 0.52])
NEUTRAL = np.array([1.0, 0.95, 0.88])
COOL = np.array([0.85, 0.92, 1.0])
