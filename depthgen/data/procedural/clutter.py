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
# footprint radius, height (metres) before a 0.75-1.25 x scale
ITEM_SIZE = {"mug": (0.045, 0.1), "bottle": (0.04, 0.3), "bowl": (0.11, 0.07), "books": (0.14, 0.1),
             "box": (0.13, 0.2), "vase": (0.06, 0.25), "pot plant": (0.1, 0.32), "fruit": (0.09, 0.05)}
POSTER_COLOURS = ("red", "blue", "teal", "orange", "yellow", "green", "purple", "navy", "pink", "mustard")


def _raycaster(arrays: dict):
    import open3d as o3d

    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(np.ascontiguousarray(arrays["vertices"], np.float32)),
                     o3d.core.Tensor(np.ascontiguousarray(arrays["triangles"], np.uint32)))
    return rc


def _cast(rc, origins: np.ndarray, dirs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t_hit (n,) inf on a miss, primitive id (n,) -1 on a miss) of rays origins + t * dirs (n, 3)."""
    import open3d as o3d

    rays = np.concatenate([origins, dirs], 1).astype(np.float32)
    ans = rc.cast_rays(o3d.core.Tensor(rays), nthreads=1)
    t = ans["t_hit"].numpy()
    return t, np.where(np.isfinite(t), ans["primitive_ids"].numpy().astype(np.int64), -1)


def _faces(arrays: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normals (m, 3), centroids (m, 3) and areas (m,) of the triangles."""
    t = arrays["vertices"][arrays["triangles"]]
    cr = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    area = 0.5 * np.linalg.norm(cr, axis=1)
    return cr / np.maximum(2 * area[:, None], 1e-12), t.mean(1), area


def add_posters(b: SceneBuilder, arrays: dict, faces: tuple, rc, rng: np.random.Generator,
                max_posters: int = 3) -> int:
    """Posters on clear stretches of wall; returns how many were placed. Candidates are drawn and ray-tested
    in one batch, then accepted in order while they keep apart from earlier posters."""
    walls = [o.id for o in b.objects if o.category == "walls"]
    if not walls:
        return 0
    normal, _, area = faces
    cand = np.flatnonzero((arrays["tri_object"] == walls[0]) & (np.abs(normal[:, 2]) < 0.1) & (area > 0.05))
    want = int(rng.integers(0, max_posters + 1))
    if cand.size == 0 or want == 0:
        return 0
    W, D, H = b.camera["room"]
    n = 8 * want
    tri = cand[np.minimum(np.searchsorted(np.cumsum(area[cand]) / area[cand].sum(), rng.random(n)), cand.size - 1)]
    ab = rng.random((n, 2))
    ab = np.where(ab.sum(1, keepdims=True) > 1, 1 - ab, ab)
    v = arrays["vertices"][arrays["triangles"][tri]]
    p = v[:, 0] + ab[:, :1] * (v[:, 1] - v[:, 0]) + ab[:, 1:] * (v[:, 2] - v[:, 0])
    p[:, 2] = rng.uniform(1.2, 1.8, n)
    w = rng.uniform(0.3, 0.8, n)
    h = w * np.where(rng.random(n) < 0.7, rng.uniform(1.1, 1.5, n), rng.uniform(0.6, 0.8, n))
    nrm = normal[tri] * np.where(np.einsum("ij,ij->i", normal[tri], [W / 2, D / 2, H / 2] - p) > 0, 1.0, -1.0)[:, None]
    a = np.cross([0.0, 0.0, 1.0], nrm)
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    su, sv = (g.ravel() for g in np.meshgrid([-0.5, 0.0, 0.5], [-0.5, 0.0, 0.5]))
    grid = (p[:, None] + su[None, :, None] * (w[:, None, None] * a[:, None])
            + sv[None, :, None] * h[:, None, None] * np.array([0.0, 0.0, 1.0]))  # (n, 9, 3)
    t, prim = _cast(rc, (grid + 0.3 * nrm[:, None]).reshape(-1, 3), np.repeat(-nrm, 9, axis=0))
    on_wall = arrays["tri_object"][np.maximum(prim, 0)] == walls[0]
    clear = ((np.abs(t - 0.3) < 0.01) & on_wall).reshape(n, 9).all(1) & (p[:, 2] + h / 2 < H - 0.1)
    placed: list[tuple[np.ndarray, float]] = []
    up = np.array([0.0, 0.0, 1.0])
    for i in np.flatnonzero(clear):
        if len(placed) >= want:
            break
        if any(np.linalg.norm(p[i] - q) < (w[i] + r) * 0.75 for q, r in placed):
            continue
        colour_name = POSTER_COLOURS[int(rng.integers(len(POSTER_COLOURS)))]
        paper, tex = pick(rng, ["white", "cream", "light grey"]), float(rng.uniform(0, 100))
        oid = b.new_object("poster", colour_name, "poster")
        for off, sw, sh, mat, col in ((0.004, w[i], h[i], "paper", colour(paper, rng)),
                                      (0.007, w[i] * 0.88, h[i] * 0.88, "poster", colour(colour_name, rng))):
            c = p[i] + off * nrm[i]
            corners = [c - a[i] * sw / 2 - up * sh / 2, c + a[i] * sw / 2 - up * sh / 2,
                       c + a[i] * sw / 2 + up * sh / 2, c - a[i] * sw / 2 + up * sh / 2]
            b.mesh.quads(np.array(corners)[None], oid, MAT[mat], col, tex=tex)
        placed.append((p[i], float(w[i])))
    return len(placed)


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


