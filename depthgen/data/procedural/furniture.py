"""Furniture built from boxes and cylinders: storage, tables, seating, beds.

Every function draws one object at (x, y) with ``yaw`` (see ``builder``: local +y is the object's front),
registers it and returns its id. Sizes are metres; colours are palette names.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.builder import SceneBuilder
from depthgen.data.procedural.materials import BOOK_COLOURS, FABRIC_COLOURS, WOOD_COLOURS, colour, pick


def bookshelf(b: SceneBuilder, x: float, y: float, yaw: float, w: float, h: float, d: float = 0.32,
              wood: str | None = None, fill: float = 0.9) -> int:
    """A shelving unit full of books (books are a second object, "books")."""
    rng = b.rng
    wood = wood or pick(rng, WOOD_COLOURS + ["white", "black"])
    oid = b.new_object("bookshelf", wood, "wood", ("tall", "wooden") if h > 1.7 else ("wooden",))
    t = 0.025
    n_shelves = max(2, int(round(h / rng.uniform(0.32, 0.42))))
    zs = np.linspace(0.08, h - t, n_shelves + 1)
    parts_c = [[-w / 2 + t / 2, 0, h / 2], [w / 2 - t / 2, 0, h / 2], [0, -d / 2 + 0.01, h / 2]]
    parts_s = [[t, d, h], [t, d, h], [w, 0.02, h]]
    parts_c += [[0, 0, z] for z in zs]
    parts_s += [[w - 2 * t, d, t]] * len(zs)
    parts_c.append([0, d / 2 - 0.01, 0.04])
    parts_s.append([w - 2 * t, 0.02, 0.08])  # plinth
    b.boxes(x, y, yaw, parts_c, parts_s, oid, "wood", b.col(wood))
    books = b.new_object("books", None, "paper", ("colourful",))
    cents, sizes, cols = [], [], []
    for i in range(n_shelves):
        z0, gap = zs[i] + t / 2, zs[i + 1] - zs[i] - t
        u = -w / 2 + t
        while True:
            bw = rng.uniform(0.02, 0.055)
            if u + bw > w / 2 - t:
                break
            if rng.random() < fill:
                bh = gap * rng.uniform(0.6, 0.92)
                bd = d * rng.uniform(0.6, 0.9)
                cents.append([u + bw / 2, (d - bd) / 2 - 0.02 + 0.02, z0 + bh / 2])
                sizes.append([bw * 0.96, bd, bh])
                cols.append(colour(pick(rng, BOOK_COLOURS), rng, 0.06))
            u += bw
    if cents:
        b.boxes(x, y, yaw, cents, sizes, books, "paper", np.array(cols))
    return oid


def cabinet(b: SceneBuilder, x: float, y: float, yaw: float, w: float, h: float, d: float,
            col: str | None = None, name: str = "cabinet", material: str = "wood", z0: float = 0.0,
            words: tuple[str, ...] = ()) -> int:
    """A closed cabinet / wardrobe / chest of drawers with door seams and handles."""
    rng = b.rng
    col = col or pick(rng, WOOD_COLOURS + ["white", "light grey", "sage green", "navy"])
    oid = b.new_object(name, col, material, words or (("wooden",) if material == "wood" else ()))
    c = b.col(col)
    b.boxes(x, y, yaw, [[0, 0, h / 2]], [[w, d, h]], oid, material, c, z0=z0)
    doors = max(1, int(round(w / 0.5)))
    dw = w / doors
    seams = [[-w / 2 + dw * i, d / 2 + 0.003, h / 2] for i in range(1, doors)]
    if seams:
        b.boxes(x, y, yaw, seams, [[0.008, 0.006, h * 0.94]], oid, material, c * 0.45, z0=z0)
    handles = [[-w / 2 + dw * (i + 0.5) + (0.35 * dw if i % 2 else -0.35 * dw) * (doors > 1), d / 2 + 0.015,
                h * 0.55 if h > 1.0 else h * 0.8] for i in range(doors)]
    b.boxes(x, y, yaw, handles, [[0.02, 0.02, 0.12 if h > 1.0 else 0.02]], oid, "metal", colour("light grey"),
            z0=z0)
    return oid


def table(b: SceneBuilder, x: float, y: float, yaw: float, w: float, d: float, h: float = 0.75,
          col: str | None = None, name: str = "table", material: str = "wood", round_top: bool = False,
          words: tuple[str, ...] = ()) -> int:
    """A table: top + four legs (or a round top on one pedestal)."""
    rng = b.rng
    col = col or pick(rng, WOOD_COLOURS + ["white", "black"])
    oid = b.new_object(name, col, material, words or (("round",) if round_top else ()) + (
        ("wooden",) if material == "wood" else ()))
    c = b.col(col)
    top = 0.04
    if round_top:
        b.cylinders(x, y, yaw, [[0, 0, h - top]], w / 2, top, oid, material, c, sides=16)
        b.cylinders(x, y, yaw, [[0, 0, 0]], 0.05, h - top, oid, material, c * 0.8, sides=8)
        b.cylinders(x, y, yaw, [[0, 0, 0]], 0.25, 0.03, oid, material, c * 0.8, sides=12)
        return oid
    b.boxes(x, y, yaw, [[0, 0, h - top / 2]], [[w, d, top]], oid, material, c)
    lx, ly, leg = w / 2 - 0.05, d / 2 - 0.05, 0.05
    b.boxes(x, y, yaw, [[sx * lx, sy * ly, (h - top) / 2] for sx in (-1, 1) for sy in (-1, 1)],
            [[leg, leg, h - top]], oid, material, c * 0.85)
    return oid


def chair(b: SceneBuilder, x: float, y: float, yaw: float, col: str | None = None, office: bool = False) -> int:
    """A chair facing local +y (seat 0.45 m high, backrest at -y)."""
    rng = b.rng
    if office:
        col = col or pick(rng, ["black", "dark grey", "blue", "grey"])
        oid = b.new_object("office chair", col, "fabric")
        c = b.col(col)
        b.cylinders(x, y, yaw, [[0, 0, 0]], 0.28, 0.05, oid, "metal", colour("dark grey"), sides=6)
        b.cylinders(x, y, yaw, [[0, 0, 0.05]], 0.03, 0.38, oid, "metal", colour("grey"), sides=6)
        b.boxes(x, y, yaw, [[0, 0, 0.47], [0, -0.22, 0.78]], [[0.48, 0.46, 0.08], [0.44, 0.06, 0.5]], oid,
                "fabric", c)
        return oid
    col = col or pick(rng, WOOD_COLOURS + ["black", "white", "red", "green"])
    mat = "wood" if col in WOOD_COLOURS else "plastic"
    oid = b.new_object("chair", col, mat, ("wooden",) if mat == "wood" else ())
    c = b.col(col)
    s, hs = 0.44, 0.45
    legs = [[sx * (s / 2 - 0.03), sy * (s / 2 - 0.03), hs / 2] for sx in (-1, 1) for sy in (-1, 1)]
    b.boxes(x, y, yaw, legs + [[0, 0, hs], [0, -s / 2 + 0.02, hs + 0.25]],
            [[0.035, 0.035, hs]] * 4 + [[s, s, 0.04], [s, 0.03, 0.45]], oid, mat, c)
    return oid


def sofa(b: SceneBuilder, x: float, y: float, yaw: float, w: float, col: str | None = None,
         name: str = "sofa", leather: bool = False) -> int:
    """A sofa (or armchair when narrow) facing local +y; returns its id."""
    rng = b.rng
    col = col or pick(rng, FABRIC_COLOURS)
    mat = "leather" if leather else "fabric"
    oid = b.new_object(name, col, mat, ("leather",) if leather else ())
    c = b.col(col)
    d, arm = 0.85, 0.16
    b.boxes(x, y, yaw,
            [[0, 0, 0.22], [0, -d / 2 + 0.1, 0.6], [-w / 2 + arm / 2, 0, 0.32], [w / 2 - arm / 2, 0, 0.32]],
            [[w, d, 0.3], [w, 0.2, 0.5], [arm, d, 0.64], [arm, d, 0.64]], oid, mat, c)
    seats = max(1, int(round((w - 2 * arm) / 0.65)))
    cw = (w - 2 * arm) / seats
    b.boxes(x, y, yaw, [[-w / 2 + arm + cw * (i + 0.5), 0.05, 0.43] for i in range(seats)],
            [[cw - 0.02, d - 0.25, 0.13]], oid, mat, c * 1.1)
    b.boxes(x, y, yaw, [[sx * (w / 2 - 0.06), sy * (d / 2 - 0.06), 0.04] for sx in (-1, 1) for sy in (-1, 1)],
            [[0.05, 0.05, 0.08]], oid, "wood", colour("dark brown"))
    if rng.random() < 0.6 and name == "sofa":
        pc = pick(rng, FABRIC_COLOURS, exclude=(col,))
        pid = b.new_object("cushions", pc, "fabric")
        b.boxes(x, y, yaw, [[-w / 2 + arm + 0.25, -d / 2 + 0.28, 0.62], [w / 2 - arm - 0.25, -d / 2 + 0.28, 0.62]],
                [[0.4, 0.12, 0.35]], pid, "fabric", b.col(pc))
    return oid


def bed(b: SceneBuilder, x: float, y: float, yaw: float, w: float, length: float = 2.05) -> int:
    """A bed with its head at local -y (against a wall): frame, mattress, blanket, pillows, headboard."""
    rng = b.rng
    wood = pick(rng, WOOD_COLOURS + ["white", "grey"])
    blanket = pick(rng, FABRIC_COLOURS + ["white"])
    oid = b.new_object("bed", blanket, "fabric", ("double",) if w > 1.2 else ())
    b.boxes(x, y, yaw, [[0, 0, 0.18], [0, -length / 2 + 0.04, 0.55]], [[w, length, 0.28], [w + 0.06, 0.08, 1.1]],
            oid, "wood", b.col(wood))
    b.boxes(x, y, yaw, [[0, 0.02, 0.42]], [[w - 0.06, length - 0.1, 0.2]], oid, "fabric", colour("white", rng))
    b.boxes(x, y, yaw, [[0, 0.25, 0.53]], [[w + 0.02, length * 0.62, 0.05]], oid, "fabric", b.col(blanket))
    b.boxes(x, y, yaw, [[0, 0.25 + length * 0.31 - 0.02, 0.38]], [[w + 0.03, 0.05, 0.25]], oid, "fabric",
            b.col(blanket))
    n_p = 2 if w > 1.2 else 1
    pc = pick(rng, ["white", "cream", blanket])
    pil = b.new_object("pillows", pc, "fabric")
    b.boxes(x, y, yaw, [[(i - (n_p - 1) / 2) * w / 2, -length / 2 + 0.3, 0.56] for i in range(n_p)],
            [[w / n_p - 0.12, 0.38, 0.12]], pil, "fabric", b.col(pc))
    return oid


def desk_set(b: SceneBuilder, x: float, y: float, yaw: float, w: float = 1.4, monitor: bool = True) -> list[int]:
    """An office desk with a monitor and an office chair in front (local +y is the sitting side)."""
    ids = [table(b, x, y, yaw, w, 0.7, 0.74, name="desk", material="wood")]
    if monitor:
        mid = b.new_object("computer monitor", "black", "plastic")
        b.boxes(x, y, yaw, [[0, -0.15, 0.74 + 0.01], [0, -0.17, 0.83], [0, -0.13, 1.0]],
                [[0.22, 0.16, 0.02], [0.04, 0.03, 0.2], [0.56, 0.03, 0.34]], mid, "plastic", colour("black"))
        b.boxes(x, y, yaw, [[0, -0.112, 1.0]], [[0.52, 0.004, 0.3]], mid, "screen",
                colour(pick(b.rng, ["light blue", "navy", "white"])) * 0.6)
        ids.append(mid)
    ids.append(chair(b, *b.to_world(x, y, yaw, [[0, 0.65, 0]])[0, :2], yaw + np.pi, office=True))
    return ids
