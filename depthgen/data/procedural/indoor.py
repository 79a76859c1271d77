"""Indoor room grammar: per room type, its size, surfaces, furniture layout and lighting.

``build_room(b, scene_type)`` fills a SceneBuilder. Furniture goes against the N/E/W walls or into the floor
area; the camera zone by the south wall is kept clear.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural import fixtures as fx
from depthgen.data.procedural import furniture as fu
from depthgen.data.procedural.builder import SceneBuilder
from depthgen.data.procedural.materials import WALL_COLOURS, WOOD_COLOURS, pick
from depthgen.data.procedural.room import MOODS, WALL_YAW, Placer, light_room, shell

ROOM_TYPES = ("library", "bedroom", "kitchen", "living room", "office", "bathroom", "classroom", "gallery",
              "dining room")

# type: (W range, D range, H range)
_DIMS = {
    "library": ((4.5, 8.0), (5.0, 9.0), (2.7, 3.6)), "bedroom": ((3.2, 5.0), (3.5, 5.5), (2.5, 2.9)),
    "kitchen": ((3.0, 5.0), (3.5, 6.0), (2.5, 2.9)), "living room": ((4.0, 6.5), (4.5, 7.5), (2.5, 3.0)),
    "office": ((4.5, 8.0), (5.0, 9.0), (2.6, 3.0)), "bathroom": ((2.3, 3.4), (2.8, 4.0), (2.4, 2.7)),
    "classroom": ((6.5, 9.0), (7.0, 10.0), (2.8, 3.3)), "gallery": ((6.0, 10.0), (7.0, 10.0), (3.2, 4.5)),
    "dining room": ((3.5, 5.5), (4.0, 6.5), (2.5, 3.0)),
}


def _floor_and_walls(rng, scene_type: str) -> tuple[str, str, str, str]:
    if scene_type == "bathroom":
        return "tiles", pick(rng, ["white", "grey", "beige", "dark grey"]), "tiles", pick(
            rng, ["white", "light blue", "sage green", "cream", "teal"])
    if scene_type == "kitchen":
        return "tiles", pick(rng, ["white", "grey", "terracotta", "beige"]), "plaster", pick(rng, WALL_COLOURS)
    if scene_type == "gallery":
        return pick(rng, ["wood", "concrete", "marble"]), pick(rng, ["tan", "grey", "light grey"]), "plaster", \
            pick(rng, ["white", "white", "light grey", "cream"])
    floor = pick(rng, ["wood", "wood", "carpet"] if scene_type in ("bedroom", "office", "library") else
                 ["wood", "wood", "tiles"])
    floor_col = pick(rng, WOOD_COLOURS) if floor == "wood" else pick(rng, ["grey", "beige", "dark grey", "blue",
                                                                            "dark red", "light grey"])
    wall = "brick" if scene_type in ("living room", "office") and rng.random() < 0.2 else "plaster"
    wall_col = pick(rng, ["terracotta", "dark red", "brown"]) if wall == "brick" else pick(rng, WALL_COLOURS)
    if scene_type == "library" and rng.random() < 0.4:
        wall_col = pick(rng, ["dark red", "dark green", "navy"])
    return floor, floor_col, wall, wall_col


def build_room(b: SceneBuilder, scene_type: str) -> None:
    """Build a complete room of ``scene_type`` into ``b`` (geometry, objects, lights, camera hints)."""
    rng = b.rng
    (w0, w1), (d0, d1), (h0, h1) = _DIMS[scene_type]
    W, D, H = rng.uniform(w0, w1), rng.uniform(d0, d1), rng.uniform(h0, h1)
    floor, floor_col, wall, wall_col = _floor_and_walls(rng, scene_type)
    opening = None
    if scene_type not in ("bathroom", "classroom") and rng.random() < 0.3:
        dw = rng.uniform(0.9, 1.8)
        x0 = rng.uniform(0.3, W - dw - 0.3)
        opening = (x0, x0 + dw, min(H - 0.3, rng.uniform(2.0, 2.4)), rng.uniform(2.0, 5.0))
    shell(b, W, D, H, floor, floor_col, wall, wall_col, pick(rng, ["white", "white", "brown", "grey"]), opening)
    cam_x = rng.uniform(0.3, 0.7) * W
    cam_y = rng.uniform(0.25, 0.6)
    keep = [(cam_x - 0.7, 0.0, cam_x + 0.7, cam_y + 0.9)]
    if opening is not None:
        keep.append((opening[0] - 0.1, D - 0.9, opening[1] + 0.1, D))  # keep the doorway clear
    p = Placer(W, D, H, rng, keep)
    if opening is not None:
        p.spans["N"].append((W - opening[1] - 0.1, W - opening[0] + 0.1, 0.0, H))
    b.camera = {"position": (cam_x, cam_y), "yaw": 0.0, "room": (W, D, H)}
    mood = pick(rng, ["day", "evening", "overhead"] if scene_type not in ("office", "classroom", "gallery")
                else ["day", "overhead", "overhead"])
    windows: list[tuple[float, float, float]] = []
    outside = MOODS[mood][1]
    # Windows first (walls E/W/N), then the room's own layout.
    n_win = {"bathroom": 1, "gallery": 0, "classroom": 3}.get(scene_type, int(rng.integers(1, 3)))
    for _ in range(n_win):
        wall = pick(rng, ["E", "W", "N"] if scene_type != "classroom" else ["E"])
        ww = rng.uniform(0.9, 1.8)
        z0 = rng.uniform(0.8, 1.0)
        z1 = min(H - 0.25, z0 + rng.uniform(1.1, 1.6))
        with_curtains = scene_type in ("bedroom", "living room", "dining room", "library") and rng.random() < 0.6
        span = ww + (1.1 if with_curtains else 0.0)
        pose = p.against(wall, span, 0.0, 0.0, H)  # windows need the wall free from floor to ceiling
        if pose is not None:
            fx.window(b, *pose, ww, z0, z1, outside * rng.uniform(0.9, 1.1))
            windows.append(pose)
            if with_curtains:
                fx.curtains(b, *pose, ww, min(H - 0.08, z1 + 0.25))
    if not windows and mood == "day":
        mood = "overhead"  # daylight needs a window
    _LAYOUTS[scene_type](b, p, W, D, H, mood)
    if rng.random() < 0.6 and scene_type not in ("bathroom",):
        pose = p.against(pick(rng, ["E", "W"]), 1.0, 0.15, 0.0, 2.3)
        if pose is not None:
            fx.door(b, *pose)
    n_ceiling = {"office": 2, "classroom": 3, "gallery": 3, "library": 2}.get(scene_type, 1)
    pendant = scene_type in ("kitchen", "dining room", "library", "living room") and rng.random() < 0.7
    light_room(b, mood, W, D, H, windows, n_ceiling, pendant)
    size = W * D
    adj = ["spacious"] if size > 35 else (["small"] if size < 12 else [])
    adj += ["cozy"] if mood == "evening" else ["bright"]
    b.adjectives = tuple(adj)


def _wall_run(b, p, wall, H, make, widths) -> int:
    """Place a row of wall furniture (``make(b, x, y, yaw, w)``) along a wall; returns how many fit."""
    n = 0
    for w in widths:
        pose = p.against(wall, w, 0.35, 0.0, H)
        if pose is None:
            break
        make(b, *pose, w)
        n += 1
    return n


def _library(b, p, W, D, H, mood):
    rng = b.rng
    h = min(H - 0.2, rng.uniform(1.9, 2.6))
    wood = pick(rng, WOOD_COLOURS)
    for wall in ("N", "E", "W"):
        k = int(p.wall_len(wall) / 1.0)
        _wall_run(b, p, wall, h, lambda b_, x, y, yaw, w: fu.bookshelf(b_, x, y, yaw, w, h, wood=wood),
                  rng.uniform(0.8, 1.2, k))
    xy = p.in_room(1.6, 0.9, W / 2, D * 0.55)
    if xy:
        x, y = xy
        fu.table(b, x, y, 0.0, 1.6, 0.9, name="reading table")
        col = pick(rng, WOOD_COLOURS)
        fu.chair(b, x - 0.4, y - 0.7, 0.0, col)
        fu.chair(b, x + 0.4, y + 0.7, np.pi, col)
    xy = p.in_room(0.9, 0.9)
    if xy:
        fu.sofa(b, *xy, rng.uniform(-np.pi, np.pi) if rng.random() < 0.3 else np.pi, 0.9, name="armchair",
                leather=rng.random() < 0.5)
        fx.floor_lamp(b, xy[0] + 0.7, xy[1])
    if rng.random() < 0.7:
        xy = p.in_room(2.5, 1.8, margin=-5)
        if xy:
            fx.rug(b, *xy, 0.0, 2.4, 1.7)


def _bedroom(b, p, W, D, H, mood):
    rng = b.rng
    bw = rng.choice([0.95, 1.4, 1.6, 1.8])
    pose = p.against("N", bw, 2.1, 0.0, 1.2, u=W / 2)
    if pose:
        fu.bed(b, *pose, bw)
        for side in (-1, 1):
            ns = p.against("N", 0.45, 0.4, 0.0, 0.6, u=W / 2 + side * (bw / 2 + 0.3), tries=1)
            if ns:
                fu.cabinet(b, *ns, 0.45, 0.55, 0.4, name="nightstand")
                if side == 1 or rng.random() < 0.5:
                    fx.table_lamp(b, ns[0], ns[1], 0.55)
        art = p.against("N", 1.0, 0.0, 1.3, 2.1, u=W / 2, tries=1)
        if art:
            fx.painting(b, *art, 0.9, 0.6, 1.6)
    pose = p.against(pick(rng, ["E", "W"]), 1.2, 0.6, 0.0, 2.1)
    if pose:
        fu.cabinet(b, *pose, 1.2, rng.uniform(1.8, 2.1), 0.6, name="wardrobe")
    if rng.random() < 0.6:
        pose = p.against(pick(rng, ["E", "W"]), 1.0, 0.45, 0.0, 0.9)
        if pose:
            fu.cabinet(b, *pose, 1.0, 0.8, 0.45, name="chest of drawers")
    xy = p.in_room(1.8, 1.2, margin=-5)
    if xy and rng.random() < 0.7:
        fx.rug(b, *xy, 0.0, 1.8, 1.2)
    if rng.random() < 0.6:
        _corner_plant(b, p)


def _corner_plant(b, p, size=None) -> None:
    size = size or b.rng.uniform(0.7, 1.5)
    for wall in ("N", "E", "W"):
        pose = p.against(wall, 0.5, 0.5, 0.0, size)
        if pose:
            fx.plant(b, pose[0], pose[1], size)
            return


def _kitchen(b, p, W, D, H, mood):
    rng = b.rng
    wall = pick(rng, ["N", "E", "W"])
    L = p.wall_len(wall)
    run = min(L - 1.0, rng.uniform(1.8, 3.6))
    pose = p.against(wall, run, 0.62, 0.0, H)
    if pose:
        fx.kitchen_run(b, *pose, run, H)
    pose = p.against(pick(rng, ["N", "E", "W"]), 0.72, 0.7, 0.0, 2.0)
    if pose:
        fx.fridge(b, *pose)
    if p.W * p.D > 14:
        xy = p.in_room(1.2, 0.8, margin=0.8)
        if xy:
            x, y = xy
            fu.table(b, x, y, 0.0, 1.2, 0.8, name="kitchen table")
            col = pick(rng, WOOD_COLOURS + ["white", "black"])
            for dx, dy, yaw in ((-0.3, -0.6, 0.0), (0.3, 0.6, np.pi)):
                fu.chair(b, x + dx, y + dy, yaw, col)
    if rng.random() < 0.4:
        _corner_plant(b, p, 0.8)


def _living(b, p, W, D, H, mood):
    rng = b.rng
    wall = pick(rng, ["N", "E", "W"])
    sw = rng.uniform(1.8, 2.6)
    pose = p.against(wall, sw, 0.9, 0.0, 0.9)
    if pose:
        x, y, yaw = pose
        fu.sofa(b, x, y, yaw, sw, leather=rng.random() < 0.2)
        fwd = np.array([-np.sin(yaw), np.cos(yaw)])
        ct = np.array([x, y]) + fwd * 1.05
        rect = (ct[0] - 0.6, ct[1] - 0.6, ct[0] + 0.6, ct[1] + 0.6)
        if p.free(rect, 0.0):
            p.rects.append(rect)
            fu.table(b, ct[0], ct[1], yaw, 1.1, 0.6, 0.42, name="coffee table")
            fx.rug(b, ct[0], ct[1], yaw, sw + 0.4, 1.8)
        opposite = {"N": None, "E": "W", "W": "E"}[wall]
        if opposite:
            tvp = p.against(opposite, 1.5, 0.45, 0.0, 1.5, u=y if opposite == "E" else p.D - y)
            if tvp:
                fu.cabinet(b, *tvp, 1.5, 0.5, 0.45, name="tv stand")
                fx.tv(b, *tvp, rng.uniform(0.9, 1.3))
    xy = p.in_room(0.9, 0.9)
    if xy:
        fu.sofa(b, *xy, rng.choice([np.pi, np.pi / 2, -np.pi / 2]), 0.9, name="armchair")
    if rng.random() < 0.7:
        pose = p.against(pick(rng, ["N", "E", "W"]), 0.4, 0.4, 0.0, 1.8)
        if pose:
            fx.floor_lamp(b, pose[0], pose[1])
    if rng.random() < 0.5:
        _wall_run(b, p, pick(rng, ["E", "W"]), 2.0,
                  lambda b_, x, y, yaw, w: fu.bookshelf(b_, x, y, yaw, w, rng.uniform(1.2, 2.0)), [1.0])
    for _ in range(int(rng.integers(1, 3))):
        pose = p.against(pick(rng, ["N", "E", "W"]), 0.8, 0.0, 1.2, 2.1)
        if pose:
            fx.painting(b, *pose, 0.7, 0.5, 1.6)
    _corner_plant(b, p)


def _office(b, p, W, D, H, mood):
    rng = b.rng
    # Rows of desks across the room (each desk with its chair on the camera side), then desks along walls.
    n_rows = int(rng.integers(1, 4))
    per_row = max(1, int((W - 1.2) / 1.6))
    xs = np.linspace(0.6 + 0.75, W - 0.6 - 0.75, per_row) if per_row > 1 else np.array([W / 2])
    facing = pick(rng, [0.0, np.pi])
    for r in range(n_rows):
        y = D - 1.3 - r * 2.3
        if y < 2.2:
            break
        for x in xs:
            rect = (x - 0.75, y - 1.2, x + 0.75, y + 0.4)
            if rng.random() < 0.85 and p.free(rect, 0.05):
                p.rects.append(rect)
                fu.desk_set(b, x, y - 0.35 - 0.15 * (facing == 0.0), facing, monitor=rng.random() < 0.9)
    for _ in range(int(rng.integers(0, 3))):
        pose = p.against(pick(rng, ["E", "W"]), 1.4, 1.5, 0.0, 1.3)
        if pose:
            x, y, yaw = pose
            fu.desk_set(b, *b.to_world(x, y, yaw, [[0, -0.4, 0]])[0, :2], yaw + np.pi)
    for _ in range(int(rng.integers(1, 3))):
        pose = p.against(pick(rng, ["N", "E", "W"]), 0.9, 0.45, 0.0, 1.9)
        if pose:
            fu.cabinet(b, *pose, 0.9, rng.uniform(0.8, 1.9), 0.45, name="filing cabinet", material="metal",
                       col=pick(rng, ["grey", "light grey", "white", "dark grey"]))
    if rng.random() < 0.6:
        _wall_run(b, p, pick(rng, ["N", "E", "W"]), 2.0,
                  lambda b_, x, y, yaw, w: fu.bookshelf(b_, x, y, yaw, w, 1.9), [1.0, 1.0])
    _corner_plant(b, p)


def _bathroom(b, p, W, D, H, mood):
    rng = b.rng
    pose = p.against("N", 1.7, 0.76, 0.0, 0.6, u=rng.uniform(0.9, max(0.95, W - 0.9)))
    if pose and W >= 1.8:
        fx.bathtub(b, *pose)
    pose = p.against(pick(rng, ["E", "W"]), 0.65, 0.5, 0.0, 1.0)
    if pose:
        fx.washbasin(b, *pose)
        x, y, yaw = pose
        wall = "E" if abs(yaw - WALL_YAW["E"]) < 1e-6 else "W"
        mp = b.to_world(x, y, yaw, [[0, -0.25, 0]])[0]
        fx.mirror(b, mp[0], mp[1], yaw, 0.6, 0.8, 1.6)
        p.spans[wall].append((0, 0, 0, 0))
    pose = p.against(pick(rng, ["E", "W", "N"]), 0.45, 0.7, 0.0, 1.0)
    if pose:
        fx.toilet(b, *pose)
    pose = p.against(pick(rng, ["E", "W"]), 0.5, 0.05, 1.0, 1.6)
    if pose:
        tc = pick(rng, ["white", "blue", "red", "yellow", "green", "grey", "pink"])
        tid = b.new_object("towel", tc, "fabric")
        b.boxes(*pose, [[0, 0, 1.1]], [[0.45, 0.04, 0.6]], tid, "fabric", b.col(tc))


def _classroom(b, p, W, D, H, mood):
    rng = b.rng
    pose = p.against("N", min(4.0, W - 1.5), 0.0, 0.8, 2.3, u=W / 2)
    if pose:
        fx.blackboard(b, *pose, min(4.0, W - 1.5) - 0.2)
    p.rects.append((0, D - 2.6, W, D))  # teacher's zone
    fu.table(b, W / 2 + rng.uniform(-1, 1), D - 1.6, np.pi, 1.4, 0.7, name="teacher's desk")
    rows, cols = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    col = pick(rng, WOOD_COLOURS + ["white", "light grey"])
    chair_col = pick(rng, ["blue", "red", "green", "orange", "grey", "black", "brown"])
    xs = np.linspace(1.0, W - 1.0, cols)
    ys = np.linspace(D - 3.4, max(2.0, D - 3.4 - (rows - 1) * 1.4), rows)
    for y in ys:
        for x in xs:
            rect = (x - 0.45, y - 0.9, x + 0.45, y + 0.35)
            if p.free(rect, 0.05):
                p.rects.append(rect)
                fu.table(b, x, y, 0.0, 0.8, 0.5, 0.72, col=col, name="desk", words=("student",))
                fu.chair(b, x, y - 0.55, 0.0, chair_col)
    _wall_run(b, p, "W", 2.0, lambda b_, x, y, yaw, w: fu.bookshelf(b_, x, y, yaw, w, 1.6), [1.0])


def _gallery(b, p, W, D, H, mood):
    rng = b.rng
    for wall in ("N", "E", "W"):
        n = int(p.wall_len(wall) / rng.uniform(1.8, 3.0))
        for i in range(n):
            pw, ph = rng.uniform(0.6, 1.6), rng.uniform(0.5, 1.3)
            u = (i + 0.5) * p.wall_len(wall) / n
            pose = p.against(wall, pw, 0.0, 1.5 - ph / 2, 1.5 + ph / 2, u=u, tries=1)
            if pose:
                fx.painting(b, *pose, pw, ph, 1.55)
    for _ in range(int(rng.integers(1, 3))):
        xy = p.in_room(1.6, 0.5, margin=1.0)
        if xy:
            fx.bench(b, *xy, 0.0, 1.6)
    for _ in range(int(rng.integers(0, 3))):
        xy = p.in_room(0.6, 0.6, margin=1.0)
        if xy:
            fx.sculpture(b, *xy)


def _dining(b, p, W, D, H, mood):
    rng = b.rng
    tw, td = rng.uniform(1.4, 2.2), rng.uniform(0.85, 1.0)
    xy = p.in_room(tw + 1.2, td + 1.2, W / 2, D * 0.55, margin=0.2)
    if xy:
        x, y = xy
        fx.rug(b, x, y, 0.0, tw + 1.4, td + 1.5)
        fu.table(b, x, y, 0.0, tw, td, name="dining table")
        col = pick(rng, WOOD_COLOURS + ["white", "black", "green", "red"])
        n = max(1, int(tw / 0.6))
        for i in range(n):
            cx = x - tw / 2 + tw / n * (i + 0.5)
            fu.chair(b, cx, y - td / 2 - 0.3, 0.0, col)
            fu.chair(b, cx, y + td / 2 + 0.3, np.pi, col)
    pose = p.against(pick(rng, ["N", "E", "W"]), 1.6, 0.45, 0.0, 1.0)
    if pose:
        fu.cabinet(b, *pose, 1.6, 0.85, 0.45, name="sideboard")
    pose = p.against(pick(rng, ["N", "E", "W"]), 1.0, 0.0, 1.3, 2.1)
    if pose:
        fx.painting(b, *pose, 0.9, 0.6, 1.65)
    _corner_plant(b, p)


_LAYOUTS = {"library": _library, "bedroom": _bedroom, "kitchen": _kitchen, "living room": _living,
            "office": _office, "bathroom": _bathroom, "classroom": _classroom, "gallery": _gallery,
            "dining room": _dining}
