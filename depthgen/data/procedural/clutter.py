"""Realism dressing of a built room: posters on the walls and small objects on tables, counters and shelves.

Real rooms are full of small things; the grammar's rooms hold only furniture. ``dress_room`` adds, after the
room is built and before the scene is finished:
- posters: a paper sheet with a printed layout (``textures._poster``), 0.3-0.8 m wide, at eye height, only
  where the wall is clear for 30 cm in front of every part of it (checked by ray casting, so no poster lands
  on a window, a doorway or behind a wardrobe);
- clutter: mugs, bottles, bowls, stacks of books, boxes, vases, pot plants and fruit on upward-facing
  furniture surfaces 0.25-2.2 m high; an item is placed only where rays cast down over its footprint from
  just above its top all land on the supporting surface at the expected distance (the surface is under the
  whole footprint and nothing, such as a shelf board, is in the way), and apart from items already placed.
Draws come from the realism streams (``realism.STREAMS["clutter"]``), never from the scene's own generator, so
the room itself is the same with and without dressing. Items are captionable objects ("a blue mug").
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.builder import SceneBuilder
from depthgen.data.procedural.materials import BOOK_COLOURS, FABRIC_COLOURS, MAT, colour, pick

NO_SUPPORT = ("glass", "lamp", "screen", "mirror", "water", "leaves")
ITEMS = ("mug", "bottle", "bowl", "books", "box", "vase", "pot plant", "fruit")
POSTER_COLOURS = ("red", "blue", "teal", "orange", "yellow", "green", "purple", "navy", "pink", "mustard")


def _raycaster(arrays: dict):
    import open3d as o3d

    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(np.ascontiguousarray(arrays["vertices"], np.float32)),
                     o3d.core.Tensor(np.ascontiguousarray(arrays["triangles"], np.uint32)))
    return rc


def _cast(rc, origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t_hit (n,), primitive id (n,)) of rays origins + t * dirs (n, 3)."""
    import open3d as o3d

    rays = np.concatenate([origins, dirs], 1).astype(np.float32)
    ans = rc.cast_rays(o3d.core.Tensor(rays), nthreads=1)
    return ans["t_hit"].numpy(), ans["primitive_ids"].numpy().astype(np.int64)


