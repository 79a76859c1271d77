"""Captions from the scene graph: several phrasings per view, naming the scene type and only objects that are
visible in the image, with the colour names the objects were actually built with."""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.scene import Scene, SceneObject, noun_phrase

# Scene type -> how captions name it (every variant contains the type word, so the type is always named).
TYPE_NAMES = {
    "library": ("library", "home library", "library room"), "bedroom": ("bedroom",),
    "kitchen": ("kitchen",), "living room": ("living room",), "office": ("office", "open-plan office"),
    "bathroom": ("bathroom",), "classroom": ("classroom", "school classroom"),
    "gallery": ("art gallery", "gallery", "museum gallery"), "dining room": ("dining room",),
    "street": ("city street", "street", "town street"), "park": ("park", "city park"),
    "forest": ("forest", "pine forest", "woodland forest"), "beach": ("beach", "sandy beach"),
    "hills": ("hills", "rolling hills", "hilly landscape"),
}
_IRREGULAR = {"bookshelf": "bookshelves", "chest of drawers": "chests of drawers", "shelf": "shelves",
              "person": "people"}
_ALREADY_PLURAL = ("books", "pillows", "cushions", "buildings", "windows", "trees", "rocks", "street lamps",
                   "lamp posts", "kitchen cabinets", "road markings", "hills")


def plural(noun: str) -> str:
    """English plural of a furniture noun ("bench" -> "benches", "bookshelf" -> "bookshelves")."""
    if noun in _ALREADY_PLURAL or noun.endswith("s") and noun in _ALREADY_PLURAL:
        return noun
    for k, v in _IRREGULAR.items():
        if noun.endswith(k):
            return noun[: -len(k)] + v
    if noun.endswith(("ch", "sh", "x", "s")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def visible_objects(scene: Scene, object_id: np.ndarray, min_frac: float = 0.004) -> list[tuple[SceneObject, int]]:
    """Objects covering at least ``min_frac`` of the image (and 3 px), largest first, with pixel counts."""
    ids, counts = np.unique(object_id[object_id >= 0], return_counts=True)
    need = max(3, int(min_frac * object_id.size))
    out = [(scene.objects[int(i)], int(c)) for i, c in zip(ids, counts) if c >= need]
    return sorted(out, key=lambda t: -t[1])


def _groups(objs: list[tuple[SceneObject, int]]) -> list[str]:
    """Noun phrases for visible non-structural objects, grouping same-category objects ("four red chairs")."""
    by_cat: dict[str, list[SceneObject]] = {}
    order: list[str] = []
    for o, _ in objs:
        if o.structural:
            continue
        if o.category not in by_cat:
            order.append(o.category)
        by_cat.setdefault(o.category, []).append(o)
    phrases = []
    for cat in order:
        group = by_cat[cat]
        colours = {o.colour for o in group}
        col = group[0].colour if len(colours) == 1 else None
        words = group[0].words
        if len(group) == 1 and cat not in _ALREADY_PLURAL:
            phrases.append(article(noun_phrase(cat, col, words)))
        else:
            n = len(group)
            count = {2: "two", 3: "three", 4: "four"}.get(n, "several") if cat not in _ALREADY_PLURAL else ""
            noun = plural(cat) if cat not in _ALREADY_PLURAL else cat
            phrases.append(" ".join(w for w in [count, noun_phrase(noun, col, words)] if w))
    return phrases


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _surfaces(scene: Scene, objs: list[tuple[SceneObject, int]]) -> list[str]:
    out = []
    for o, _ in objs:
        if not o.structural:
            continue
        if o.category == "walls":
            out.append(f"{o.material} walls" if o.material in ("brick", "tiles") and o.colour is None else
                       f"{o.colour} {'brick ' if o.material == 'brick' else ''}{'tiled ' if o.material == 'tiles' else ''}walls")
        elif o.category == "floor":
            out.append({"wood": "a wooden floor", "tiles": f"a {o.colour} tiled floor", "carpet": f"a {o.colour} carpet",
                        "marble": "a marble floor", "concrete": "a concrete floor"}.get(o.material, "a floor"))
    return out


def make_captions(scene: Scene, object_id: np.ndarray, rng: np.random.Generator, n: int = 4) -> list[str]:
    """``n`` distinct captions for a view of ``scene`` with per-pixel ``object_id`` (H, W) int (-1 = sky)."""
    objs = visible_objects(scene, object_id)
    things = _groups(objs)
    surf = _surfaces(scene, objs)
    name = TYPE_NAMES.get(scene.scene_type, (scene.scene_type,))
    tname = name[int(rng.integers(len(name)))]
    adj = [a for a in scene.adjectives]
    a1 = adj[int(rng.integers(len(adj)))] + " " if adj else ""
    mood = scene.mood
    top = things[:3]
    k = int(rng.integers(1, 3))
    few = things[:k] if things else []
    cands: list[str] = []
    if scene.outdoor:
        cands += [f"{article(tname)} with {_join(top)} {mood}" if top else f"{article(tname)} {mood}",
                  f"{tname}, {mood.replace('on a ', '').replace('under a ', '').replace('in ', '')}",
                  f"a photo of {article(tname)} with {_join(few)}" if few else f"a photo of {article(tname)}",
                  f"{_join(few)} in {article(tname)}" if few else f"a wide view of {article(tname)}",
                  f"{article(tname)}"]
    else:
        cands += [f"{article(a1 + tname)} with {_join(top)}" if top else f"{article(a1 + tname)}",
                  f"{tname} interior, {mood}",
                  f"a photo of {article(tname)} with {_join(few)}, {mood}" if few else f"a photo of an empty {tname}",
                  f"{_join(few)} in {article(tname)}" + (f" with {surf[0]}" if surf else "") if few else
                  f"{article(tname)} with {_join(surf) if surf else 'bare walls'}",
                  f"inside {article(a1 + tname)}" + (f": {_join(things[:4])}" if things else ""),
                  f"{article(tname)} with {_join(surf + few)}" if surf else f"{article(tname)}, {mood}"]
    seen, out = set(), []
    for c in [cands[0]] + [cands[i] for i in rng.permutation(np.arange(1, len(cands)))]:
        c = " ".join(c.split())
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out[:n]
