"""Procedural textures: albedo as a pure function of the 3D surface point.

Because the albedo depends only on the world point, its normal axis, the material and the per-object
parameters, two renders of the same point agree and ``Scene.mesh()`` can sample the same function at vertices.
Noise is integer-hashed value noise (exact and identical on every machine).
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.materials import MAT


def _hash01(ix: np.ndarray, iy: np.ndarray, iz: np.ndarray) -> np.ndarray:
    """Integer lattice -> pseudo-random float in [0, 1) (int64 arithmetic, wraps identically everywhere)."""
    h = (ix * 73856093) ^ (iy * 19349663) ^ (iz * 83492791)
    h &= 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    h ^= h >> 16
    return (h & 0xFFFFFF).astype(np.float64) / float(1 << 24)


_TABLE = np.random.default_rng(20240611).random(64 ** 3).astype(np.float32)  # lattice values (PCG64: the same everywhere)


def value_noise(p: np.ndarray) -> np.ndarray:
    """Smooth value noise in [0, 1] at points p (n, 3) (lattice spacing 1, period 64)."""
    fl = np.floor(p)
    f = p - fl
    i = fl.astype(np.int64) & 63
    f = f * f * (3 - 2 * f)
    g = 1 - f
    i1 = (i + 1) & 63
    x0, x1 = i[:, 0] * 4096, i1[:, 0] * 4096
    y0, y1 = i[:, 1] * 64, i1[:, 1] * 64
    z0, z1 = i[:, 2], i1[:, 2]
    t = _TABLE
    lo = (t[x0 + y0 + z0] * g[:, 2] + t[x0 + y0 + z1] * f[:, 2]) * g[:, 1] + \
         (t[x0 + y1 + z0] * g[:, 2] + t[x0 + y1 + z1] * f[:, 2]) * f[:, 1]
    hi = (t[x1 + y0 + z0] * g[:, 2] + t[x1 + y0 + z1] * f[:, 2]) * g[:, 1] + \
         (t[x1 + y1 + z0] * g[:, 2] + t[x1 + y1 + z1] * f[:, 2]) * f[:, 1]
    return lo * g[:, 0] + hi * f[:, 0]


def fbm(p: np.ndarray, octaves: int = 2) -> np.ndarray:
    """Fractal sum of value noise, in [0, 1]."""
    total, amp, norm = np.zeros(len(p)), 1.0, 0.0
    for o in range(octaves):
        total += amp * value_noise(p * (2.0 ** o) + 7.1 * o)
        norm += amp
        amp *= 0.5
    return total / norm


def surface_uv(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar coordinates on a surface: (horizontal, vertical) for walls, (x, y) for floors/ceilings."""
    a = np.abs(n)
    up = a[:, 2] >= np.maximum(a[:, 0], a[:, 1])
    xwall = ~up & (a[:, 0] >= a[:, 1])
    u = np.where(up, p[:, 0], np.where(xwall, p[:, 1], p[:, 0]))
    v = np.where(up, p[:, 1], p[:, 2])
    return u, v


def _lattice(u: np.ndarray, v: np.ndarray, w: float, h: float, stagger: float, line: float):
    """Bricks / tiles / planks: (is_line (n,) bool, cell hash (n,) in [0, 1))."""
    row = np.floor(v / h)
    uu = u / w + stagger * (row % 2)
    col = np.floor(uu)
    fv, fu = v / h - row, uu - col
    is_line = (fv < line * w / h) | (fu < line)
    return is_line, _hash01(row.astype(np.int64), col.astype(np.int64), np.zeros(len(u), np.int64))


def albedo(p: np.ndarray, n: np.ndarray, mat: np.ndarray, base: np.ndarray, tex: np.ndarray,
           detail: bool = False) -> np.ndarray:
    """Linear albedo (k, 3) float32 at points p (k, 3) with normals n (k, 3), material ids mat (k,), base
    colours base (k, 3) linear RGB and per-object texture offsets tex (k,). ``detail`` (realism textures):
    wood with grain rings, fabric plain / striped / checked per object, tiles with per-tile tints or a
    chequerboard, posters with a printed layout."""
    p = np.asarray(p, np.float32)
    n = np.asarray(n, np.float32)
    out = np.asarray(base, np.float32).copy()
    q = p + tex[:, None] * np.array([17.3, 31.7, 11.1], np.float32)
    grime = 0.93 + 0.14 * value_noise(q * 0.8)
    out *= grime[:, None]
    for m in np.unique(mat):
        s = mat == m
        ps, qs, ns = p[s], q[s], n[s]
        name = _NAMES[int(m)]
        fn = (_DETAIL.get(name) if detail else None) or _PATTERNS.get(name)
        if fn is not None:
            out[s] = fn(ps, qs, ns, out[s], tex[s])
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _scale(f: np.ndarray, c: np.ndarray) -> np.ndarray:
    return c * f[:, None]


