"""Wall fixtures, lamps, plants, rugs and room-specific fittings (kitchen, bathroom, classroom, gallery).

Same conventions as ``furniture``: (x, y, yaw) places the local frame, local +y is the front. Wall fixtures
take (x, y) on the wall surface with local +y pointing into the room.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.builder import WARM, SceneBuilder
from depthgen.data.procedural.materials import FABRIC_COLOURS, WOOD_COLOURS, colour, pick


def wall_quad(b: SceneBuilder, x, y, yaw, w, z0, z1, off, obj, mat, rgb) -> None:
    """A quad on a wall (local x-z plane at local y = off), facing local +y."""
    loc = [[w / 2, off, z0], [-w / 2, off, z0], [-w / 2, off, z1], [w / 2, off, z1]]
    b.quad(b.to_world(x, y, yaw, loc), obj, mat, rgb)


def window(b: SceneBuilder, x, y, yaw, w, z0, z1, outside: np.ndarray, frame: str = "white") -> int:
    """A window: glass showing ``outside`` (linear RGB), a frame with a cross bar, and a sill."""
    oid = b.new_object("window", None, "glass", ("large",) if w * (z1 - z0) > 2.0 else ())
    wall_quad(b, x, y, yaw, w, z0, z1, 0.01, oid, "glass", outside)
    f, c = 0.06, b.col(frame)
    zc = (z0 + z1) / 2
    b.boxes(x, y, yaw, [[0, 0.03, z0], [0, 0.03, z1], [-w / 2, 0.03, zc], [w / 2, 0.03, zc], [0, 0.03, zc],
                        [0, 0.025, zc]],
            [[w + f, 0.06, f], [w + f, 0.06, f], [f, 0.06, z1 - z0], [f, 0.06, z1 - z0], [w, 0.04, 0.035],
             [0.035, 0.04, z1 - z0]], oid, "wood", c)
    b.boxes(x, y, yaw, [[0, 0.08, z0 - 0.03]], [[w + 0.2, 0.16, 0.04]], oid, "wood", c)
    return oid


def curtains(b: SceneBuilder, x, y, yaw, w, top: float) -> int:
    """A pair of curtains hanging beside a window of width ``w`` (from a rail at height ``top``)."""
    rng = b.rng
    col = pick(rng, FABRIC_COLOURS + ["white", "cream"])
    oid = b.new_object("curtains", col, "fabric")
    cw, depth = rng.uniform(0.25, 0.45), 0.08
    c = b.col(col)
    folds = 4
    for side in (-1, 1):
        u0 = side * (w / 2 + cw / 2 - 0.05)
        us = u0 + (np.arange(folds) - (folds - 1) / 2) * cw / folds
        b.boxes(x, y, yaw, [[u, 0.12 + 0.03 * (i % 2), top / 2 + 0.02] for i, u in enumerate(us)],
                [[cw / folds + 0.01, depth, top - 0.04]], oid, "fabric", c)
    b.boxes(x, y, yaw, [[0, 0.12, top + 0.02]], [[w + 2 * cw + 0.2, 0.03, 0.03]], oid, "metal", colour("dark grey"))
    return oid


def door(b: SceneBuilder, x, y, yaw, w: float = 0.9, h: float = 2.05) -> int:
    rng = b.rng
    col = pick(rng, WOOD_COLOURS + ["white", "white", "grey"])
    oid = b.new_object("door", col, "wood", ("wooden",) if col in WOOD_COLOURS else ())
    c = b.col(col)
    b.boxes(x, y, yaw, [[0, 0.02, h / 2]], [[w, 0.04, h]], oid, "wood", c)
    b.boxes(x, y, yaw, [[0, 0.03, h + 0.04], [-w / 2 - 0.04, 0.03, h / 2], [w / 2 + 0.04, 0.03, h / 2]],
            [[w + 0.16, 0.06, 0.08], [0.08, 0.06, h + 0.08], [0.08, 0.06, h + 0.08]], oid, "wood", c * 0.9)
    b.boxes(x, y, yaw, [[w / 2 - 0.1, 0.07, 1.0]], [[0.12, 0.05, 0.03]], oid, "metal", colour("light grey"))
    return oid


def painting(b: SceneBuilder, x, y, yaw, w, h, zc, name: str = "painting") -> int:
    rng = b.rng
    frame = pick(rng, ["black", "brown", "mustard", "white", "dark brown"])
    oid = b.new_object(name, None, "canvas", ("framed",) if rng.random() < 0.3 else ())
    b.boxes(x, y, yaw, [[0, 0.015, zc]], [[w + 0.08, 0.03, h + 0.08]], oid, "wood", b.col(frame))
    base = colour(pick(rng, ["red", "blue", "yellow", "green", "orange", "teal", "purple", "pink", "navy"]), rng)
    wall_quad(b, x, y, yaw, w, zc - h / 2, zc + h / 2, 0.032, oid, "canvas", base)
    return oid


def mirror(b: SceneBuilder, x, y, yaw, w, h, zc) -> int:
    oid = b.new_object("mirror", None, "mirror")
    b.boxes(x, y, yaw, [[0, 0.01, zc]], [[w + 0.05, 0.02, h + 0.05]], oid, "metal", colour("light grey"))
    wall_quad(b, x, y, yaw, w, zc - h / 2, zc + h / 2, 0.022, oid, "mirror", colour("light grey") * 1.1)
    return oid


def rug(b: SceneBuilder, x, y, yaw, w, d) -> int:
    col = pick(b.rng, FABRIC_COLOURS)
    oid = b.new_object("rug", col, "carpet")
    b.boxes(x, y, yaw, [[0, 0, 0.006]], [[w, d, 0.012]], oid, "carpet", b.col(col))
    return oid


def plant(b: SceneBuilder, x, y, size: float = 1.0, z0: float = 0.0) -> int:
    """A potted plant (pot + a few leafy blobs), ``size`` ~ height in metres."""
    rng = b.rng
    pot = pick(rng, ["terracotta", "white", "grey", "black"])
    oid = b.new_object("potted plant", "green", "leaves", ("tall",) if size > 1.2 else ())
    r = 0.12 + 0.08 * size
    b.cylinders(x, y, 0, [[0, 0, 0]], r, 0.3 * size, oid, "ceramic", b.col(pot), z0=z0, sides=8, top_scale=1.2)
    n = int(rng.integers(2, 5))
    cents = np.stack([rng.uniform(-0.12, 0.12, n) * size, rng.uniform(-0.12, 0.12, n) * size,
                      0.3 * size + rng.uniform(0.15, 0.6, n) * size], 1)
    b.spheres(x, y, 0, cents, rng.uniform(0.15, 0.3, n) * size, oid, "leaves",
              colour(pick(rng, ["green", "dark green", "olive"]), rng), z0=z0)
    return oid


def floor_lamp(b: SceneBuilder, x, y, intensity: float = 1.0) -> int:
    rng = b.rng
    oid = b.new_object("floor lamp", None, "metal")
    h = rng.uniform(1.4, 1.7)
    b.cylinders(x, y, 0, [[0, 0, 0]], 0.15, 0.03, oid, "metal", colour("dark grey"), sides=8)
    b.cylinders(x, y, 0, [[0, 0, 0.03]], 0.015, h - 0.03, oid, "metal", colour("dark grey"), sides=6)
    b.cylinders(x, y, 0, [[0, 0, h - 0.1]], 0.22, 0.3, oid, "lamp", colour("cream"), sides=12, top_scale=0.65,
                caps=False)
    b.point_light([x, y, h + 0.05], WARM, 1.6 * intensity, radius=2.0)
    return oid


def table_lamp(b: SceneBuilder, x, y, z0: float, intensity: float = 1.0) -> int:
    oid = b.new_object("lamp", None, "lamp")
    b.cylinders(x, y, 0, [[0, 0, 0]], 0.06, 0.25, oid, "ceramic", b.col(pick(b.rng, ["white", "navy", "teal",
                                                                                      "mustard"])), z0=z0)
    b.cylinders(x, y, 0, [[0, 0, 0.25]], 0.16, 0.2, oid, "lamp", colour("cream"), z0=z0, sides=10,
                top_scale=0.7, caps=False)
    b.point_light([x, y, z0 + 0.36], WARM, 1.0 * intensity, radius=1.5)
    return oid


def ceiling_lamp(b: SceneBuilder, x, y, ceiling: float, rgb, intensity: float, pendant: bool = True) -> int:
    oid = b.new_object("ceiling lamp" if not pendant else "pendant lamp", None, "lamp")
    if pendant:
        drop = b.rng.uniform(0.4, 0.8)
        b.cylinders(x, y, 0, [[0, 0, ceiling - drop]], 0.008, drop, oid, "metal", colour("black"), sides=4)
        b.cylinders(x, y, 0, [[0, 0, ceiling - drop - 0.2]], 0.22, 0.22, oid, "lamp",
                    b.col(pick(b.rng, ["cream", "white", "mustard"])), sides=12, top_scale=0.3, caps=False)
        pos = [x, y, ceiling - drop - 0.25]
    else:
        b.cylinders(x, y, 0, [[0, 0, ceiling - 0.05]], 0.25, 0.05, oid, "lamp", colour("white"), sides=12)
        pos = [x, y, ceiling - 0.12]
    b.point_light(pos, rgb, intensity, radius=3.0)
    return oid


def tv(b: SceneBuilder, x, y, yaw, w: float) -> int:
    oid = b.new_object("television", "black", "plastic", ("flat",))
    h = w * 0.58
    b.boxes(x, y, yaw, [[0, 0.03, 0.55 + h / 2], [0, 0.0, 0.5]], [[w, 0.05, h], [0.08, 0.05, 0.1]], oid,
            "plastic", colour("black"))
    b.boxes(x, y, yaw, [[0, 0.0565, 0.55 + h / 2]], [[w - 0.04, 0.002, h - 0.04]], oid, "screen",
            colour(pick(b.rng, ["navy", "dark grey", "teal"])) * 0.5)
    return oid


def kitchen_run(b: SceneBuilder, x, y, yaw, w, height: float) -> list[int]:
    """Base cabinets with a worktop, a sink and a hob, upper cabinets and a tiled splashback."""
    rng = b.rng
    col = pick(rng, ["white", "light grey", "sage green", "navy", "brown", "tan", "dark grey"])
    top = pick(rng, ["white", "black", "grey", "tan"])
    ids = [b.new_object("kitchen cabinets", col, "wood")]
    c = b.col(col)
    b.boxes(x, y, yaw, [[0, 0.3, 0.45]], [[w, 0.6, 0.86]], ids[0], "wood", c, z0=0.0)
    n = max(1, int(w / 0.6))
    b.boxes(x, y, yaw, [[-w / 2 + w / n * i, 0.605, 0.45] for i in range(1, n)], [[0.008, 0.01, 0.8]], ids[0],
            "wood", c * 0.5)
    b.boxes(x, y, yaw, [[-w / 2 + w / n * (i + 0.5), 0.615, 0.78] for i in range(n)], [[0.12, 0.02, 0.02]],
            ids[0], "metal", colour("light grey"))
    up_w = w * rng.uniform(0.5, 1.0)
    b.boxes(x, y, yaw, [[0, 0.18, 1.45 + 0.35]], [[up_w, 0.35, 0.7]], ids[0], "wood", c)
    ids.append(b.new_object("countertop", top, "marble" if top in ("white", "black", "grey") else "wood"))
    b.boxes(x, y, yaw, [[0, 0.31, 0.895]], [[w + 0.02, 0.64, 0.04]], ids[-1], b.objects[ids[-1]].material,
            b.col(top))
    splash = b.new_object("tiled splashback", pick(rng, ["white", "light blue", "sage green", "cream"]), "tiles")
    wall_quad(b, x, y, yaw, w, 0.915, 1.45, 0.005, splash, "tiles", b.col(b.objects[splash].colour))
    ids.append(splash)
    sink_u = rng.uniform(-w / 2 + 0.4, w / 2 - 0.4) if w > 1.2 else 0.0
    sid = b.new_object("sink", "grey", "metal")
    b.boxes(x, y, yaw, [[sink_u, 0.3, 0.912]], [[0.5, 0.4, 0.01]], sid, "metal", colour("grey"))
    b.cylinders(x, y, yaw, [[sink_u, 0.05, 0.915]], 0.015, 0.25, sid, "metal", colour("light grey"), sides=6)
    ids.append(sid)
    if w > 1.5:
        hob_u = sink_u - 0.8 if sink_u > 0 else sink_u + 0.8
        hid = b.new_object("stove", "black", "metal")
        b.boxes(x, y, yaw, [[hob_u, 0.3, 0.918]], [[0.58, 0.5, 0.012]], hid, "metal", colour("black"))
        ids.append(hid)
    return ids


def fridge(b: SceneBuilder, x, y, yaw) -> int:
    col = pick(b.rng, ["white", "light grey", "black", "grey"])
    oid = b.new_object("fridge", col, "metal", ("tall",))
    c = b.col(col)
    b.boxes(x, y, yaw, [[0, 0.0, 0.95]], [[0.7, 0.68, 1.9]], oid, "metal", c)
    b.boxes(x, y, yaw, [[0, 0.342, 1.25], [0.28, 0.36, 1.4], [0.28, 0.36, 0.9]],
            [[0.7, 0.01, 0.01], [0.03, 0.03, 0.35], [0.03, 0.03, 0.3]], oid, "metal", c * 0.6)
    return oid


def bathtub(b: SceneBuilder, x, y, yaw, w: float = 1.7) -> int:
    oid = b.new_object("bathtub", "white", "ceramic")
    c = colour("white", b.rng)
    b.boxes(x, y, yaw, [[0, 0, 0.25], [0, 0, 0.56]], [[w, 0.75, 0.5], [w, 0.75, 0.06]], oid, "ceramic", c)
    b.boxes(x, y, yaw, [[0, 0, 0.59]], [[w - 0.16, 0.59, 0.005]], oid, "ceramic", c * 0.75)
    return oid


def toilet(b: SceneBuilder, x, y, yaw) -> int:
    oid = b.new_object("toilet", "white", "ceramic")
    c = colour("white", b.rng)
    b.cylinders(x, y, yaw, [[0, 0.05, 0]], 0.16, 0.4, oid, "ceramic", c, sides=10)
    b.boxes(x, y, yaw, [[0, 0.08, 0.41], [0, -0.2, 0.6]], [[0.38, 0.48, 0.04], [0.4, 0.18, 0.42]], oid,
            "ceramic", c)
    return oid


def washbasin(b: SceneBuilder, x, y, yaw) -> int:
    col = pick(b.rng, ["white", "brown", "grey", "navy"])
    oid = b.new_object("sink", "white", "ceramic", ("bathroom",))
    b.boxes(x, y, yaw, [[0, 0.24, 0.4], [0, 0.24, 0.85]], [[0.6, 0.46, 0.8], [0.64, 0.5, 0.1]], oid, "wood",
            b.col(col))
    b.boxes(x, y, yaw, [[0, 0.26, 0.85]], [[0.44, 0.34, 0.102]], oid, "ceramic", colour("white", b.rng))
    return oid


def blackboard(b: SceneBuilder, x, y, yaw, w: float) -> int:
    col = pick(b.rng, ["dark green", "black"])
    oid = b.new_object("blackboard" if col == "black" else "chalkboard", col, "stone", ("large",))
    b.boxes(x, y, yaw, [[0, 0.02, 1.5]], [[w + 0.1, 0.04, 1.3]], oid, "wood", colour("tan"))
    b.boxes(x, y, yaw, [[0, 0.03, 1.5]], [[w, 0.04, 1.2]], oid, "stone", b.col(col))
    return oid


def bench(b: SceneBuilder, x, y, yaw, w: float, outdoor: bool = False) -> int:
    col = pick(b.rng, WOOD_COLOURS + (["green", "dark grey"] if outdoor else ["black", "white"]))
    oid = b.new_object("bench", col, "wood", ("wooden",) if col in WOOD_COLOURS else ())
    c = b.col(col)
    b.boxes(x, y, yaw, [[0, 0, 0.44]], [[w, 0.42, 0.05]], oid, "wood", c)
    b.boxes(x, y, yaw, [[sx * (w / 2 - 0.1), 0, 0.21] for sx in (-1, 1)], [[0.06, 0.38, 0.42]], oid, "metal",
            colour("dark grey"))
    if outdoor:
        b.boxes(x, y, yaw, [[0, -0.2, 0.75]], [[w, 0.04, 0.35]], oid, "wood", c)
    return oid


def sculpture(b: SceneBuilder, x, y) -> int:
    rng = b.rng
    col = pick(rng, ["white", "black", "grey", "terracotta", "mustard"])
    oid = b.new_object("sculpture", col, "marble" if col in ("white", "grey") else "stone")
    b.boxes(x, y, 0, [[0, 0, 0.5]], [[0.5, 0.5, 1.0]], oid, "plaster", colour("white", rng))
    c = b.col(col)
    if rng.random() < 0.5:
        b.spheres(x, y, 0, [[0, 0, 1.3], [0, 0, 1.75]], np.array([[0.25, 0.2, 0.3], [0.16, 0.16, 0.18]]), oid,
                  b.objects[oid].material, c)
    else:
        b.cylinders(x, y, rng.uniform(0, 3), [[0, 0, 1.0]], 0.22, 0.9, oid, b.objects[oid].material, c, sides=5,
                    top_scale=0.05)
    return oid
