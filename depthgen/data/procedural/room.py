"""Room shell (floor, walls, ceiling, baseboards), a floor-plan placer that keeps furniture from overlapping,
and room lighting moods.

Room frame: x in [0, W], y in [0, D], z in [0, H]. The camera stands near the south wall (y = 0) looking
roughly north (+y); walls are "N" (y = D), "E" (x = W), "W" (x = 0), "S" (y = 0).
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.builder import COOL, NEUTRAL, WARM, SceneBuilder
from depthgen.data.procedural.fixtures import ceiling_lamp
from depthgen.data.procedural.materials import MAT, WALL_COLOURS, WOOD_COLOURS, colour, pick

WALL_YAW = {"N": np.pi, "E": np.pi / 2, "W": -np.pi / 2, "S": 0.0}


class Placer:
    """Axis-aligned floor rectangles and wall spans already taken, for collision-free placement."""

    def __init__(self, W: float, D: float, H: float, rng: np.random.Generator,
                 keep_out: list[tuple[float, float, float, float]] = ()) -> None:
        self.W, self.D, self.H, self.rng = W, D, H, rng
        self.rects = list(keep_out)
        self.spans: dict[str, list[tuple[float, float, float, float]]] = {k: [] for k in WALL_YAW}

    def wall_len(self, wall: str) -> float:
        return self.W if wall in ("N", "S") else self.D

    def free(self, rect: tuple[float, float, float, float], margin: float = 0.05) -> bool:
        x0, y0, x1, y1 = rect
        if x0 < -1e-6 or y0 < -1e-6 or x1 > self.W + 1e-6 or y1 > self.D + 1e-6:
            return False
        return all(x1 + margin <= a or a2 + margin <= x0 or y1 + margin <= b or b2 + margin <= y0
                   for a, b, a2, b2 in self.rects)

    def span_free(self, wall: str, u0: float, u1: float, z0: float, z1: float) -> bool:
        return all(u1 <= a or b <= u0 or z1 <= c or d <= z0 for a, b, c, d in self.spans[wall])

    def wall_pose(self, wall: str, u: float, off: float) -> tuple[float, float, float]:
        """(x, y, yaw) of a point ``off`` metres in front of ``wall`` at along-wall coordinate u (from the
        wall's left end seen from the room)."""
        W, D = self.W, self.D
        if wall == "N":
            return W - u, D - off, WALL_YAW[wall]
        if wall == "S":
            return u, off, WALL_YAW[wall]
        if wall == "E":
            return W - off, u, WALL_YAW[wall]
        return off, D - u, WALL_YAW[wall]

    def footprint(self, wall: str, u: float, w: float, d: float) -> tuple[float, float, float, float]:
        x, y, _ = self.wall_pose(wall, u, d / 2)
        if wall in ("N", "S"):
            return x - w / 2, y - d / 2, x + w / 2, y + d / 2
        return x - d / 2, y - w / 2, x + d / 2, y + w / 2

    def against(self, wall: str, w: float, d: float, z0: float = 0.0, z1: float = 2.0, u: float | None = None,
                tries: int = 12, gap: float = 0.05) -> tuple[float, float, float] | None:
        """Place a w x d footprint (d = 0: a wall fixture) against ``wall`` spanning heights [z0, z1]; returns
        (x, y, yaw) of the object's local origin (centre of its footprint) or None when nothing fits."""
        L = self.wall_len(wall)
        if w + 2 * gap > L:
            return None
        for k in range(tries):
            uu = u if (u is not None and k == 0) else float(self.rng.uniform(w / 2 + gap, L - w / 2 - gap))
            if not self.span_free(wall, uu - w / 2, uu + w / 2, z0, z1):
                continue
            rect = self.footprint(wall, uu, w, max(d, 0.0))
            if d > 0 and not self.free(rect, margin=0.02):
                continue
            self.spans[wall].append((uu - w / 2, uu + w / 2, z0, z1))
            if d > 0:
                self.rects.append(rect)
            return self.wall_pose(wall, uu, d / 2)
        return None

    def in_room(self, w: float, d: float, x: float | None = None, y: float | None = None, tries: int = 15,
                margin: float = 0.4) -> tuple[float, float] | None:
        """Place an axis-aligned w x d footprint inside the room (``margin`` from other things)."""
        if w + 0.6 > self.W or d + 0.6 > self.D:
            return None  # the footprint cannot fit in this room at all
        for k in range(tries):
            xx = x if (x is not None and k == 0) else float(self.rng.uniform(w / 2 + 0.3, self.W - w / 2 - 0.3))
            yy = y if (y is not None and k == 0) else float(self.rng.uniform(d / 2 + 0.3, self.D - d / 2 - 0.3))
            rect = (xx - w / 2, yy - d / 2, xx + w / 2, yy + d / 2)
            if self.free(rect, margin):
                self.rects.append(rect)
                return xx, yy
        return None


def shell(b: SceneBuilder, W: float, D: float, H: float, floor_mat: str, floor_col: str, wall_mat: str,
          wall_col: str, base_col: str = "white",
          opening: tuple[float, float, float, float] | None = None) -> None:
    """Floor, four walls, ceiling and baseboards, all facing into the room.

    opening: (x0, x1, height, depth) of an open doorway in the north wall, leading into a dimmer adjoining room
    ``depth`` metres deep (the "open doorway" object)."""
    fid = b.new_object("floor", floor_col, floor_mat, structural=True)
    b.quad([[0, 0, 0], [W, 0, 0], [W, D, 0], [0, D, 0]], fid, floor_mat, b.col(floor_col))
    wid = b.new_object("walls", wall_col, wall_mat, structural=True)
    wc = b.col(wall_col)
    if opening is None:
        b.quad([[0, D, 0], [W, D, 0], [W, D, H], [0, D, H]], wid, wall_mat, wc)  # N, normal -y
        north = [(0.0, W)]
    else:
        x0, x1, hd, L = opening
        for q in ([[0, D, 0], [x0, D, 0], [x0, D, H], [0, D, H]], [[x1, D, 0], [W, D, 0], [W, D, H], [x1, D, H]],
                  [[x0, D, hd], [x1, D, hd], [x1, D, H], [x0, D, H]]):
            b.quad(q, wid, wall_mat, wc)
        north = [(0.0, x0), (x1, W)]
        _adjoining(b, x0, x1, hd, D, L)
    b.quad([[W, 0, 0], [0, 0, 0], [0, 0, H], [W, 0, H]], wid, wall_mat, wc)  # S, normal +y
    b.quad([[W, D, 0], [W, 0, 0], [W, 0, H], [W, D, H]], wid, wall_mat, wc)  # E, normal -x
    b.quad([[0, 0, 0], [0, D, 0], [0, D, H], [0, 0, H]], wid, wall_mat, wc)  # W, normal +x
    cid = b.new_object("ceiling", "white", "plaster", structural=True)
    b.quad([[0, 0, H], [0, D, H], [W, D, H], [W, 0, H]], cid, "plaster", colour("white", b.rng))
    bb = b.new_object("baseboard", base_col, "wood", structural=True)
    t, h = 0.015, 0.08
    cents = [[W / 2, t / 2, h / 2], [W - t / 2, D / 2, h / 2], [t / 2, D / 2, h / 2]]
    sizes = [[W, t, h], [t, D, h], [t, D, h]]
    for u0, u1 in north:
        if u1 - u0 > 0.05:
            cents.append([(u0 + u1) / 2, D - t / 2, h / 2])
            sizes.append([u1 - u0, t, h])
    b.mesh.boxes(np.array(cents), np.array(sizes), bb, MAT["wood"], b.col(base_col), tex=b.tex())


def _adjoining(b: SceneBuilder, x0: float, x1: float, hd: float, D: float, L: float) -> None:
    """A plain room seen through a doorway: floor, ceiling, back and side walls (front wall not needed)."""
    rng = b.rng
    col = pick(rng, WALL_COLOURS)
    oid = b.new_object("open doorway", None, "plaster")
    a0, a1 = x0 - rng.uniform(0.3, 2.0), x1 + rng.uniform(0.3, 2.0)
    h = hd + rng.uniform(0.2, 0.6)
    y1 = D + L
    c = b.col(col) * 0.8
    b.quad([[a0, D, 0], [a1, D, 0], [a1, y1, 0], [a0, y1, 0]], oid, "wood", b.col(pick(rng, WOOD_COLOURS)))
    b.quad([[a0, D, h], [a0, y1, h], [a1, y1, h], [a1, D, h]], oid, "plaster", colour("white", rng) * 0.8)
    b.quad([[a0, y1, 0], [a1, y1, 0], [a1, y1, h], [a0, y1, h]], oid, "plaster", c)
    b.quad([[a1, y1, 0], [a1, D, 0], [a1, D, h], [a1, y1, h]], oid, "plaster", c)
    b.quad([[a0, D, 0], [a0, y1, 0], [a0, y1, h], [a0, D, h]], oid, "plaster", c)
    # The wall's thickness around the opening (jambs and lintel).
    b.mesh.boxes(np.array([[x0 - 0.05, D + 0.06, hd / 2], [x1 + 0.05, D + 0.06, hd / 2], [(x0 + x1) / 2, D + 0.06,
                                                                                        hd + 0.05]]),
                 np.array([[0.1, 0.12, hd], [0.1, 0.12, hd], [x1 - x0 + 0.2, 0.12, 0.1]]), oid, MAT["plaster"],
                 b.col(col), tex=b.tex())


MOODS = {
    # name: (caption phrases, window outside colour (linear), ambient (linear RGB))
    "day": (("bright daylight", "soft daylight", "natural daylight", "sunny morning light"),
            np.array([0.75, 0.88, 1.0]), np.array([0.30, 0.32, 0.36])),
    "evening": (("warm evening light", "cozy lamp light", "dim evening light", "warm lamp light at night"),
                np.array([0.03, 0.05, 0.14]), np.array([0.10, 0.08, 0.06])),
    "overhead": (("bright overhead lighting", "evenly lit", "fluorescent ceiling lights", "bright indoor lighting"),
                 np.array([0.62, 0.72, 0.85]), np.array([0.27, 0.27, 0.27])),
}


def light_room(b: SceneBuilder, mood: str, W: float, D: float, H: float, windows: list[tuple[float, float, float]],
               ceiling_lamps: int, pendant: bool) -> None:
    """Add lights for a mood: daylight through windows, warm lamps in the evening or ceiling lights.

    windows: (x, y, yaw) of window centres on the wall (their fronts face into the room)."""
    rng = b.rng
    phrases, _, ambient = MOODS[mood]
    b.ambient = ambient * rng.uniform(0.85, 1.15)
    b.mood = phrases[int(rng.integers(len(phrases)))]
    if mood == "day":
        for x, y, yaw in windows[:2]:
            fx, fy = -np.sin(yaw), np.cos(yaw)
            b.point_light([x + 0.6 * fx, y + 0.6 * fy, 1.7], COOL, rng.uniform(1.6, 2.4), radius=3.0)
    n_ceiling = ceiling_lamps if mood != "day" else min(ceiling_lamps, 1)
    rgb = {"day": NEUTRAL, "evening": WARM, "overhead": NEUTRAL if rng.random() < 0.5 else COOL}[mood]
    xs = (np.arange(n_ceiling) + 0.5) / max(n_ceiling, 1) * W
    for x in xs:
        y = D * rng.uniform(0.45, 0.7)
        ceiling_lamp(b, float(x), float(y), H, rgb, (1.1 if mood == "day" else 1.5) * rng.uniform(0.8, 1.2)
                     * (1.0 + 0.15 * (W * D / max(n_ceiling, 1)) ** 0.5 / 3), pendant=pendant)
    b.lights = b.lights[:3]  # 1-3 lights; extra lamps stay visible but do not cast light
