"""Scene reconstruction: text3d started from a procedural view 0, its fused mesh against the true scene.

    python -m bench.reconstruction [--depth assets/depthgen] [--inpaint assets/inpaint] [--preset default]
        [--scenes 10] [--start 0] [--views N] [--steps N] [--eval-scale 2] [--set key=value ...] [--quick]

Per test-split scene (``split_seed("test", i)``): view 0 is ``generate_sample(seed, size, sensor=None)``
rendered at the preset's size; its horizontal field of view is passed to text3d as ``trajectory.fov_deg``
(text3d's ``intrinsics_from_fov`` and the procedural ``intrinsics`` then give the same K; checked), and
``text3d.generate_scene(image=view 0)`` runs the preset's trajectory with the given models (video off: it does not
change the geometry). The generation frame is view 0's camera frame, so a generated point p maps to the
scene's world as ``cam_to_world_0 @ (s * p)``:
- raw: s = 1 (DepthGen's metric depth taken as is);
- median-aligned: s = median(true depth of view 0) / median(predicted depth of view 0), one global scale that
  removes the monocular scale ambiguity (camera positions are scaled with the geometry).
Both meshes (the fused mesh and the true scene surface, ``scene.vertices / triangles``: the surface
``scene.mesh()`` subdivides and colours) are ray-cast from every generation camera (placed in the world with
the same s) at ``--eval-scale`` x the generation resolution; every pixel where the true surface is hit gives a
true point, and a generated point where the fused mesh is hit too (generated geometry in the sky is not
scored). The point sets are compared (``bench.geometry_metrics``): Chamfer distance (accuracy + completeness,
metres) and F-score at 5 cm and 10 cm, in the region the views saw.
Writes docs/bench_reconstruction.{md,json,png}; run folders go to --work-dir.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np

import text3d
from bench.common import (ASSETS, ROOT, base_parser, cli_main, figure_lines, fmt, md_table, new_report, pyplot,
                          write_outputs)
from bench.geometry_metrics import add_scoring_args, chamfer_fscore, paired_points, plot_top_view, subsample
from depthgen.data.procedural import build_scene, generate_sample, split_seed
from depthgen.evaluation.align import median_scale
from depthgen.evaluation.metrics import compute_metrics
from text3d.config import load_preset
from text3d.geometry.cameras import intrinsics_from_fov, scale_intrinsics
from text3d.run.trajectory import min_orbit_views

NAME = "reconstruction"
TITLE = "Scene reconstruction from a procedural first view"
THRESHOLDS = (0.05, 0.10)
VARIANTS = {"raw": "raw (metric depth as predicted)", "aligned": "median-aligned (one global scale from view 0)"}


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--depth", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder (or 'embedded')")
    p.add_argument("--inpaint", default=str(ASSETS / "inpaint"), help="inpainting model folder (or 'embedded')")
    p.add_argument("--preset", default="default", help="text3d preset (default: default)")
    p.add_argument("--scenes", type=int, default=10, help="number of test scenes (default 10)")
    p.add_argument("--start", type=int, default=0, help="first test-split index (default 0)")
    p.add_argument("--views", type=int, default=None, help="trajectory views (default: the preset's)")
    p.add_argument("--steps", type=int, default=None, help="sampling steps of every model (default: the preset's)")
    add_scoring_args(p, str(ROOT / "runs" / "bench_reconstruction"))
    return p


def hfov_deg(K: np.ndarray, width: int) -> float:
    """Horizontal field of view (degrees) of a centred pinhole K for an image ``width`` pixels wide."""
    return math.degrees(2.0 * math.atan(width / (2.0 * float(K[0, 0]))))


def to_world(pose0: np.ndarray, scale: float) -> np.ndarray:
    """(4, 4) map from the generation frame to the scene's world: x_world = pose0 @ (scale * x)."""
    return np.asarray(pose0, np.float64) @ np.diag([scale, scale, scale, 1.0])


def camera_in_world(pose0: np.ndarray, scale: float, cam_to_gen: np.ndarray) -> np.ndarray:
    """A generation-frame camera pose placed in the world with the geometry scaled by ``scale``."""
    c = np.array(cam_to_gen, np.float64, copy=True)
    c[:3, 3] *= scale
    return np.asarray(pose0, np.float64) @ c


