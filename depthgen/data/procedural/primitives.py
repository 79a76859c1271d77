"""Low-poly primitives built in vectorised batches, and a builder that accumulates them into one triangle soup.

World frame: metres, z up, the floor at z = 0. Every triangle carries the attributes the renderer needs:
object id (int), material id (int), base colour (linear RGB float32 in [0, 1]) and a texture offset (float32,
decorrelates the procedural texture between objects of the same material). Triangles wind counter-clockwise
seen from outside, so face normals point outwards.
"""

from __future__ import annotations

import functools

import numpy as np

# Unit box: corners in [-0.5, 0.5]^3, 12 outward-facing triangles.
_BOX_V = np.array([[x, y, z] for z in (-0.5, 0.5) for y in (-0.5, 0.5) for x in (-0.5, 0.5)], np.float64)
_BOX_F = np.array([
    [0, 2, 1], [1, 2, 3],  # bottom (z-)
    [4, 5, 6], [5, 7, 6],  # top (z+)
    [0, 1, 4], [1, 5, 4],  # y-
    [2, 6, 3], [3, 6, 7],  # y+
    [0, 4, 2], [2, 4, 6],  # x-
    [1, 3, 5], [3, 7, 5],  # x+
], np.int64)


def _rot_z(yaw: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations about +z by yaw radians."""
    c, s = np.cos(yaw), np.sin(yaw)
    r = np.zeros((len(yaw), 3, 3))
    r[:, 0, 0], r[:, 0, 1], r[:, 1, 0], r[:, 1, 1], r[:, 2, 2] = c, -s, s, c, 1.0
    return r


@functools.lru_cache(maxsize=64)
def _ring_prism(sides: int, cap_bottom: bool = True, cap_top: bool = True,
                top_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Unit prism/frustum: radius 1 at z = 0, ``top_scale`` at z = 1, ``sides`` facets, optional caps."""
    a = 2 * np.pi * np.arange(sides) / sides
    ring = np.stack([np.cos(a), np.sin(a), np.zeros(sides)], 1)
    top = ring * [top_scale, top_scale, 1] + [0, 0, 1]
    v = [ring, top, [[0, 0, 0]], [[0, 0, 1]]]
    i = np.arange(sides)
    j = (i + 1) % sides
    f = [np.stack([i, j, sides + i], 1), np.stack([j, sides + j, sides + i], 1)]
    if cap_bottom:
        f.append(np.stack([np.full(sides, 2 * sides), j, i], 1))
    if cap_top:
        f.append(np.stack([np.full(sides, 2 * sides + 1), sides + i, sides + j], 1))
    return np.concatenate(v).astype(np.float64), np.concatenate(f).astype(np.int64)


def _icosphere() -> tuple[np.ndarray, np.ndarray]:
    """Unit icosphere, one subdivision (42 vertices, 80 triangles)."""
    t = (1 + 5 ** 0.5) / 2
    v = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t], [0, -1, -t], [0, 1, -t],
                  [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], np.float64)
    f = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
                  [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5],
                  [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]], np.int64)
    verts, mid = list(v), {}

    def midpoint(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in mid:
            mid[key] = len(verts)
            verts.append((verts[a] + verts[b]) / 2)
        return mid[key]

    faces = []
    for a, b, c in f:
        ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
        faces += [[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]
    vv = np.array(verts)
    return vv / np.linalg.norm(vv, axis=1, keepdims=True), np.array(faces, np.int64)


_SPHERE = _icosphere()


class MeshBuilder:
    """Accumulates batches of primitives; ``finish()`` returns stacked arrays."""

    def __init__(self) -> None:
        self._v: list[np.ndarray] = []
        self._f: list[np.ndarray] = []
        self._attr: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._nv = 0

    def add(self, verts: np.ndarray, faces: np.ndarray, obj, mat, colour, tex=0.0) -> None:
        """Add ``n`` copies of a template: verts (n, k, 3), faces (m, 3) per copy (template indices).

        obj, mat, tex: scalar or (n,); colour: (3,) or (n, 3) linear RGB. Attributes repeat over each copy's
        faces (expanded once, in ``finish``)."""
        verts = np.asarray(verts, np.float64)
        n, k = verts.shape[:2]
        m = len(faces)
        if n == 0:
            return
        f = faces[None] + (self._nv + k * np.arange(n))[:, None, None]
        self._v.append(verts.reshape(-1, 3))
        self._f.append(f.reshape(-1, 3))
        self._nv += n * k
        self._attr.append((n, m, obj, mat, colour, tex))

    def boxes(self, centers, sizes, obj, mat, colour, yaw=0.0, tex=0.0) -> None:
        """Axis-aligned (then yawed about z around their centre) boxes: centers, sizes (n, 3) metres."""
        centers = np.atleast_2d(np.asarray(centers, np.float64))
        sizes = np.broadcast_to(np.asarray(sizes, np.float64), centers.shape)
        yaw = np.broadcast_to(np.asarray(yaw, np.float64), (len(centers),))
        local = _BOX_V[None] * sizes[:, None]
        v = np.einsum("nij,nkj->nki", _rot_z(yaw), local) + centers[:, None]
        self.add(v, _BOX_F, obj, mat, colour, tex)

    def cylinders(self, bottoms, radius, height, obj, mat, colour, sides: int = 8, top_scale: float = 1.0,
                  tex=0.0, caps: bool = True) -> None:
        """Vertical prisms (cylinders) or frustums/cones (``top_scale`` < 1) standing on ``bottoms`` (n, 3);
        ``caps=False`` leaves both ends open (lamp shades)."""
        bottoms = np.atleast_2d(np.asarray(bottoms, np.float64))
        n = len(bottoms)
        tv, tf = _ring_prism(int(sides), bool(caps), bool(caps and top_scale > 0), float(top_scale))
        r = np.broadcast_to(np.asarray(radius, np.float64), (n,))
        h = np.broadcast_to(np.asarray(height, np.float64), (n,))
        scale = np.stack([r, r, h], 1)
        self.add(tv[None] * scale[:, None] + bottoms[:, None], tf, obj, mat, colour, tex)

    def spheres(self, centers, radii, obj, mat, colour, tex=0.0) -> None:
        """Low-poly ellipsoids: centers (n, 3), radii (n,) or (n, 3)."""
        centers = np.atleast_2d(np.asarray(centers, np.float64))
        radii = np.asarray(radii, np.float64)
        radii = np.broadcast_to(radii[:, None] if radii.ndim == 1 else radii, centers.shape)
        tv, tf = _SPHERE
        self.add(tv[None] * radii[:, None] + centers[:, None], tf, obj, mat, colour, tex)

    def quads(self, corners, obj, mat, colour, tex=0.0) -> None:
        """Flat quads: corners (n, 4, 3) counter-clockwise seen from the side the normal points to."""
        corners = np.asarray(corners, np.float64).reshape(-1, 4, 3)
        self.add(corners, np.array([[0, 1, 2], [0, 2, 3]], np.int64), obj, mat, colour, tex)

    def grid(self, heights: np.ndarray, x0: float, y0: float, step: float, obj, mat, colour, tex=0.0) -> None:
        """A height field: heights (ny, nx) metres over the grid x0 + i*step, y0 + j*step (normals up)."""
        ny, nx = heights.shape
        ys, xs = np.mgrid[0:ny, 0:nx]
        v = np.stack([x0 + xs * step, y0 + ys * step, heights], -1).reshape(1, -1, 3)
        i = (ys[:-1, :-1] * nx + xs[:-1, :-1]).ravel()
        f = np.concatenate([np.stack([i, i + 1, i + nx + 1], 1), np.stack([i, i + nx + 1, i + nx], 1)])
        self.add(v, f, obj, mat, colour, tex)

    def finish(self, keys: tuple[str, ...] = ("tri_object", "tri_material", "tri_colour", "tri_tex")) -> dict[str, np.ndarray]:
        """vertices (n, 3) float64, triangles (m, 3) int64, tri_object (m,) int32, tri_material (m,) int32,
        tri_colour (m, 3) float32 linear RGB, tri_tex (m,) float32 (only the attributes named in ``keys``).
        The builder keeps its contents: more primitives can be added and ``finish`` called again."""
        if not self._v:
            raise ValueError("empty scene: no primitives were added")
        counts = np.array([n for n, *_ in self._attr])
        reps = np.repeat(np.array([m for _, m, *_ in self._attr]), counts)  # faces per copy

        def expand(i: int, dtype, width: int | None = None) -> np.ndarray:
            parts = []
            for a in self._attr:
                shape = (a[0],) if width is None else (a[0], width)
                parts.append(np.broadcast_to(np.asarray(a[i], dtype), shape))
            return np.repeat(np.concatenate(parts), reps, axis=0)

        spec = {"tri_object": (2, np.int32, None), "tri_material": (3, np.int32, None),
                "tri_colour": (4, np.float32, 3), "tri_tex": (5, np.float32, None)}
        out = {"vertices": np.concatenate(self._v), "triangles": np.concatenate(self._f)}
        out.update({k: expand(*spec[k]) for k in keys})
        return out