def _faces(arrays: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals (m, 3), centroids (m, 3) and areas (m,) of the triangles."""
    t = arrays["vertices"][arrays["triangles"]]
    cr = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    area = 0.5 * np.linalg.norm(cr, axis=1)
    return cr / np.maximum(2 * area[:, None], 1e-12), t.mean(1), area


def _point_on(arrays: dict, tri: int, rng: np.random.Generator) -> np.ndarray:
    a, b = rng.random(2)
    if a + b > 1:
        a, b = 1 - a, 1 - b
    v = arrays["vertices"][arrays["triangles"][tri]]
    return v[0] + a * (v[1] - v[0]) + b * (v[2] - v[0])


def add_posters(b: SceneBuilder, arrays: dict, rc, rng: np.random.Generator, max_posters: int = 3) -> int:
    """Posters on clear stretches of wall; returns how many were placed."""
    walls = [o.id for o in b.objects if o.category == "walls"]
    if not walls:
        return 0
    normal, _, area = _faces(arrays)
    cand = np.flatnonzero((arrays["tri_object"] == walls[0]) & (np.abs(normal[:, 2]) < 0.1) & (area > 0.05))
    if cand.size == 0:
        return 0
    W, D, H = b.camera["room"]
    centre = np.array([W / 2, D / 2, H / 2])
    placed: list[tuple[np.ndarray, float]] = []
    want = int(rng.integers(0, max_posters + 1))
    for _ in range(8 * want):
        if len(placed) >= want:
            break
        tri = int(rng.choice(cand, p=area[cand] / area[cand].sum()))
        p = _point_on(arrays, tri, rng)
        w = rng.uniform(0.3, 0.8)
        h = w * (rng.uniform(1.1, 1.5) if rng.random() < 0.7 else rng.uniform(0.6, 0.8))
        p[2] = rng.uniform(1.2, 1.8)
        n = normal[tri] * (1.0 if np.dot(normal[tri], centre - p) > 0 else -1.0)
        a = np.cross([0.0, 0.0, 1.0], n)
        a /= np.linalg.norm(a)
        colour_name = POSTER_COLOURS[int(rng.integers(len(POSTER_COLOURS)))]
        paper, tex = pick(rng, ["white", "cream", "light grey"]), float(rng.uniform(0, 100))
        if p[2] + h / 2 > H - 0.1 or any(np.linalg.norm(p - q) < (w + r) * 0.75 for q, r in placed):
            continue
        su, sv = np.meshgrid([-0.5, 0.0, 0.5], [-0.5, 0.0, 0.5])
        grid = p + su.reshape(-1, 1) * w * a + sv.reshape(-1, 1) * h * np.array([0.0, 0.0, 1.0])
        t, prim = _cast(rc, grid + 0.3 * n, np.broadcast_to(-n, grid.shape))
        if not (np.all(np.abs(t - 0.3) < 0.01) and np.all(arrays["tri_object"][np.maximum(prim, 0)] == walls[0])):
            continue
        oid = b.new_object("poster", colour_name, "poster")
        up = np.array([0.0, 0.0, 1.0])
        for off, sw, sh, mat, col in ((0.004, w, h, "paper", colour(paper, rng)),
                                      (0.007, w * 0.88, h * 0.88, "poster", colour(colour_name, rng))):
            c = p + off * n
            corners = [c - a * sw / 2 - up * sh / 2, c + a * sw / 2 - up * sh / 2, c + a * sw / 2 + up * sh / 2,
                       c - a * sw / 2 + up * sh / 2]
            b.mesh.quads(np.array(corners)[None], oid, MAT[mat], col, tex=tex)
        placed.append((p, w))
    return len(placed)


def _item(rng: np.random.Generator) -> tuple[str, float, float]:
    """(kind, footprint radius m, height m) of a random clutter item."""
    kind = ITEMS[int(rng.integers(len(ITEMS)))]
    size = {"mug": (0.045, 0.1), "bottle": (0.04, 0.3), "bowl": (0.11, 0.07), "books": (0.14, 0.1),
            "box": (0.13, 0.2), "vase": (0.06, 0.25), "pot plant": (0.1, 0.32), "fruit": (0.09, 0.05)}[kind]
    s = rng.uniform(0.75, 1.25)
    return kind, size[0] * s, size[1] * s


def _build_item(b: SceneBuilder, kind: str, x: float, y: float, z: float, r: float, h: float,
                rng: np.random.Generator) -> None:
    m = b.mesh
    tex = float(rng.uniform(0, 100))
    if kind == "books":
        n = int(rng.integers(1, 4))
        name = pick(rng, BOOK_COLOURS)
        oid = b.new_object("books", name if n == 1 else None, "paper")
        th = h / n
        for i in range(n):
            m.boxes([[x, y, z + th * (i + 0.5)]], [[1.3 * r, 0.95 * r, th * 0.95]], oid, MAT["paper"],
                    colour(pick(rng, BOOK_COLOURS), rng), yaw=rng.uniform(0, np.pi), tex=tex)
        return
    if kind == "fruit":
        name = pick(rng, ["orange", "red", "yellow", "green"])
        oid = b.new_object("fruit", name, "plastic")
        k = int(rng.integers(1, 4))
        ang = rng.uniform(0, 2 * np.pi) + np.arange(k) * 2 * np.pi / 3
        cent = np.stack([x + 0.5 * r * np.cos(ang) * (k > 1), y + 0.5 * r * np.sin(ang) * (k > 1),
                         np.full(k, z + h * 0.45)], 1)
        m.spheres(cent, np.full(k, h * 0.5), oid, MAT["plastic"], colour(name, rng), tex=tex)
        return
    spec = {"mug": ("ceramic", ["white", "red", "blue", "black", "yellow", "teal", "cream"], 1.0),
            "bottle": ("plastic", ["green", "dark green", "brown", "blue", "light blue", "white"], 1.0),
            "bowl": ("ceramic", ["white", "cream", "light blue", "terracotta", "grey"], 1.5),
            "box": ("paper", ["tan", "brown", "white", "beige"], 1.0),
            "vase": ("ceramic", ["white", "blue", "teal", "terracotta", "black", "mustard"], 0.6),
            "pot plant": ("ceramic", ["terracotta", "white", "grey"], 1.0)}[kind]
    mat, names, top = spec
    name = pick(rng, names)
    oid = b.new_object(kind, name, mat)
    col = colour(name, rng)
    if kind == "box":
        m.boxes([[x, y, z + h / 2]], [[1.3 * r, 1.1 * r, h]], oid, MAT[mat], col, yaw=rng.uniform(0, np.pi), tex=tex)
    elif kind == "bottle":
        m.cylinders([[x, y, z]], r, 0.7 * h, oid, MAT[mat], col, sides=8, tex=tex)
        m.cylinders([[x, y, z + 0.7 * h]], r, 0.3 * h, oid, MAT[mat], col, sides=8, top_scale=0.35, tex=tex)
    elif kind == "pot plant":
        m.cylinders([[x, y, z]], 0.6 * r, 0.35 * h, oid, MAT[mat], col, sides=8, top_scale=1.2, tex=tex)
        m.spheres([[x, y, z + 0.65 * h]], np.array([[r, r, 0.35 * h]]), oid, MAT["leaves"],
                  colour(pick(rng, ["green", "dark green", "olive"]), rng), tex=tex)
    else:
        m.cylinders([[x, y, z]], r / max(top, 1.0), h, oid, MAT[mat], col, sides=10, top_scale=top, tex=tex)


def add_clutter(b: SceneBuilder, arrays: dict, rc, rng: np.random.Generator, max_items: int = 14) -> int:
    """Small objects on furniture tops; returns how many were placed."""
    normal, cent, area = _faces(arrays)
    structural = np.array([o.structural for o in b.objects], bool)
    no_support = np.isin(arrays["tri_material"], [MAT[m] for m in NO_SUPPORT])
    cand = np.flatnonzero((normal[:, 2] > 0.95) & (cent[:, 2] > 0.25) & (cent[:, 2] < 2.2) & (area > 0.005)
                          & ~structural[arrays["tri_object"]] & ~no_support)
    if cand.size == 0:
        return 0
    placed: list[tuple[float, float, float, float]] = []
    want = int(rng.integers(3, max_items + 1))
    weights = np.sqrt(area[cand])  # favour small tops too (shelves, side tables), not only the largest table
    weights /= weights.sum()
    for _ in range(6 * want):
        if len(placed) >= want:
            break
        tri = int(rng.choice(cand, p=weights))
        x, y, z = _point_on(arrays, tri, rng)
        kind, r, h = _item(rng)
        if any(np.hypot(x - px, y - py) < r + pr + 0.01 and abs(z - pz) < 0.05 for px, py, pz, pr in placed):
            continue
        ang = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        foot = np.stack([x + np.r_[0, r * np.cos(ang)], y + np.r_[0, r * np.sin(ang)], np.full(7, z)], 1)
        lift = h + 0.03
        t, _ = _cast(rc, foot + [0.0, 0.0, lift], np.broadcast_to([0.0, 0.0, -1.0], foot.shape))
        if not np.all(np.abs(t - lift) < 0.006):
            continue
        _build_item(b, kind, float(x), float(y), float(z), r, h, rng)
        placed.append((float(x), float(y), float(z), r))
    return len(placed)


def dress_room(b: SceneBuilder, posters: bool, clutter: bool, seed: int) -> None:
    """Posters and / or clutter for an indoor scene under construction (outdoor scenes are left alone)."""
    if b.outdoor or not (posters or clutter):
        return
    from depthgen.data.procedural.realism import STREAMS

    arrays = b.mesh.finish()
    rc = _raycaster(arrays)
    if posters:
        add_posters(b, arrays, rc, np.random.default_rng([int(seed), STREAMS["clutter"], 0]))
    if clutter:
        add_clutter(b, arrays, rc, np.random.default_rng([int(seed), STREAMS["clutter"], 1]))