def score_variant(result: Any, scene: Any, pose0: np.ndarray, scale: float, K_eval: np.ndarray,
                  eval_size: tuple[int, int], max_points: int, seed: int) -> tuple[dict, tuple]:
    """Chamfer / F-score of the fused mesh against the true surface, both sampled from every generation camera."""
    m = to_world(pose0, scale)
    verts = result.mesh.vertices @ m[:3, :3].T + m[:3, 3]
    cams = [camera_in_world(pose0, scale, v.cam_to_world) for v in result.views]
    gt, pred = paired_points(scene.vertices, scene.triangles, verts, result.mesh.faces, K_eval, cams, eval_size)
    rng = np.random.default_rng([seed, 11])
    gt, pred = subsample(gt, max_points, rng), subsample(pred, max_points, rng)
    return chamfer_fscore(pred, gt, THRESHOLDS), (gt, pred)


def run_scene(index: int, args: Any, backends: Any, size: tuple[int, int], overrides: list[str],
              eval_size: tuple[int, int], trajectory: Any = None) -> tuple[dict, dict]:
    h, w = size
    seed = split_seed("test", index)
    s = generate_sample(seed, size=(h, w), sensor=None)
    fov = hfov_deg(s["K"], w)
    K = intrinsics_from_fov(fov, w, h)
    if not np.allclose(K, s["K"], rtol=1e-6, atol=1e-6):
        raise RuntimeError(f"text3d K {K.tolist()} differs from the procedural K {s['K'].tolist()} for scene {seed}")
    views = scene_views(args.views, trajectory, fov)
    result = text3d.generate_scene(s["caption"], image=s["rgb"], out_dir=Path(args.work_dir) / f"test_{index:05d}",
                                   preset=args.preset, views=views, steps=args.steps, size=(h, w), seed=args.seed,
                                   backends=backends, overrides=[f"trajectory.fov_deg={fov!r}", *overrides])
    gt0, valid0 = s["depth"], s["valid"] & (s["depth"] > 0)
    pred0 = result.views[0].depth
    _, scale = median_scale(pred0, gt0, valid0 & (pred0 > 0))
    K_eval = scale_intrinsics(K, (h, w), eval_size)
    row: dict[str, Any] = {"index": index, "seed": seed, "scene_type": s["scene_type"], "outdoor": bool(s["outdoor"]),
                           "fov_deg": fov, "views": len(result.views), "mesh_faces": result.mesh.n_faces,
                           "median_scale": scale, "timings_s": result.timings, "variants": {}}
    clouds, scene = {}, build_scene(seed)
    for name, sc in (("raw", 1.0), ("aligned", scale)):
        metrics, clouds[name] = score_variant(result, scene, s["cam_to_world"], sc, K_eval, eval_size,
                                              args.max_points, args.seed + index)
        depth0 = compute_metrics(pred0 * sc, gt0, valid0, "none", metrics=["abs_rel", "delta1"])
        metrics["view0_abs_rel"], metrics["view0_delta1"] = depth0["abs_rel"], depth0["delta1"]
        row["variants"][name] = metrics
    return row, clouds


def scene_views(requested: int | None, trajectory: Any, fov_deg: float) -> int | None:
    """Views for one scene: ``--views`` if given; else the preset's, raised for an orbit where the scene's
    camera is too narrow for the preset's turn per view (the procedural field of view varies, 55-75 deg).
    ``trajectory``: the preset's ``TrajectoryConfig``; None keeps ``requested``."""
    if requested is not None or trajectory is None or trajectory.name != "orbit":
        return requested
    need = min_orbit_views(trajectory.orbit_degrees, fov_deg, trajectory.min_overlap_deg)
    return max(int(trajectory.views), need)


SUMMARY_KEYS = ("chamfer", "accuracy", "completeness", "fscore@0.05", "fscore@0.1", "view0_abs_rel", "view0_delta1")


def summarise(rows: list[dict]) -> dict:
    """Means over scenes per variant, for all scenes and indoor / outdoor apart (NaN-free scenes only)."""
    groups = {"all": rows, "indoor": [r for r in rows if not r["outdoor"]], "outdoor": [r for r in rows if r["outdoor"]]}
    out: dict = {}
    for g, rs in groups.items():
        if not rs:
            continue
        out[g] = {"scenes": len(rs)}
        for v in VARIANTS:
            vals = {k: [r["variants"][v][k] for r in rs if r["variants"][v][k] is not None
                        and np.isfinite(r["variants"][v][k])] for k in SUMMARY_KEYS}
            out[g][v] = {k: float(np.mean(x)) if x else None for k, x in vals.items()}
    return out


