"""The Scene: one triangle soup with per-triangle attributes, its objects, lights and sky.

A scene is built by ``build_scene(seed)`` (see ``grammar``); renders come from ``render_view``. The Open3D
ray-casting scene is built lazily and cached (not pickled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


# Opinion / size / shape words come before the colour; material and purpose words after it.
PRE_COLOUR_WORDS = frozenset({"tall", "large", "small", "round", "flat", "framed", "parked", "colourful", "rocky",
                              "old", "big", "long"})


def noun_phrase(noun: str, colour: str | None, words: tuple[str, ...] = ()) -> str:
    """Adjectives in English order: size/shape words, the colour, then material/purpose words
    ("a tall red wooden bookshelf", "a tan student desk", "a brown double bed")."""
    pre = [w for w in words if w in PRE_COLOUR_WORDS]
    post = [w for w in words if w not in PRE_COLOUR_WORDS]
    return " ".join(pre + ([colour] if colour else []) + post + [noun])


@dataclass
class SceneObject:
    """One captionable thing. ``id`` indexes ``Scene.objects`` and the per-pixel ``object_id`` maps.

    category: noun ("bookshelf", "wall"); colour: palette name of its main colour or None; material: material
    name of its main part; words: caption phrase parts (e.g. ["tall", "wooden"]); structural: walls, floor,
    ceiling, ground (named through the scene type, not listed as furniture)."""

    id: int
    category: str
    colour: str | None = None
    material: str | None = None
    words: tuple[str, ...] = ()
    structural: bool = False

    def phrase(self, with_colour: bool = True) -> str:
        """"a red armchair", "tall wooden bookshelves" style noun phrase (without article)."""
        return noun_phrase(self.category, self.colour if with_colour else None, self.words)


@dataclass
class Light:
    """kind "point" (position (3,) m, falloff radius m) or "sun" (direction (3,) towards the light).
    colour: (3,) linear RGB intensity (1 = a white surface facing the light at the falloff radius is white)."""

    kind: str
    colour: np.ndarray
    position: np.ndarray | None = None
    direction: np.ndarray | None = None
    radius: float = 2.5


@dataclass
class Scene:
    """Geometry + appearance of one procedural scene (world frame: metres, z up).

    vertices (n, 3) float64; triangles (m, 3) int64; tri_object / tri_material (m,) int32; tri_colour (m, 3)
    float32 linear RGB; tri_tex (m,) float32 texture offsets; objects: SceneObject per id; lights;
    ambient (3,) linear RGB; sky: None indoors, else {"zenith", "horizon", "sun_dir"}; camera: sampling hints
    for ``camera.sample_camera``; mood: lighting words for captions ("warm evening light")."""

    seed: int
    scene_type: str
    outdoor: bool
    vertices: np.ndarray
    triangles: np.ndarray
    tri_object: np.ndarray
    tri_material: np.ndarray
    tri_colour: np.ndarray
    tri_tex: np.ndarray
    objects: list[SceneObject]
    lights: list[Light]
    ambient: np.ndarray
    sky: dict[str, Any] | None = None
    camera: dict[str, Any] = field(default_factory=dict)
    mood: str = ""
    adjectives: tuple[str, ...] = ()
    realism: Any = None  # the RealismConfig the scene was built with (None: the plain engine)
    _raycaster: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_raycaster"] = None
        return state

    def raycaster(self):
        """The cached ``open3d.t.geometry.RaycastingScene`` of all triangles (one geometry; primitive ids
        index ``triangles``)."""
        if self._raycaster is None:
            import open3d as o3d

            rc = o3d.t.geometry.RaycastingScene()
            rc.add_triangles(o3d.core.Tensor(np.ascontiguousarray(self.vertices, np.float32)),
                             o3d.core.Tensor(np.ascontiguousarray(self.triangles, np.uint32)))
            self._raycaster = rc
        return self._raycaster

    @property
    def face_normals(self) -> np.ndarray:
        """(m, 3) float64 unit normals of the triangles (winding order)."""
        v = self.vertices[self.triangles]
        nrm = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        return nrm / np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounds (min (3,), max (3,)) in metres."""
        return self.vertices.min(0), self.vertices.max(0)

    def object_names(self) -> list[str]:
        """Category of every object, indexed by id."""
        return [o.category for o in self.objects]

    def mesh(self, max_edge: float = 0.1, max_faces: int = 1_000_000,
             shadows: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The whole scene as a vertex-coloured mesh: V (n, 3) float64 m, F (k, 3) int64, C (n, 3) float [0, 1].

        Each triangle is subdivided on its own (vertices shared within it, not across triangles, so a vertex has
        one material) until edges are at most ``max_edge`` metres (coarser when the face count would pass
        ``max_faces``); each vertex gets the shaded colour the renderer gives that surface point (textures,
        lights, shadows, with the face's outward normal; sky not included)."""
        from depthgen.data.procedural.shading import shade_points

        v = self.vertices[self.triangles].reshape(-1, 3)  # unshared corners
        f = np.arange(len(v)).reshape(-1, 3)
        tri = np.arange(len(self.triangles))
        edge = max_edge
        for _ in range(8):
            est = _subdivided_count(v, f, edge)
            if est <= max_faces:
                break
            edge *= 1.5
        v, f, vtri = _subdivide(v, f, tri, edge)
        colours = shade_points(self, v, self.face_normals[vtri], vtri, shadows=shadows)
        return v, f, colours


def _edge_splits(v: np.ndarray, f: np.ndarray, max_edge: float) -> np.ndarray:
    """Subdivision level per triangle: ceil(longest edge / max_edge), at least 1."""
    t = v[f]
    e = np.linalg.norm(t - t[:, [1, 2, 0]], axis=2).max(1)
    return np.maximum(np.ceil(e / max_edge), 1).astype(np.int64)


def _subdivided_count(v: np.ndarray, f: np.ndarray, max_edge: float) -> int:
    return int((_edge_splits(v, f, max_edge) ** 2).sum())


def _subdivide(v: np.ndarray, f: np.ndarray, tri: np.ndarray, max_edge: float):
    """Split each triangle into k^2 (k per triangle) by barycentric grids.

    Returns V (n, 3), F (m, 3) and the source triangle of every vertex (n,) (grids share no vertices)."""
    k_all = _edge_splits(v, f, max_edge)
    out_v, out_f, out_t, base = [], [], [], 0
    for k in np.unique(k_all):
        sel = np.nonzero(k_all == k)[0]
        bary, faces = _bary_grid(int(k))
        corners = v[f[sel]]  # (s, 3, 3)
        pts = np.einsum("bk,skd->sbd", bary, corners)  # (s, nb, 3)
        nb = len(bary)
        out_v.append(pts.reshape(-1, 3))
        out_f.append((faces[None] + (base + nb * np.arange(len(sel)))[:, None, None]).reshape(-1, 3))
        out_t.append(np.repeat(tri[sel], nb))
        base += nb * len(sel)
    return np.concatenate(out_v), np.concatenate(out_f), np.concatenate(out_t)


def _bary_grid(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric points of a triangle split k x k and its k^2 sub-triangles (same winding)."""
    idx, pts = {}, []
    for i in range(k + 1):
        for j in range(k + 1 - i):
            idx[i, j] = len(pts)
            pts.append([1 - (i + j) / k, i / k, j / k])
    faces = []
    for i in range(k):
        for j in range(k - i):
            faces.append([idx[i, j], idx[i + 1, j], idx[i, j + 1]])
            if i + j + 1 < k:
                faces.append([idx[i + 1, j], idx[i + 1, j + 1], idx[i, j + 1]])
    return np.array(pts), np.array(faces, np.int64)
