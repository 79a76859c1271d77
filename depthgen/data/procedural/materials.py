"""Named colours and the material table.

Colours are named so that captions can say them: ``PALETTE`` maps a caption word to an sRGB triple; a scene
draws an object's colour by name, jitters it slightly (so the name stays right) and stores it as linear RGB.
Materials are integer ids (``MATERIALS`` index); ``material_id`` maps in renders use these ids.
"""

from __future__ import annotations

import numpy as np

# Caption word -> sRGB in [0, 1]. Names are the words a person would use for the colour.
PALETTE: dict[str, tuple[float, float, float]] = {
    "white": (0.92, 0.92, 0.90), "cream": (0.93, 0.88, 0.74), "beige": (0.82, 0.74, 0.60),
    "light grey": (0.72, 0.72, 0.72), "grey": (0.50, 0.50, 0.50), "dark grey": (0.27, 0.27, 0.28),
    "black": (0.08, 0.08, 0.09), "brown": (0.45, 0.29, 0.16), "dark brown": (0.26, 0.16, 0.09),
    "tan": (0.72, 0.57, 0.40), "red": (0.72, 0.12, 0.10), "dark red": (0.45, 0.07, 0.08),
    "orange": (0.90, 0.50, 0.12), "yellow": (0.92, 0.80, 0.22), "mustard": (0.78, 0.62, 0.15),
    "green": (0.22, 0.55, 0.22), "olive": (0.45, 0.47, 0.20), "dark green": (0.10, 0.30, 0.15),
    "sage green": (0.60, 0.69, 0.56), "teal": (0.10, 0.50, 0.50), "blue": (0.16, 0.32, 0.72),
    "navy": (0.10, 0.14, 0.35), "light blue": (0.60, 0.76, 0.88), "purple": (0.42, 0.22, 0.55),
    "pink": (0.90, 0.60, 0.66), "pale yellow": (0.95, 0.91, 0.68), "terracotta": (0.76, 0.40, 0.28),
}

# Colour families used by the grammar.
WALL_COLOURS = ["white", "cream", "beige", "light grey", "pale yellow", "sage green", "light blue", "pink",
                "terracotta", "grey"]
FABRIC_COLOURS = ["red", "dark red", "blue", "navy", "green", "dark green", "grey", "dark grey", "beige",
                  "mustard", "teal", "purple", "orange", "brown", "cream", "pink", "black"]
WOOD_COLOURS = ["brown", "dark brown", "tan"]
BOOK_COLOURS = ["red", "dark red", "blue", "navy", "green", "dark green", "brown", "black", "cream", "orange",
                "mustard", "teal", "purple", "grey"]
METAL_COLOURS = ["grey", "light grey", "dark grey", "black", "white"]

# Material id -> (name, caption adjective or None). Order is the id; keep appending (ids are stored in data).
MATERIALS: list[tuple[str, str | None]] = [
    ("plaster", None), ("wood", "wooden"), ("brick", "brick"), ("tiles", "tiled"), ("fabric", None),
    ("carpet", None), ("metal", "metal"), ("glass", "glass"), ("mirror", None), ("paper", None),
    ("leaves", None), ("grass", None), ("asphalt", None), ("concrete", "concrete"), ("sand", None),
    ("water", None), ("bark", None), ("ceramic", None), ("stone", "stone"), ("canvas", None),
    ("lamp", None), ("screen", None), ("leather", "leather"), ("plastic", None), ("marble", "marble"),
    ("poster", None),
]
MAT = {name: i for i, (name, _) in enumerate(MATERIALS)}
# Materials that emit light (not shaded): windows show the outside, lamp shades glow, screens glow faintly.
EMISSIVE = np.zeros(len(MATERIALS), bool)
EMISSIVE[[MAT["glass"], MAT["lamp"], MAT["screen"], MAT["mirror"]]] = True
# Structured-light depth fails on transparent / specular materials (kinect holes).
NO_RETURN = np.zeros(len(MATERIALS), bool)
NO_RETURN[[MAT["glass"], MAT["mirror"], MAT["water"], MAT["screen"]]] = True
# Glossiness for realism renders (Blinn-Phong): material -> (specular strength, shininess exponent); 0 = matte.
_GLOSS = {"wood": (0.12, 24), "tiles": (0.35, 48), "metal": (0.5, 32), "ceramic": (0.45, 64), "marble": (0.35, 64),
          "plastic": (0.25, 32), "leather": (0.15, 16), "paper": (0.04, 8), "canvas": (0.04, 8), "water": (0.6, 96),
          "plaster": (0.03, 8), "concrete": (0.04, 8), "stone": (0.08, 16), "poster": (0.2, 48), "leaves": (0.05, 8),
          "asphalt": (0.03, 8), "brick": (0.03, 8)}
SPECULAR = np.zeros(len(MATERIALS), np.float32)
SHININESS = np.ones(len(MATERIALS), np.float32)
for _name, (_ks, _p) in _GLOSS.items():
    SPECULAR[MAT[_name]], SHININESS[MAT[_name]] = _ks, _p


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear RGB -> sRGB [0, 1] (clipped)."""
    c = np.clip(np.asarray(c), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def colour(name: str, rng: np.random.Generator | None = None, jitter: float = 0.03) -> np.ndarray:
    """Linear RGB (3,) of a palette colour, jittered in sRGB by up to ``jitter`` so the name stays true."""
    c = PALETTE[name]
    if rng is not None and jitter > 0:
        j = rng.uniform(-jitter, jitter, 3)
        c = [min(max(c[i] + float(j[i]), 0.0), 1.0) for i in range(3)]
    return np.array([x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c], np.float32)


def pick(rng: np.random.Generator, names: list[str], exclude: tuple[str, ...] = ()) -> str:
    """One colour name from ``names`` (minus ``exclude``), uniformly."""
    choices = [n for n in names if n not in exclude] or names
    return choices[int(rng.integers(len(choices)))]
