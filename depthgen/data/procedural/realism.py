"""Sim-to-real options of the procedural engine: which effects are on (``RealismConfig``), and the scene-level
ones: light colour and strength, and the field of view.

Every effect is off unless asked for (``realism=None`` everywhere is the engine as it was: the shipped models,
layout bank and benchmarks were made with it). ``realism="on"`` turns every effect on; a ``RealismConfig``
(or a mapping of its fields) chooses them one by one. Each effect draws from its own seeded stream
``np.random.default_rng([seed, STREAMS[name]])``, so the same seed gives the same image, and switching one
effect off leaves the draws of the others unchanged.

Where each effect lives: light colour, the field of view and close framing here (the close camera itself in
``camera``); textures and specular highlights in
``textures`` / ``shading``; posters and clutter in ``clutter``; ambient occlusion, exposure, tone curve and the
camera effects (blur, vignetting, sensor noise, white balance, JPEG) in ``photo``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

# Seed streams (the scene uses 1, the camera 2, the sensor 3, captions 4).
STREAMS = {"clutter": 7, "light": 8, "fov": 9, "photo": 10, "framing": 11}
REALISM_HFOV_RANGE = (45.0, 90.0)  # degrees: phones (65-75), Kinect (57-62), wide and narrow lenses
KELVIN_RANGE = (3000.0, 6500.0)
CLOSE_RANGE_SHARE = 0.5  # of indoor realism views framed close (``camera.sample_close_camera``)


@dataclass(frozen=True)
class RealismConfig:
    """Which sim-to-real effects are on (all by default once realism is asked for)."""

    light_colour: bool = True        # colour temperature and strength of every light, tinted ambient
    ambient_occlusion: bool = True   # darker creases and contact shadows (screen space, from depth)
    exposure: bool = True            # exposure error around an auto-exposure, and one of several tone curves
    textures: bool = True            # wood grain rings, fabric stripes / checks, varied tiles
    specular: bool = True            # Blinn-Phong highlights on glossy materials (view-dependent)
    posters: bool = True             # posters and framed prints on the walls (indoors)
    clutter: bool = True             # small objects on tables, counters and shelves (indoors)
    blur: bool = True                # defocus and sometimes motion blur
    vignetting: bool = True          # darker image corners
    noise: bool = True               # shot and read noise of the sensor
    white_balance: bool = True       # a camera white-balance error
    jpeg: bool = True                # JPEG compression artefacts
    fov: bool = True                 # horizontal field of view drawn from REALISM_HFOV_RANGE (K records it)
    close_range: bool = True         # half the indoor views framed close (median depth 0.9-2.5 m), as photos are

    def to_dict(self) -> dict[str, bool]:
        return dataclasses.asdict(self)

    def any_photo(self) -> bool:
        """True when an image-formation effect (``photo``) is on."""
        return any(getattr(self, k) for k in PHOTO_EFFECTS)


PHOTO_EFFECTS = ("ambient_occlusion", "exposure", "blur", "vignetting", "noise", "white_balance", "jpeg")
EFFECTS = tuple(f.name for f in dataclasses.fields(RealismConfig))


def realism_config(spec: Any) -> RealismConfig | None:
    """None for ``None`` / ``False`` / ``"off"``; every effect for ``True`` / ``"on"``; a ``RealismConfig`` as
    is; a mapping of its fields (the rest on); a string ``"on,-jpeg,-noise"`` switches named effects off."""
    if spec is None or spec is False or (isinstance(spec, str) and spec.strip().lower() in ("off", "none", "")):
        return None
    if spec is True:
        return RealismConfig()
    if isinstance(spec, RealismConfig):
        return spec
    if isinstance(spec, Mapping):
        unknown = sorted(set(spec) - set(EFFECTS))
        if unknown:
            raise ValueError(f"unknown realism effect(s) {unknown}; choose from {list(EFFECTS)}")
        return RealismConfig(**{k: bool(v) for k, v in spec.items()})
    if isinstance(spec, str):
        parts = [p.strip() for p in spec.lower().split(",") if p.strip()]
        if parts and parts[0] == "on":
            off = [p[1:] for p in parts[1:] if p.startswith("-")]
            if len(off) == len(parts) - 1:
                return realism_config({k: False for k in off})
    raise ValueError(f"realism must be 'on', 'off', 'on,-effect,...' or a RealismConfig, got {spec!r}; "
                     f"effects: {', '.join(EFFECTS)}")


def stream(seed: int, name: str) -> np.random.Generator:
    """The seeded generator of one effect for scene / view ``seed``."""
    return np.random.default_rng([int(seed), STREAMS[name]])


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """(3,) linear RGB of a black body at ``kelvin`` (1000-12000 K), normalised to green = 1 (Tanner Helland's
    fit of the sRGB colour, converted to linear)."""
    t = np.clip(kelvin, 1000.0, 12000.0) / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    g = 99.4708025861 * np.log(t) - 161.1195681661 if t <= 66 else 288.1221695283 * (t - 60) ** -0.0755148492
    b = 255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    srgb = np.clip(np.array([r, g, b]) / 255.0, 1e-3, 1.0)
    lin = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return lin / lin[1]


def vary_lights(scene: Any, rng: np.random.Generator) -> None:
    """Give each light of ``scene`` a colour temperature tint (relative to 5000 K, so warm lamps stay warmer
    than daylight) and a strength in [0.7, 1.4] x; tint the ambient light towards one of them. In place; the
    scene stays view-independent (meshes and renders agree)."""
    ref = kelvin_rgb(5000.0)
    tints = []
    for light in scene.lights:
        tint = kelvin_rgb(rng.uniform(*KELVIN_RANGE)) / ref
        light.colour = np.asarray(light.colour, np.float64) * tint * rng.uniform(0.7, 1.4)
        tints.append(tint)
    amb_tint = tints[int(rng.integers(len(tints)))] if tints else kelvin_rgb(rng.uniform(*KELVIN_RANGE)) / ref
    scene.ambient = np.asarray(scene.ambient, np.float64) * (0.5 + 0.5 * amb_tint) * rng.uniform(0.6, 1.3)
    if tints and scene.sky is not None and "sun_colour" in scene.sky:
        scene.sky = dict(scene.sky, sun_colour=tuple(np.asarray(scene.sky["sun_colour"]) * (0.5 + 0.5 * tints[0])))


def draw_hfov(seed: int) -> float:
    """A horizontal field of view (degrees) for realism renders, uniform in ``REALISM_HFOV_RANGE``."""
    return float(stream(seed, "fov").uniform(*REALISM_HFOV_RANGE))


def close_framed(seed: int, outdoor: bool) -> np.random.Generator | None:
    """The framing stream of view ``seed`` when this indoor view is framed close (``CLOSE_RANGE_SHARE`` of
    them), to draw its camera from; None for the usual camera (always outdoors)."""
    rng = stream(seed, "framing")
    return rng if not outdoor and rng.random() < CLOSE_RANGE_SHARE else None
