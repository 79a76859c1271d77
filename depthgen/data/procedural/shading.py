"""Lighting: ambient + Lambert diffuse from 1-3 lights, shadows from one batched occlusion cast, a sky gradient.

Everything here is view-independent (a surface point has one colour whichever camera sees it), so renders
from two poses agree and ``Scene.mesh()`` vertex colours match the renders.
"""

from __future__ import annotations

import numpy as np

from depthgen.data.procedural.materials import EMISSIVE, SHININESS, SPECULAR, linear_to_srgb
from depthgen.data.procedural.textures import albedo as texture_albedo


def tone_map(linear: np.ndarray) -> np.ndarray:
    """Linear radiance (..., 3) -> display sRGB float32 in [0, 1] (soft shoulder, then the sRGB curve)."""
    x = np.maximum(linear, 0.0)
    return linear_to_srgb(1.0 - np.exp(-1.25 * x)).astype(np.float32)


def surface_albedo(scene, points: np.ndarray, normals: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(k, 3) float32 linear albedo of surface points on triangles ``tri`` (k,) (detailed textures when the
    scene was built with realism textures on)."""
    realism = getattr(scene, "realism", None)
    return texture_albedo(points, normals, scene.tri_material[tri], scene.tri_colour[tri], scene.tri_tex[tri],
                          detail=bool(realism is not None and realism.textures))


def radiance(scene, points: np.ndarray, normals: np.ndarray, tri: np.ndarray, shadows: bool = True,
             albedo: np.ndarray | None = None, nthreads: int = 1, eye: np.ndarray | None = None) -> np.ndarray:
    """(k, 3) float32 linear radiance of surface points (k, 3) with unit normals (k, 3) on triangles (k,).

    Normals should face the viewer (or be the outward face normals for mesh colouring). Shadow rays of all
    lights go in one ``test_occlusions`` call; a point light's ray has the length of the distance to the light
    so that ``tfar < 1`` stops at the light. ``eye`` (3,): the camera centre, given only for a view-dependent
    render: then glossy materials (``materials.SPECULAR``) add Blinn-Phong highlights of the unshadowed lights
    (scenes built with realism specular on; everything else stays view-independent)."""
    import open3d as o3d

    points = np.asarray(points, np.float32)
    normals = np.asarray(normals, np.float32)
    k = len(points)
    if albedo is None:
        albedo = surface_albedo(scene, points, normals, tri)
    light = np.asarray(scene.ambient, np.float32)[None] * (0.85 + 0.15 * normals[:, 2:3])
    room = scene.camera.get("room") if not scene.outdoor else None
    if room is not None and k > 0:
        light = light * room_occlusion(points, room)[:, None]
    if k > 0 and scene.lights:
        eps = 2e-3 * (1.0 + np.sqrt(np.einsum("ij,ij->i", points, points)) / 10.0)
        origins = points + normals * eps[:, None]
        n_l = len(scene.lights)
        rays = np.empty((n_l, k, 6), np.float32)
        rays[:, :, :3] = origins[None]
        gains = np.empty((n_l, k), np.float32)
        fall = np.ones((n_l, k), np.float32)  # distance fall-off
        ldir = np.empty((n_l, k, 3), np.float32)  # unit directions towards each light
        for i, lt in enumerate(scene.lights):
            if lt.kind == "sun":
                d = np.asarray(lt.direction, np.float32)
                gains[i] = np.maximum(normals @ d, 0.0)
                rays[i, :, 3:] = d * 500.0  # occluders within 500 m (the scene is smaller)
                ldir[i] = d / max(float(np.linalg.norm(d)), 1e-6)
            else:
                d = np.asarray(lt.position, np.float32)[None] - origins
                dist = np.sqrt(np.einsum("ij,ij->i", d, d))
                cos = np.maximum(np.einsum("ij,ij->i", normals, d) / np.maximum(dist, 1e-6), 0.0)
                fall[i] = 1.0 / (1.0 + (dist / lt.radius) ** 2)
                gains[i] = cos * fall[i]
                rays[i, :, 3:] = d
                ldir[i] = d / np.maximum(dist, 1e-6)[:, None]
        if shadows:
            lit = gains.ravel() > 0
            if lit.any():
                occ = scene.raycaster().test_occlusions(o3d.core.Tensor(rays.reshape(-1, 6)[lit]), tnear=0.0,
                                                        tfar=0.999, nthreads=nthreads).numpy()
                g = gains.ravel()
                g[np.nonzero(lit)[0][occ.astype(bool)]] = 0.0
                gains = g.reshape(n_l, k)
        cols = np.stack([np.asarray(lt.colour, np.float32) for lt in scene.lights])  # (L, 3)
        light = light + gains.T @ cols
    rad = albedo * light
    realism = getattr(scene, "realism", None)
    if eye is not None and k > 0 and scene.lights and realism is not None and realism.specular:
        rad = rad + specular(points, normals, scene.tri_material[tri], eye, ldir, np.where(gains > 0, fall, 0.0), cols)
    emissive = EMISSIVE[scene.tri_material[tri]]
    rad[emissive] = albedo[emissive] * 1.6
    return rad


def specular(points: np.ndarray, normals: np.ndarray, mat: np.ndarray, eye: np.ndarray, ldir: np.ndarray,
             lit: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """(k, 3) Blinn-Phong highlights: ``SPECULAR[mat] * (n . h)^SHININESS[mat]`` per light, h the half vector
    of the light direction ``ldir`` (L, k, 3) and the direction to ``eye``, weighted by ``lit`` (L, k: the
    light's fall-off, 0 where shadowed or behind) and the light ``colours`` (L, 3)."""
    ks, shin = SPECULAR[mat], SHININESS[mat]
    out = np.zeros((len(points), 3), np.float32)
    glossy = ks > 0
    if not glossy.any():
        return out
    v = np.asarray(eye, np.float32)[None] - points[glossy]
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)
    n = normals[glossy]
    for i in range(len(colours)):
        hv = ldir[i, glossy] + v
        hv /= np.maximum(np.linalg.norm(hv, axis=1, keepdims=True), 1e-6)
        s = ks[glossy] * np.maximum(np.einsum("ij,ij->i", n, hv), 0.0) ** shin[glossy] * lit[i, glossy]
        out[glossy] += s[:, None] * colours[i][None]
    return out


def room_occlusion(points: np.ndarray, room: tuple[float, float, float]) -> np.ndarray:
    """(k,) float32 ambient factor in (0, 1]: darker near the room's edges and corners (an analytic stand-in
    for ambient occlusion from the walls, floor and ceiling; view-independent)."""
    W, D, H = room
    p = np.asarray(points, np.float32)
    dist = np.stack([p[:, 0], W - p[:, 0], p[:, 1], D - p[:, 1], p[:, 2], H - p[:, 2]], 1)
    fac = np.where(dist < 0.01, 1.0, 1.0 - 0.45 * np.exp(-np.maximum(dist, 0.0) / 0.3))
    return fac.prod(1).astype(np.float32)


def shade_points(scene, points: np.ndarray, normals: np.ndarray, tri: np.ndarray, shadows: bool = True,
                 nthreads: int = 0) -> np.ndarray:
    """(k, 3) float32 display colours in [0, 1] of surface points (see ``radiance``); batched for memory."""
    out = np.empty((len(points), 3), np.float32)
    step = 200_000
    for a in range(0, len(points), step):
        b = a + step
        out[a:b] = tone_map(radiance(scene, points[a:b], normals[a:b], tri[a:b], shadows, nthreads=nthreads))
    return out


def sky_radiance(scene, dirs: np.ndarray) -> np.ndarray:
    """(k, 3) linear radiance of the sky along unit world directions (k, 3); dark grey indoors (unused)."""
    if scene.sky is None:
        return np.full((len(dirs), 3), 0.02)
    zen, hor = np.asarray(scene.sky["zenith"]), np.asarray(scene.sky["horizon"])
    elev = np.clip(dirs[:, 2], 0.0, 1.0)
    t = np.sqrt(np.clip(elev / 0.6, 0.0, 1.0))[:, None]
    sky = hor[None] * (1 - t) + zen[None] * t
    sun = np.asarray(scene.sky["sun_dir"], np.float64)
    glow = np.clip(dirs @ sun, 0.0, 1.0) ** 48
    sky = sky + glow[:, None] * np.asarray(scene.sky.get("sun_colour", (1.0, 0.9, 0.7)))[None]
    clouds = float(scene.sky.get("clouds", 0.0))
    if clouds > 0:
        # A cloud layer: noise on the plane z = 1 along each ray (a function of the direction only).
        up = np.maximum(dirs[:, 2], 0.03)
        plane = np.stack([dirs[:, 0] / up, dirs[:, 1] / up, np.zeros(len(dirs))], 1) * 1.5
        from depthgen.data.procedural.textures import fbm

        c = np.clip((fbm(plane.astype(np.float32), 3) - (1.0 - clouds)) * 3.0, 0.0, 1.0)
        c *= np.clip(dirs[:, 2] / 0.08, 0.0, 1.0)  # fade into the haze at the horizon
        white = np.asarray(scene.sky.get("cloud_colour", (0.9, 0.9, 0.92)))
        sky = sky * (1 - c[:, None]) + white[None] * c[:, None]
    below = dirs[:, 2] < 0
    sky[below] = hor[None] * 0.8
    return sky