def add_clutter(b: SceneBuilder, arrays: dict, faces: tuple, rc, rng: np.random.Generator,
                max_items: int = 14) -> int:
    """Small objects on furniture tops; returns how many were placed. All candidate placements are drawn and
    ray-tested in one batch, then accepted in order while they do not overlap earlier items."""
    normal, cent, area = faces
    structural = np.array([o.structural for o in b.objects], bool)
    no_support = np.isin(arrays["tri_material"], [MAT[m] for m in NO_SUPPORT])
    cand = np.flatnonzero((normal[:, 2] > 0.95) & (cent[:, 2] > 0.25) & (cent[:, 2] < 2.2) & (area > 0.005)
                          & ~structural[arrays["tri_object"]] & ~no_support)
    if cand.size == 0:
        return 0
    want = int(rng.integers(3, max_items + 1))
    n = 6 * want
    weights = np.sqrt(area[cand])  # favour small tops too (shelves, side tables), not only the largest table
    tri = cand[np.minimum(np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n)), cand.size - 1)]
    ab = rng.random((n, 2))
    ab = np.where(ab.sum(1, keepdims=True) > 1, 1 - ab, ab)
    v = arrays["vertices"][arrays["triangles"][tri]]  # (n, 3, 3)
    pts = v[:, 0] + ab[:, :1] * (v[:, 1] - v[:, 0]) + ab[:, 1:] * (v[:, 2] - v[:, 0])
    kinds = rng.integers(len(ITEMS), size=n)
    scale = rng.uniform(0.75, 1.25, n)
    r = np.array([ITEM_SIZE[ITEMS[k]][0] for k in kinds]) * scale
    h = np.array([ITEM_SIZE[ITEMS[k]][1] for k in kinds]) * scale
    ang = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    dx = np.concatenate([np.zeros((n, 1)), r[:, None] * np.cos(ang)[None]], 1)  # (n, 7) footprint offsets
    dy = np.concatenate([np.zeros((n, 1)), r[:, None] * np.sin(ang)[None]], 1)
    lift = h + 0.03
    origins = np.stack([pts[:, :1] + dx, pts[:, 1:2] + dy, np.broadcast_to((pts[:, 2] + lift)[:, None], dx.shape)], -1)
    t, _ = _cast(rc, origins.reshape(-1, 3), np.broadcast_to([0.0, 0.0, -1.0], (n * 7, 3)))
    fits = np.all(np.abs(t.reshape(n, 7) - lift[:, None]) < 0.006, axis=1)
    placed: list[tuple[float, float, float, float]] = []
    for i in np.flatnonzero(fits):
        if len(placed) >= want:
            break
        x, y, z = (float(c) for c in pts[i])
        if any(np.hypot(x - px, y - py) < r[i] + pr + 0.01 and abs(z - pz) < 0.05 for px, py, pz, pr in placed):
            continue
        _build_item(b, ITEMS[kinds[i]], x, y, z, float(r[i]), float(h[i]), rng)
        placed.append((x, y, z, float(r[i])))
    return len(placed)


def dress_room(b: SceneBuilder, posters: bool, clutter: bool, seed: int) -> None:
    """Posters and / or clutter for an indoor scene under construction (outdoor scenes are left alone)."""
    if b.outdoor or not (posters or clutter):
        return
    from depthgen.data.procedural.realism import STREAMS

    arrays = b.mesh.finish(keys=("tri_object", "tri_material"))
    faces, rc = _faces(arrays), _raycaster(arrays)
    if posters:
        add_posters(b, arrays, faces, rc, np.random.default_rng([int(seed), STREAMS["clutter"], 0]))
    if clutter:
        add_clutter(b, arrays, faces, rc, np.random.default_rng([int(seed), STREAMS["clutter"], 1]))