def _wood(p, q, n, c, t):
    u, v = surface_uv(p, n)
    floorish = np.abs(n[:, 2]) > 0.7
    # Floors: planks 15 cm wide along y with seams; furniture: grain along the vertical / long axis.
    line, h = _lattice(v + 13 * t, u, 1.2, 0.15, 0.5, 0.015)
    plank = np.where(floorish, 0.85 + 0.3 * h, 1.0) * np.where(floorish & line, 0.55, 1.0)
    grain_axis = u  # grain lines run along the floor planks and vertically on furniture sides
    grain = 0.88 + 0.12 * np.sin(grain_axis * 90 + 8 * value_noise(q * [3, 3, 0.5]))
    return _scale(plank * grain, c)


def _brick(p, q, n, c, t):
    u, v = surface_uv(p, n)
    line, h = _lattice(u, v, 0.23, 0.075, 0.5, 0.06)
    b = c * (0.85 + 0.3 * h)[:, None] * (0.92 + 0.16 * value_noise(q * 12))[:, None]
    return np.where(line[:, None], 0.55 * c + 0.12, b)


def _tiles(p, q, n, c, t):
    u, v = surface_uv(p, n)
    size = np.where(np.abs(n[:, 2]) > 0.7, 0.4, 0.15)
    line, h = _lattice(u / size, v / size, 1.0, 1.0, 0.0, 0.05)
    tile = c * (0.94 + 0.1 * h)[:, None]
    return np.where(line[:, None], np.array([0.55, 0.55, 0.53]) * c.mean(1, keepdims=True) ** 0.3, tile)


def _noise(freq, amp, lo=None):
    def fn(p, q, n, c, t):
        return _scale((1 - amp / 2 if lo is None else lo) + amp * fbm(q * freq), c)
    return fn


def _glass(p, q, n, c, t):
    # A window: the outside with soft clouds, brighter towards the top; by day (bright glass) a band of distant
    # trees and buildings below the horizon (z < ~1.3 m).
    u, _ = surface_uv(p, n)
    out = _scale(0.8 + 0.25 * fbm(q * [1.5, 1.5, 3]) + 0.15 * np.clip(p[:, 2] - 1.0, 0, 1.5), c)
    day = c.mean(1) > 0.4
    skyline = 1.15 + 0.25 * value_noise(np.stack([u * 3.0 + t, t + 0 * u, 0 * u], 1).astype(np.float32))
    below = day & (p[:, 2] < skyline)
    if below.any():
        green = np.array([0.10, 0.17, 0.07], np.float32) * (0.7 + 0.6 * fbm(q[below] * 4))[:, None]
        out[below] = green
    return out


def _mirror(p, q, n, c, t):
    u, v = surface_uv(p, n)
    return _scale(0.65 + 0.35 * np.abs(np.sin(2.5 * u + 1.3 * v + 4 * t)) * (0.8 + 0.2 * value_noise(q)), c)


def _canvas(p, q, n, c, t):
    # An abstract painting: three colours from the base, arranged in soft bands and blobs.
    u, v = surface_uv(p, n)
    c2, c3 = c[:, [1, 2, 0]], c[:, [2, 0, 1]] * 0.8 + 0.1
    w1 = 0.5 + 0.5 * np.sin(u * 9 + 5 * t + 3 * value_noise(q * 4))
    w2 = fbm(q * 6)
    out = c * w1[:, None] + c2 * (1 - w1)[:, None]
    return np.where((w2 > 0.6)[:, None], c3, out)


def _concrete(p, q, n, c, t):
    u, v = surface_uv(p, n)
    line, h = _lattice(u, v, 1.5, 1.5, 0.0, 0.01)
    f = (0.85 + 0.2 * fbm(q * 4)) * (0.95 + 0.1 * h)
    return _scale(np.where(line, 0.6, f), c)


def _sand(p, q, n, c, t):
    ripple = 0.95 + 0.05 * np.sin(p[:, 0] * 6 + 2 * value_noise(q * 0.7) * 6)
    return _scale(ripple * (0.9 + 0.2 * fbm(q * 10)), c)


def _water(p, q, n, c, t):
    return _scale(0.8 + 0.35 * fbm(q * [0.4, 2.5, 1.0]), c)


def _marble(p, q, n, c, t):
    u, v = surface_uv(p, n)
    veins = np.abs(np.sin(3 * u + 2 * v + 7 * fbm(q * 1.5)))
    return _scale(0.8 + 0.2 * veins, c)


def _grass(p, q, n, c, t):
    return _scale((0.6 + 0.6 * fbm(q * 0.4)) * (0.85 + 0.3 * value_noise(q * 9)), c)