def markdown(report: dict) -> str:
    res = report["results"]
    s = report["settings"]
    lines = [f"text3d preset `{res['preset']}` ({res['size'][1]}x{res['size'][0]} views, "
             f"{' or '.join(str(v) for v in res['views_per_scene'])} views per scene incl. clean-up), depth `{s['depth']}`, inpaint `{s['inpaint']}`, view 0 = procedural "
             f"render (no text-to-image). Overrides: {', '.join(f'`{o}`' for o in res['overrides']) or 'none'}. "
             f"Points: both surfaces ray-cast from every generation camera at {res['eval_size'][1]}x{res['eval_size'][0]}; "
             "generated points only where the true surface is hit too (sky is not scored).",
             "", "**raw**: the generated scene in DepthGen's metric units; **median-aligned**: scaled by one global "
             "factor, median(true depth) / median(predicted depth) of view 0 (removes the monocular scale "
             "ambiguity). Chamfer = accuracy (generated -> true) + completeness (true -> generated), metres."]
    head = ["scenes", "variant", "Chamfer (m) ↓", "accuracy (m) ↓", "completeness (m) ↓", "F@5cm ↑", "F@10cm ↑",
            "view-0 REL ↓", "view-0 δ1 ↑"]
    rows = [[f"{g} ({d['scenes']})", v] + [fmt(d[v][k]) for k in SUMMARY_KEYS]
            for g, d in res["summary"].items() for v in VARIANTS]
    lines += ["", "## Means over scenes", "", md_table(head, rows, numeric_from=2)]
    head = ["scene", "type", "scale", "raw Chamfer", "raw F@10cm", "aligned Chamfer", "aligned F@5cm",
            "aligned F@10cm", "run time"]
    rows = [[f"test {r['index']}", r["scene_type"], fmt(r["median_scale"], 2), fmt(r["variants"]["raw"]["chamfer"]),
             fmt(r["variants"]["raw"]["fscore@0.1"]), fmt(r["variants"]["aligned"]["chamfer"]),
             fmt(r["variants"]["aligned"]["fscore@0.05"]), fmt(r["variants"]["aligned"]["fscore@0.1"]),
             f"{r['timings_s'].get('total', float('nan')):.1f} s"] for r in res["scenes"]]
    lines += ["", "## Per scene", "", md_table(head, rows, numeric_from=2)]
    lines += figure_lines(report)
    return "\n".join(lines)


def figure(report: dict, clouds: dict | None):
    plt = pyplot()
    rows = report["results"]["scenes"]
    fig, axes = plt.subplots(1, 3 if clouds else 1, figsize=(13 if clouds else 5, 3.8), squeeze=False)
    ax = axes[0, 0]
    x = np.arange(len(rows))
    for i, v in enumerate(VARIANTS):
        vals = [np.nan if r["variants"][v]["fscore@0.1"] is None else r["variants"][v]["fscore@0.1"] for r in rows]
        ax.bar(x + (i - 0.5) * 0.4, vals, 0.4, label=v)
    ax.set_xticks(x, [str(r["index"]) for r in rows])
    ax.set_xlabel("test scene")
    ax.set_ylabel("F-score @ 10 cm")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    if clouds:
        rng = np.random.default_rng(0)
        for j, v in enumerate(VARIANTS, start=1):
            plot_top_view(axes[0, j], *clouds[v], rng, f"scene {rows[0]['index']} from above, {v}")
    fig.tight_layout()
    return fig


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    overrides = ["video.enabled=false", *args.overrides]
    if args.quick:
        args.scenes, args.views, args.steps, args.eval_scale = 1, 2, 2, 1.0
        overrides += ["cleanup.views=0", "trajectory.orbit_degrees=30",  # 2 views that overlap
                      "sr.enabled=false"]  # 32-px views: no super-resolution cascade (its base models would be 8 px)
    if args.scenes < 1 or args.start < 0 or args.eval_scale <= 0:
        raise ValueError("--scenes must be >= 1, --start >= 0 and --eval-scale > 0")
    cfg = load_preset(args.preset, overrides)
    size = (32, 32) if args.quick else (cfg.height, cfg.width)
    eval_size = (max(8, round(size[0] * args.eval_scale)), max(8, round(size[1] * args.eval_scale)))
    report = new_report(NAME, args, args.device)
    backends = text3d.load_backends(args.preset, inpaint=args.inpaint, depth=args.depth, device=args.device,
                                      need_t2i=False)
    rows, first_clouds = [], None
    for i in range(args.start, args.start + args.scenes):
        row, clouds = run_scene(i, args, backends, size, overrides, eval_size, cfg.trajectory)
        rows.append(row)
        first_clouds = first_clouds or clouds
        print(f"scene {i} ({row['scene_type']}): aligned F@10cm {fmt(row['variants']['aligned']['fscore@0.1'])}")
    report["results"] = {"preset": args.preset, "size": list(size), "eval_size": list(eval_size),
                         "overrides": overrides, "views_per_scene": sorted({r["views"] for r in rows}),
                         "scenes": rows, "summary": summarise(rows)}
    write_outputs(report, args.out_dir, TITLE, markdown, {"": figure(report, first_clouds)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
