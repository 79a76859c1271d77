"""Image formation for realism renders: linear radiance -> an 8-bit photograph.

Steps, in the order a camera applies them (each one switchable in ``RealismConfig`` and drawn from its own
seeded stream, so switching one off leaves the others' draws unchanged):

1. ambient occlusion: creases and contact regions darkened, from the depth map (a pixel deeper than its
   neighbourhood by a few percent sits in a concave corner);
2. blur: Gaussian defocus (sigma up to 0.5 px at 64 px wide), sometimes a short linear motion blur;
3. vignetting: radial fall-off towards the corners;
4. exposure: half-way auto-exposure towards a mid-grey key, with an error of about a third of a stop, and one of three
   tone curves (soft shoulder, Reinhard, filmic) with a saturation change;
5. sensor noise: shot noise (variance proportional to the signal) and read noise, per channel;
6. white balance: red and blue gains off by a few percent;
7. tone curve, sRGB encoding, 8-bit quantisation;
8. JPEG compression at quality 35-95.

Effect sizes are set for a 64 px wide image and grow with the width (blur with its square root). With every effect off this is the
engine's own tone mapping (``shading.tone_map``).
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.materials import linear_to_srgb
from depthgen.data.procedural.realism import STREAMS, RealismConfig

TONE_CURVES = ("soft", "reinhard", "filmic")
_SUB = {"ambient_occlusion": 0, "blur": 1, "vignetting": 2, "exposure": 3, "noise": 4, "white_balance": 5,
        "jpeg": 6}


def _rng(seed: int, effect: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), STREAMS["photo"], _SUB[effect]])


def tone_curve(x: np.ndarray, curve: str) -> np.ndarray:
    """Linear radiance (..., 3) >= 0 -> display-linear values in [0, 1]."""
    x = np.maximum(x, 0.0)
    if curve == "soft":
        return 1.0 - np.exp(-1.25 * x)
    if curve == "reinhard":
        y = 1.6 * x
        return y / (1.0 + y)
    if curve == "filmic":  # Narkowicz's fit of the ACES curve
        y = 0.8 * x
        return np.clip(y * (2.51 * y + 0.03) / (y * (2.43 * y + 0.59) + 0.14), 0.0, 1.0)
    raise ValueError(f"tone curve must be one of {TONE_CURVES}, got {curve!r}")


def ambient_occlusion(depth: np.ndarray, valid: np.ndarray, width_scale: float, strength: float) -> np.ndarray:
    """(H, W) factor in (0, 1]: 1 - strength x how far (up to 12 %) a pixel lies behind its neighbourhood's
    mean depth (normalised convolution over valid pixels, Gaussian sigma 1.5 px at 64 px wide)."""
    import cv2

    sigma = max(0.8, 1.5 * width_scale)
    d = np.where(valid, depth, 0.0).astype(np.float32)
    m = valid.astype(np.float32)
    num = cv2.GaussianBlur(d, (0, 0), sigma)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    mean = num / np.maximum(den, 1e-6)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(valid & (den > 0.3), (d - mean) / np.maximum(d, 1e-6), 0.0)
    return (1.0 - strength * np.clip(rel / 0.12, 0.0, 1.0)).astype(np.float32)


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    n = int(np.ceil(length)) * 2 + 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    for t in np.linspace(-length / 2, length / 2, 4 * n):
        k[int(round(c + t * np.sin(angle))), int(round(c + t * np.cos(angle)))] += 1.0
    return k / k.sum()


def develop(linear: np.ndarray, depth: np.ndarray, valid: np.ndarray, cfg: RealismConfig, seed: int) -> np.ndarray:
    """(H, W, 3) uint8 photograph from (H, W, 3) linear radiance, (H, W) depth metres and validity."""
    import cv2

    x = np.asarray(linear, np.float32).copy()
    h, w = depth.shape
    px = w / 64.0
    if cfg.ambient_occlusion:
        r = _rng(seed, "ambient_occlusion")
        x *= ambient_occlusion(depth, valid, px, r.uniform(0.25, 0.6))[..., None]
    if cfg.blur:
        r = _rng(seed, "blur")
        sigma, motion = r.uniform(0.0, 0.5) * np.sqrt(px), r.random() < 0.15
        length, angle = r.uniform(1.0, 2.0) * np.sqrt(px), r.uniform(0.0, np.pi)
        if sigma > 0.05:
            x = cv2.GaussianBlur(x, (0, 0), sigma)
        if motion:
            x = cv2.filter2D(x, -1, _motion_kernel(length, angle), borderType=cv2.BORDER_REFLECT)
    if cfg.vignetting:
        r = _rng(seed, "vignetting")
        a = r.uniform(0.1, 0.45)
        v, u = np.mgrid[0:h, 0:w].astype(np.float32)
        rr = ((u + 0.5 - w / 2) ** 2 + (v + 0.5 - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
        x *= (1.0 - a * rr)[..., None]
    curve, saturation = "soft", 1.0
    if cfg.exposure:
        r = _rng(seed, "exposure")
        error, curve, saturation = r.normal(0.0, 0.3), TONE_CURVES[int(r.integers(3))], r.uniform(0.85, 1.15)
        lum = x @ np.array([0.2126, 0.7152, 0.0722], np.float32)
        key = float(np.exp(np.mean(np.log(np.maximum(lum, 0.0) + 1e-3))))
        x *= float((0.28 / max(key, 1e-3)) ** 0.5 * 2.0 ** error)
    if cfg.noise:
        r = _rng(seed, "noise")
        gain, read = r.uniform(0.0005, 0.005), r.uniform(0.0005, 0.003)
        x = x + np.sqrt(np.maximum(x, 0.0) * gain + read ** 2) * r.standard_normal(x.shape).astype(np.float32)
    if cfg.white_balance:
        r = _rng(seed, "white_balance")
        x *= np.exp(np.array([r.normal(0.0, 0.07), 0.0, r.normal(0.0, 0.07)], np.float32))
    y = tone_curve(x, curve)
    if saturation != 1.0:
        grey = (y @ np.array([0.2126, 0.7152, 0.0722]))[..., None]
        y = np.clip(grey + saturation * (y - grey), 0.0, 1.0)
    rgb = np.round(linear_to_srgb(y) * 255.0).astype(np.uint8)
    if cfg.jpeg:
        quality = int(_rng(seed, "jpeg").integers(35, 96))
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            rgb = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return rgb