_PATTERNS = {
    "plaster": _noise(3.0, 0.08), "wood": _wood, "brick": _brick, "tiles": _tiles, "fabric": _noise(25.0, 0.18),
    "carpet": _noise(14.0, 0.3), "metal": _noise(np.array([1.0, 1.0, 25.0]), 0.12), "glass": _glass,
    "mirror": _mirror, "paper": _noise(20.0, 0.15), "leaves": _noise(6.0, 0.8), "grass": _grass,
    "asphalt": _noise(12.0, 0.35), "concrete": _concrete, "sand": _sand, "water": _water,
    "bark": _noise(np.array([9.0, 9.0, 1.0]), 0.6), "stone": _noise(2.5, 0.6), "canvas": _canvas,
    "leather": _noise(12.0, 0.25), "marble": _marble, "screen": _noise(2.0, 0.5),
}
_NAMES = {i: name for name, i in MAT.items()}


# ----------------------------------------------------------------------------------- realism (detail) variants
def _style(t: np.ndarray, k: int) -> np.ndarray:
    """A per-object style index in [0, k) from the texture offset."""
    return np.floor(t * 7.0).astype(np.int64) % k


def _wood_detail(p, q, n, c, t):
    u, v = surface_uv(p, n)
    base = _wood(p, q, n, c, t)
    # growth rings: bands of a distance to a virtual log axis, bent by noise; knots as dark blobs
    ring = np.abs(np.sin(2 * np.pi * (12 * (v * 0.15 + u * 0.05 + t) + 1.5 * fbm(q * [2.0, 2.0, 0.4]))))
    knots = np.clip((value_noise(q * 6) - 0.8) * 5, 0, 1)
    return base * ((0.78 + 0.22 * ring) * (1 - 0.45 * knots))[:, None]


def _fabric_detail(p, q, n, c, t):
    u, v = surface_uv(p, n)
    style = _style(t, 4)
    width = 0.03 + 0.05 * ((t * 13.0) % 1.0)
    su = np.sin(2 * np.pi * u / width) > 0
    sv = np.sin(2 * np.pi * v / width) > 0
    weave = (0.9 + 0.1 * value_noise(q * 60))[:, None]
    out = c * weave
    # accents keep the hue, so the colour the caption names stays right: lighter stripes, darker checks
    stripes = (style == 1)[:, None] & su[:, None]
    checks = (style >= 2)[:, None] & np.where(style == 2, su ^ sv, su & sv)[:, None]
    out = np.where(stripes, np.clip(out * 1.5 + 0.04, 0.0, 1.0), out)
    return np.where(checks, out * 0.55, out)


def _tiles_detail(p, q, n, c, t):
    u, v = surface_uv(p, n)
    size = np.where(np.abs(n[:, 2]) > 0.7, 0.3 + 0.3 * ((t * 3.0) % 1.0), 0.1 + 0.1 * ((t * 5.0) % 1.0))
    line, h = _lattice(u / size, v / size, 1.0, 1.0, 0.0, 0.05)
    row, col = np.floor(v / size), np.floor(u / size)
    chequer = (_style(t, 3) == 0) & ((row + col) % 2 == 1)
    tint = 1.0 + 0.16 * (np.stack([h, (h * 7.3) % 1.0, (h * 3.1) % 1.0], 1) - 0.5)
    tile = c * tint * np.where(chequer, 0.6, 1.0)[:, None]
    grout = np.array([0.5, 0.5, 0.48]) * c.mean(1, keepdims=True) ** 0.3
    return np.where(line[:, None], grout, tile)


def _poster(p, q, n, c, t):
    """A printed poster: colour blocks and a photo-like area from the base colour, thin dark text lines."""
    u, v = surface_uv(p, n)
    cell_u, cell_v = np.floor(u / 0.12 + 31 * t), np.floor(v / 0.09)
    h = _hash01(cell_u.astype(np.int64), cell_v.astype(np.int64), (t * 1000).astype(np.int64))
    palette = np.stack([c, c[:, [1, 2, 0]], c[:, [2, 0, 1]] * 0.6 + 0.2, np.full_like(c, 0.85)], 0)
    idx = np.minimum((h * 4).astype(np.int64), 3)
    out = palette[idx, np.arange(len(u))]
    photo = fbm(q * 5) > 0.55
    out = np.where(photo[:, None], out * (0.6 + 0.6 * fbm(q * 11))[:, None], out)
    text = (np.sin(2 * np.pi * v / 0.025) > 0.6) & (h > 0.7)
    return np.where(text[:, None], 0.05, out)


_PATTERNS["poster"] = _poster
_DETAIL = {"wood": _wood_detail, "fabric": _fabric_detail, "tiles": _tiles_detail}
