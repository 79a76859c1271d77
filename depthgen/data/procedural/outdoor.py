"""Outdoor grammar: a city street, a park, a forest, a beach and grassy hills under an open sky.

The camera stands near the origin looking along +y; scenes extend to about 85 m so depth stays within
~80 m in view; beyond is sky (depth 0, invalid).
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.builder import SceneBuilder
from depthgen.data.procedural.fixtures import bench
from depthgen.data.procedural.materials import MAT, colour, pick
from depthgen.data.procedural.scene import Light

OUTDOOR_TYPES = ("street", "park", "forest", "beach", "hills")

_SKIES = {
    # mood: (caption phrases, zenith, horizon, sun colour x intensity, ambient, sun elevation range deg)
    "sunny": (("on a sunny day", "under a clear blue sky", "sunny afternoon"), (0.10, 0.25, 0.70),
              (0.60, 0.72, 0.92), (2.2, 2.05, 1.85), (0.30, 0.34, 0.42), (35, 70)),
    "golden": (("at sunset", "in golden evening light", "golden hour"), (0.20, 0.25, 0.50), (1.0, 0.62, 0.35),
               (2.1, 1.45, 0.8), (0.25, 0.22, 0.25), (6, 18)),
    "overcast": (("on an overcast day", "under a cloudy grey sky", "overcast weather"), (0.50, 0.53, 0.58),
                 (0.78, 0.80, 0.83), (0.5, 0.5, 0.5), (0.60, 0.62, 0.66), (40, 70)),
}


def _sky_and_sun(b: SceneBuilder) -> None:
    rng = b.rng
    mood = pick(rng, ["sunny", "sunny", "golden", "overcast"])
    phrases, zen, hor, sun_c, amb, (e0, e1) = _SKIES[mood]
    elev, az = np.radians(rng.uniform(e0, e1)), rng.uniform(-np.pi, np.pi)
    if mood == "golden":  # low sun roughly ahead or to the side, so the sky glows in view
        az = np.pi / 2 + rng.uniform(-1.0, 1.0)
    sun = np.array([np.cos(elev) * np.cos(az), np.cos(elev) * np.sin(az), np.sin(elev)])
    clouds = {"sunny": rng.uniform(0.0, 0.45), "golden": rng.uniform(0.2, 0.5), "overcast": 0.0}[mood]
    cloud_col = (1.0, 0.75, 0.6) if mood == "golden" else (0.92, 0.93, 0.96)
    b.sky = {"zenith": zen, "horizon": hor, "sun_dir": sun, "sun_colour": tuple(0.4 * np.array(sun_c)),
             "clouds": clouds, "cloud_colour": cloud_col}
    b.lights.append(Light("sun", np.array(sun_c) * rng.uniform(0.9, 1.1), direction=sun))
    b.ambient = np.array(amb) * rng.uniform(0.9, 1.1)
    b.mood = phrases[int(rng.integers(len(phrases)))]


def trees(b: SceneBuilder, xs, ys, z0s, scales, conifer, oid: int) -> None:
    """A batch of trees: deciduous (trunk + three leafy blobs) or conifers (trunk + three stacked cones).

    xs, ys, z0s (ground height), scales: (n,) arrays; conifer: (n,) bool."""
    rng = b.rng
    xs, ys, z0s, scales = (np.atleast_1d(np.asarray(a, np.float64)) for a in (xs, ys, z0s, scales))
    conifer = np.broadcast_to(np.asarray(conifer, bool), xs.shape)
    n = len(xs)
    if n == 0:
        return
    h = scales * rng.uniform(4.0, 8.0, n)
    trunk = h * np.where(conifer, 0.2, 0.35)
    base = np.stack([xs, ys, z0s], 1)
    bark = np.stack([colour("dark brown", rng) for _ in range(n)])
    b.mesh.cylinders(base, 0.12 * scales + 0.05, trunk + 0.3, oid, MAT["bark"], bark, sides=6,
                     tex=rng.uniform(0, 100, n))
    names = ["green", "dark green", "olive"]
    leaf = np.stack([colour(names[int(k)], rng, 0.05) for k in rng.integers(0, 3, n)])
    crown = h - trunk
    c, d = np.nonzero(conifer)[0], np.nonzero(~conifer)[0]
    for i in range(3):
        if len(c):
            bot = base[c] + np.stack([0 * c, 0 * c, trunk[c] + i * crown[c] / 3.5], 1)
            b.mesh.cylinders(bot, crown[c] * 0.33 * (1 - i / 4), crown[c] / 3 * 1.4, oid, MAT["leaves"],
                             leaf[c] * (0.85 + 0.1 * i), sides=8, top_scale=0.0, tex=rng.uniform(0, 100, len(c)))
    if len(d):
        r = crown[d] * 0.4
        off = rng.uniform(-0.4, 0.4, (len(d), 3, 2)) * r[:, None, None]
        zc = trunk[d, None] + r[:, None] * rng.uniform(0.7, 1.3, (len(d), 3))
        cents = base[d, None] + np.concatenate([off, zc[..., None]], 2)
        radii = r[:, None, None] * np.concatenate([rng.uniform(0.7, 1.1, (len(d), 3, 1)).repeat(2, 2),
                                                   rng.uniform(0.6, 0.9, (len(d), 3, 1))], 2)
        b.mesh.spheres(cents.reshape(-1, 3), radii.reshape(-1, 3), oid, MAT["leaves"], leaf[d].repeat(3, 0),
                       tex=rng.uniform(0, 100, 3 * len(d)))


def _ground(b: SceneBuilder, mat: str, col: str, x0=-80.0, x1=80.0, y0=-20.0, y1=80.0, z: float = 0.0,
            name: str = "ground") -> int:
    oid = b.new_object(name, col, mat, structural=True)
    b.quad([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], oid, mat, b.col(col))
    return oid


def _car(b: SceneBuilder, x: float, y: float, yaw: float) -> int:
    rng = b.rng
    col = pick(rng, ["red", "blue", "white", "black", "grey", "light grey", "yellow", "dark green", "navy"])
    oid = b.new_object("car", col, "metal", ("parked",))
    c = b.col(col)
    L = rng.uniform(3.8, 4.8)
    b.boxes(x, y, yaw, [[0, 0, 0.55], [0, -0.15 * L, 1.05]], [[1.75, L, 0.6], [1.6, 0.5 * L, 0.5]], oid, "metal", c)
    b.boxes(x, y, yaw, [[0, -0.15 * L, 1.05]], [[1.62, 0.46 * L, 0.4]], oid, "glass", colour("dark grey") * 0.6)
    b.boxes(x, y, yaw, [[sx * 0.8, sy * 0.32 * L, 0.32] for sx in (-1, 1) for sy in (-1, 1)], [[0.22, 0.62, 0.62]],
            oid, "plastic", colour("black"))
    return oid


def _lamp_post(b: SceneBuilder, x: float, y: float, oid: int) -> None:
    b.cylinders(x, y, 0, [[0, 0, 0]], 0.07, 4.5, oid, "metal", colour("dark grey"), sides=6)
    b.boxes(x, y, 0, [[0, 0, 4.55]], [[0.35, 0.35, 0.2]], oid, "metal", colour("black"))


def _street(b: SceneBuilder) -> None:
    rng = b.rng
    rw, sw = rng.uniform(6.0, 11.0), rng.uniform(2.0, 4.0)
    road = b.new_object("road", "dark grey", "asphalt", structural=True)
    b.quad([[-rw / 2, -10, 0], [rw / 2, -10, 0], [rw / 2, 80, 0], [-rw / 2, 80, 0]], road, "asphalt",
           colour("dark grey", rng) * 0.8)
    mark = b.new_object("road markings", "white", "plastic", structural=True)
    ys = np.arange(-8.0, 78.0, 6.0)
    b.mesh.boxes(np.stack([np.zeros_like(ys), ys, np.full_like(ys, 0.005)], 1), [0.15, 3.0, 0.01], mark,
                 MAT["plastic"], colour("white", rng), tex=0.0)
    walk = b.new_object("sidewalk", "light grey", "concrete", structural=True)
    for s in (-1, 1):
        b.mesh.boxes(np.array([[s * (rw / 2 + sw / 2), 35.0, 0.075]]), [sw, 90.0, 0.15], walk, MAT["concrete"],
                     colour("light grey", rng), tex=b.tex())
    bid = {}
    for s in (-1, 1):
        y = -10.0
        while y < 72.0:
            bw = rng.uniform(6.0, 16.0)
            h = rng.uniform(6.0, 30.0)
            mat = pick(rng, ["brick", "plaster", "concrete", "brick"])
            col = pick(rng, ["terracotta", "brown", "dark red"] if mat == "brick" else
                       ["cream", "beige", "light grey", "white", "grey", "pale yellow", "pink"])
            key = (mat, col)
            if key not in bid:
                bid[key] = b.new_object("buildings", col, mat, ("tall",) if h > 15 else ())
            oid = bid[key]
            xf = s * (rw / 2 + sw)
            b.mesh.boxes(np.array([[xf + s * 6.0, y + bw / 2, h / 2]]), [12.0, bw - 0.05, h], oid, MAT[mat],
                         b.col(col), tex=b.tex())
            floors, ncol = int(h / 3.0), max(1, int(bw / 2.2))
            fz = 1.2 + 3.0 * np.arange(floors)
            fz = fz[fz + 1.6 < h]
            us = y + (np.arange(ncol) + 0.5) * bw / ncol
            zz, uu = np.meshgrid(fz, us, indexing="ij")
            zz, uu = zz.ravel(), uu.ravel()
            if len(zz):
                xq = np.full_like(zz, xf - s * 0.02)
                hw = 0.55
                quad = np.stack([np.stack([xq, uu - s * hw, zz], 1), np.stack([xq, uu + s * hw, zz], 1),
                                 np.stack([xq, uu + s * hw, zz + 1.5], 1), np.stack([xq, uu - s * hw, zz + 1.5], 1)],
                                1)
                win = bid.setdefault(("win",), b.new_object("windows", None, "glass", structural=True))
                b.mesh.quads(quad, win, MAT["glass"], colour(pick(rng, ["navy", "dark grey", "grey"]), rng) * 0.5,
                             tex=b.tex())
            y += bw
    lamp = b.new_object("street lamps", "dark grey", "metal")
    tree_id = b.new_object("trees", "green", "leaves")
    for y in np.arange(rng.uniform(3, 10), 80, rng.uniform(12, 20)):
        for s in (-1, 1):
            if rng.random() < 0.5:
                _lamp_post(b, s * (rw / 2 + 0.4), y, lamp)
            elif rng.random() < 0.6:
                trees(b, s * (rw / 2 + sw / 2), y + 3, 0.15, 0.8, False, tree_id)
    for _ in range(int(rng.integers(1, 7))):
        s = pick(rng, [-1, 1])
        _car(b, s * (rw / 2 - 1.2), rng.uniform(6, 70), 0.0)
    b.camera = {"position": (rng.uniform(-rw / 2 + 1.0, rw / 2 - 1.0), rng.uniform(-2, 2)), "yaw": 0.0,
                "yaw_jitter": 0.25, "ground": 0.0}


def _park(b: SceneBuilder, forest: bool = False) -> None:
    rng = b.rng
    gcol = pick(rng, ["green", "olive", "dark green"] if not forest else ["olive", "dark green", "brown"])
    _ground(b, "grass", gcol, name="grass" if not forest else "forest floor")
    tid = b.new_object("trees", "green", "leaves")
    n_trees = int(rng.integers(120, 220)) if forest else int(rng.integers(8, 25))
    r0 = 3.0 if forest else 8.0
    # Forests: denser near the camera (uniform in radius); parks: uniform over the area.
    r = rng.uniform(r0, 70.0, n_trees) if forest else np.sqrt(rng.uniform(r0 ** 2, 70.0 ** 2, n_trees))
    a = rng.uniform(-np.pi, np.pi, n_trees)
    x, y = r * np.sin(a), r * np.cos(a)
    if not forest:
        x = np.where(np.abs(x) < 2.0, np.sign(x + 1e-9) * (2.0 + np.abs(x)), x)  # keep the path clear
    conifer = rng.random(n_trees) < (0.7 if forest else 0.3)
    trees(b, x, y, np.zeros(n_trees), rng.uniform(0.7, 1.4, n_trees), conifer, tid)
    if forest:
        rid = b.new_object("rocks", "grey", "stone")
        n = int(rng.integers(3, 10))
        c = np.stack([rng.uniform(-15, 15, n), rng.uniform(3, 30, n), np.zeros(n)], 1)
        r = rng.uniform(0.3, 1.2, n)
        b.mesh.spheres(c, np.stack([r * 1.3, r, r * 0.7], 1), rid, MAT["stone"], colour("grey", rng), tex=b.tex())
    else:
        pw = rng.uniform(2.0, 3.5)
        path = b.new_object("path", pick(rng, ["tan", "beige", "light grey"]), "sand", structural=True)
        b.mesh.boxes(np.array([[rng.uniform(-1, 1), 35.0, 0.01]]), [pw, 90.0, 0.02], path, MAT["sand"],
                     b.col(b.objects[path].colour), yaw=rng.uniform(-0.2, 0.2), tex=b.tex())
        for _ in range(int(rng.integers(1, 4))):
            s = pick(rng, [-1, 1])

            bench(b, s * (pw / 2 + 0.8), rng.uniform(4, 25), s * np.pi / 2, 1.6, outdoor=True)
        if rng.random() < 0.5:
            pid = b.new_object("pond", "blue", "water")
            b.mesh.cylinders(np.array([[pick(rng, [-1, 1]) * rng.uniform(8, 14), rng.uniform(12, 30), 0.0]]),
                             rng.uniform(3, 7), 0.03, pid, MAT["water"], colour("blue", rng), sides=16, tex=b.tex())
        lamp = b.new_object("lamp posts", "dark grey", "metal")
        for y in np.arange(6.0, 40.0, rng.uniform(10, 15)):
            _lamp_post(b, pw / 2 + 0.5, y, lamp)
    b.camera = {"position": (rng.uniform(-1, 1), 0.0), "yaw": 0.0, "yaw_jitter": 0.5, "ground": 0.0}


def _beach(b: SceneBuilder) -> None:
    rng = b.rng
    shore = rng.uniform(10.0, 25.0)
    sid = b.new_object("sand", pick(rng, ["beige", "cream", "tan"]), "sand", structural=True)
    b.quad([[-80, -20, 0.0], [80, -20, 0.0], [80, shore, -0.3], [-80, shore, -0.3]], sid, "sand",
           b.col(b.objects[sid].colour))
    wid = b.new_object("sea", pick(rng, ["blue", "teal", "navy"]), "water", structural=True)
    b.quad([[-80, shore - 3, -0.12], [80, shore - 3, -0.12], [80, 80, -0.12], [-80, 80, -0.12]], wid, "water",
           b.col(b.objects[wid].colour))
    for _ in range(int(rng.integers(0, 4))):
        col = pick(rng, ["red", "yellow", "blue", "orange", "white", "green", "pink"])
        uid = b.new_object("beach umbrella", col, "fabric")
        x, y = rng.uniform(-12, 12), rng.uniform(3, shore - 3)
        b.mesh.cylinders(np.array([[x, y, -0.1]]), 0.03, 2.2, uid, MAT["metal"], colour("white"), sides=4)
        b.mesh.cylinders(np.array([[x, y, 1.8]]), 1.2, 0.45, uid, MAT["fabric"], b.col(col), sides=10,
                         top_scale=0.0, tex=b.tex())
        tcol = pick(rng, ["red", "blue", "yellow", "green", "pink", "orange"])
        tw = b.new_object("towel", tcol, "fabric")
        b.mesh.boxes(np.array([[x + 1.0, y, 0.01 - 0.3 * y / shore]]), [0.8, 1.7, 0.02], tw, MAT["fabric"],
                     b.col(tcol), yaw=rng.uniform(-0.5, 0.5), tex=b.tex())
    if rng.random() < 0.6:
        hid = b.new_object("headland", "green", "stone", ("rocky",))
        x = pick(rng, [-1, 1]) * rng.uniform(30, 60)
        b.mesh.spheres(np.array([[x, rng.uniform(55, 68), -2.0]]), np.array([[rng.uniform(15, 30), 10.0,
                                                                             rng.uniform(6, 15)]]),
                       hid, MAT["grass"], colour("olive", rng), tex=b.tex())
    if rng.random() < 0.5:
        rid = b.new_object("rocks", "grey", "stone")
        n = int(rng.integers(2, 6))
        c = np.stack([rng.uniform(-20, 20, n), rng.uniform(shore - 4, shore + 6, n), np.full(n, -0.2)], 1)
        r = rng.uniform(0.4, 1.5, n)
        b.mesh.spheres(c, np.stack([r * 1.4, r, r * 0.6], 1), rid, MAT["stone"], colour("dark grey", rng),
                       tex=b.tex())
    b.camera = {"position": (rng.uniform(-3, 3), rng.uniform(-4, 0)), "yaw": 0.0, "yaw_jitter": 0.6,
                "ground": 0.0}


def _hills(b: SceneBuilder) -> None:
    rng = b.rng
    n, step = 41, 2.4
    x0, y0 = -n * step / 2, -15.0
    ys, xs = np.mgrid[0:n, 0:n]
    X, Y = x0 + xs * step, y0 + ys * step
    R = np.hypot(X, Y)
    k = rng.uniform(0.03, 0.08, 4)
    ph = rng.uniform(0, 2 * np.pi, 4)
    H = (np.sin(X * k[0] + ph[0]) * np.cos(Y * k[1] + ph[1]) + 0.5 * np.sin(X * k[2] + Y * k[3] + ph[2]))
    amp = rng.uniform(3.0, 9.0)
    H = amp * H * np.clip((R - 6.0) / 30.0, 0, 1) + np.clip(Y - 50, 0, None) * rng.uniform(0.2, 0.6)
    col = pick(rng, ["green", "olive", "sage green", "tan"])
    gid = b.new_object("grassy hills" if col != "tan" else "dry hills", col, "grass", structural=True)
    b.mesh.grid(H, x0, y0, step, gid, MAT["grass"], b.col(col), tex=b.tex())
    tid = b.new_object("trees", "green", "leaves")
    k = int(rng.integers(5, 30))
    i, j = rng.integers(0, n, k), rng.integers(0, n, k)
    far = R[i, j] > 8
    i, j = i[far], j[far]
    trees(b, X[i, j], Y[i, j], H[i, j] - 0.3, rng.uniform(0.6, 1.2, len(i)), rng.random(len(i)) < 0.4, tid)
    b.camera = {"position": (0.0, 0.0), "yaw": 0.0, "yaw_jitter": 0.6, "ground": float(H[np.unravel_index(
        np.argmin(R), R.shape)])}


def build_outdoor(b: SceneBuilder, scene_type: str) -> None:
    """Build an outdoor scene of ``scene_type`` into ``b`` (geometry, objects, sun and sky, camera hints)."""
    _sky_and_sun(b)
    {"street": _street, "park": _park, "forest": lambda bb: _park(bb, forest=True), "beach": _beach,
     "hills": _hills}[scene_type](b)
    b.adjectives = ()
