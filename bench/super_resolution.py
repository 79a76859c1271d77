"""Views at 256 px: the super-resolution cascade (issue 19) against true 256-px procedural renders.

    python -m bench.super_resolution [--sr assets/sr] [--sr-diffusion runs/sr-diffusion/pipeline]
        [--scenes 16] [--prompts 12] [--steps-grid 1 2 4 8] [--levels 0 0.1 0.25] [--recon-scenes 3]
        [--no-speed] [--no-reconstruction] [--quick]

1. Super-resolution of procedural test views: the 64-px render (one ray per pixel, as the base models were
   trained on) taken to 256 by bicubic / bilinear upsampling, the regression model (per conditioning level) and
   the diffusion model (per sampling-step count); against the true 256-px render of the same camera: detail
   (share of spectral energy above 32 cycles/image, ``bench.super_resolution_metrics.detail_share``) as a
   ratio to the truth's, PSNR, consistency (mean |block means of the output - the 64-px input|) and s/view.
2. Base-model views: the embedded text-to-image model's 64-px views of the evaluation prompts, super-resolved:
   detail ratio against the true renders, and scene alignment (the scene classifier of ``bench.bench_t2i``,
   which works at 64 px, on the 64-px view and on the 256-px view averaged back to 64).
3. Depth at 256: DepthGen's 64-px depth (and the true 64-px depth) upsampled bilinearly or guided by the
   super-resolved view (``text3d.geometry.upsample``): the share of depth discontinuities within 1 px of an
   image edge (Canny on the view), and REL against the true 256-px depth.
4. Whole runs: ``text3d.generate_scene`` at 64 px without the cascade (``BEFORE_CASCADE``: the default preset as it
   was before issue 19) and with the ``hd`` preset (256 px; an alias of the default since), each in its own
   process (``bench.speed_worker``): stage times, peak memory, detail of the written views; reconstruction
   (``bench.reconstruction``: Chamfer, F-score) of a few test scenes with each.
Writes docs/bench_super_resolution.{md,json} and docs/bench_super_resolution_sheet.png (views and depth before /
after).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from bench.bench_t2i import get_classifier, load_prompts
from bench.common import ASSETS, ROOT, base_parser, cli_main, figure_lines, fmt, md_table, new_report, write_outputs
from bench.super_resolution_metrics import detail_share, edge_alignment, image_edges, psnr
from bench.super_resolution_sheet import contact_sheet, upsample_image, valid_bilinear
from depthgen.data.procedural import generate_sample, split_seed
from depthgen.evaluation.metrics import compute_metrics
from text3d.geometry.upsample import area_downsample, joint_bilateral_upsample

NAME = "super_resolution"
TITLE = "Views at 256 px: super-resolution cascade"
SCALE = 4
# The 64-px run the cascade is compared with: the default preset's settings before the cascade became the
# default (issue 19): views at the base models' size, no super-resolution, every pixel meshed, 256-px video.
BEFORE_CASCADE = ["sr.enabled=false", "height=64", "width=64", "lift.mesh_stride=1", "video.height=256",
                  "video.width=256"]
LOWRES = "64 px, no cascade"  # its label in the report


def build_parser():
    p = base_parser(f"python -m bench.{NAME}", __doc__.split("\n")[0])
    p.add_argument("--sr", default=str(ASSETS / "sr"), help="super-resolution model of the hd preset")
    p.add_argument("--sr-diffusion", default=str(ROOT / "runs" / "sr-diffusion" / "pipeline"),
                   help="the diffusion variant to compare ('' to skip)")
    p.add_argument("--sr-regression", default="", help="a regression variant to compare when --sr is the diffusion one")
    p.add_argument("--depth", default=str(ASSETS / "depthgen"), help="DepthGen pipeline folder")
    p.add_argument("--t2i", default=str(ASSETS / "t2i"), help="text-to-image pipeline folder")
    p.add_argument("--prompts-file", default=str(ROOT / "configs" / "models" / "t2i" / "eval_prompts.yaml"))
    p.add_argument("--prompts", type=int, default=12, help="evaluation prompts to paint (seed 0)")
    p.add_argument("--classifier", default=str(ROOT / "runs" / "t2i-classifier"), help="scene classifier cache")
    p.add_argument("--classifier-renders", type=int, default=None, help="renders to train a missing classifier on")
    p.add_argument("--classifier-epochs", type=int, default=None, help="its epochs")
    p.add_argument("--scenes", type=int, default=16, help="procedural test views (default 16)")
    p.add_argument("--steps-grid", type=int, nargs="+", default=[1, 2, 4, 8], help="diffusion sampling steps")
    p.add_argument("--levels", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0], help="conditioning levels")
    p.add_argument("--recon-scenes", type=int, default=3, help="test scenes reconstructed per preset")
    p.add_argument("--hd-variant", action="append", default=[], metavar="KEY=VALUE",
                   help="an extra whole hd run with this setting (repeatable), e.g. lift.mesh_stride=1")
    p.add_argument("--no-speed", action="store_true", help="skip the whole-run timings")
    p.add_argument("--no-reconstruction", action="store_true", help="skip the reconstruction runs")
    p.add_argument("--work-dir", default=str(ROOT / "runs" / "bench_super_resolution"), help="run folders")
    return p


def g(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def truth_views(n: int, size: int) -> list[dict]:
    """Test-split views at 256 (truth) and 64 px (the same camera): rgb float [0, 1], depth metres."""
    out = []
    for i in range(n):
        seed = split_seed("test", i)
        hi, lo = (generate_sample(seed, size=(s, s), sensor=None) for s in (size, size // SCALE))
        out.append({"index": i, "scene_type": hi["scene_type"], "hr": hi["rgb"].astype(np.float32) / 255,
                    "lr": lo["rgb"].astype(np.float32) / 255, "depth_hr": hi["depth"], "depth_lr": lo["depth"]})
    return out


def load_sr(path: str):
    from text3d.models.sr import SuperResolutionPipeline

    return SuperResolutionPipeline.from_pretrained(path) if path and Path(path).is_dir() else None


def sr_methods(args, pipes: dict) -> dict[str, Callable]:
    """name -> f(lr (h, w, 3), generator) -> (4h, 4w, 3)."""
    m: dict[str, Callable] = {"bicubic": lambda x, gen: upsample_image(x, SCALE, "bicubic"),
                              "bilinear": lambda x, gen: upsample_image(x, SCALE, "bilinear")}
    for kind, pipe in pipes.items():
        if pipe is None:
            continue
        if kind == "regression":
            for lv in args.levels:
                m[f"regression, level {lv:g}"] = lambda x, gen, p=pipe, lv=lv: p(x, level=lv, generator=gen)
        else:
            for k in args.steps_grid:
                m[f"diffusion, {k} steps"] = lambda x, gen, p=pipe, k=k: p(x, num_inference_steps=k, generator=gen)
    return m


def quality(views: list[dict], methods: dict[str, Callable]) -> dict:
    truth = float(np.mean([detail_share(v["hr"]) for v in views]))
    rows = {}
    for name, f in methods.items():
        det, ps, cons, secs = [], [], [], []
        for v in views:
            t0 = time.perf_counter()
            out = f(v["lr"], g(v["index"]))
            secs.append(time.perf_counter() - t0)
            det.append(detail_share(out))
            ps.append(psnr(out, v["hr"]))
            cons.append(float(np.abs(area_downsample(out, SCALE) - v["lr"]).mean()))
        rows[name] = {"detail": float(np.mean(det)), "detail_ratio": float(np.mean(det)) / truth,
                      "psnr": float(np.mean(ps)), "consistency": float(np.mean(cons)), "s_per_view": float(np.median(secs))}
        print(f"{name}: detail x{rows[name]['detail_ratio']:.2f}, PSNR {rows[name]['psnr']:.2f}")
    return {"truth_detail": truth, "methods": rows}


def hd_sr_level() -> float | None:
    """The conditioning level the hd preset passes for base-model paint (None = the model's default)."""
    from text3d.config import load_preset

    return load_preset("hd").sr.level


def base_views(args, sr, truth_detail: float) -> dict:
    """The text-to-image model's 64-px views, super-resolved at each conditioning level: detail ratio against the
    true renders and scene alignment of the 256-px view (averaged back to 64 px for the classifier)."""
    from text3d.models.t2i.pipeline import TextToImagePipeline

    specs = load_prompts(args.prompts_file)[: args.prompts]
    pipe = TextToImagePipeline.from_pretrained(args.t2i)
    images = [pipe(s.prompt, num_inference_steps=25, generator=g(0))[0] for s in specs]
    clf = get_classifier(Path(args.classifier), 64, renders=args.classifier_renders, epochs=args.classifier_epochs)
    targets = [s.scene_type for s in specs]

    def aligned(views: list[np.ndarray]) -> float:
        return float(np.mean([a == t for a, t in zip(clf.predict(np.stack(views)), targets)]))

    levels = {}
    ups = []
    for lv in sorted({*args.levels, sr.config.default_level}):
        ups = [sr(im, level=lv, generator=g(i)) for i, im in enumerate(images)]
        levels[f"{lv:g}"] = {"detail_ratio": float(np.mean([detail_share(u) for u in ups])) / truth_detail,
                             "alignment_256": aligned([area_downsample(u, SCALE) for u in ups])}
    hd_level = hd_sr_level()
    ups = [sr(im, level=hd_level, generator=g(i)) for i, im in enumerate(images)]  # as the hd preset paints
    return {"prompts": [s.prompt for s in specs], "images": images, "ups": ups, "levels": levels,
            "default_level": sr.config.default_level, "hd_level": hd_level,
            "detail_ratio_bicubic": float(np.mean([detail_share(upsample_image(i, SCALE, "bicubic"))
                                                   for i in images])) / truth_detail,
            "alignment_64": aligned(images), "classifier_val_accuracy": clf.val_accuracy,
            "classifier_recipe": clf.recipe}


def depth_edges(args, views: list[dict], sr, depth_pipe) -> tuple[dict, list]:
    """Edge alignment and REL of upsampled depth (bilinear vs guided), for DepthGen's and the true 64-px depth."""
    acc: dict[str, dict[str, list]] = {}
    examples = []
    for v in views:
        view = sr(v["lr"], generator=g(v["index"]))
        edges = image_edges(view)
        pred = depth_pipe(v["lr"], num_samples=2, num_inference_steps=10, generator=g(v["index"])).depth
        gt, valid = v["depth_hr"], v["depth_hr"] > 0
        for source, low in (("DepthGen", pred), ("true 64-px", v["depth_lr"])):
            for method, up in (("bilinear", valid_bilinear(low, view.shape[:2])),
                               ("guided", joint_bilateral_upsample(low, view, v["lr"]))):
                share, n = edge_alignment(up, edges)
                ok = valid & (up > 0)
                rel = compute_metrics(up, gt, ok, "none", metrics=["abs_rel"])["abs_rel"] if ok.any() else np.nan
                a = acc.setdefault(f"{source}|{method}", {"share": [], "n": [], "rel": []})
                a["share"].append(share)
                a["n"].append(n)
                a["rel"].append(float(rel))
                if source == "DepthGen" and len(examples) < 2 * 3:
                    examples.append((v["index"], method, up))
        share, _ = edge_alignment(gt, edges)
        acc.setdefault("true 256-px|truth", {"share": [], "n": [], "rel": []})["share"].append(share)
    out = {k: {"edge_share": float(np.nanmean(a["share"])), "discontinuities": float(np.mean(a["n"])) if a["n"] else None,
               "rel": float(np.nanmean(a["rel"])) if a["rel"] else None} for k, a in acc.items()}
    return out, examples


def whole_runs(args) -> dict:
    """``text3d.generate_scene`` at 64 px (``BEFORE_CASCADE``) and with the hd preset in fresh processes: stages,
    memory, view detail."""
    from bench.speed import run_worker
    from PIL import Image

    out = {}
    runs = [(LOWRES, "default", BEFORE_CASCADE), ("hd", "hd", [])] + [(f"hd, {v}", "hd", [v]) for v in args.hd_variant]
    for i, (label, preset, extra) in enumerate(runs):
        folder = Path(args.work_dir) / f"run-{i}-{preset}"
        cmd = ["text3d", "--out", str(folder), "--t2i", "embedded", "--inpaint", "embedded", "--depth", "embedded",
               "--preset", preset, "--seed", str(args.seed)]
        if label != LOWRES and Path(args.sr).resolve() != (ASSETS / "sr").resolve():
            cmd += ["--set", f"sr.model={args.sr}"]
        for v in extra:
            cmd += ["--set", v]
        if args.quick:
            cmd += ["--views", "2", "--steps", "2", "--set", "cleanup.views=0", "--set", "trajectory.orbit_degrees=30",
                    "--set", "video.frames=4"]
        res = run_worker(cmd)
        views = [np.asarray(Image.open(p).convert("RGB"), np.float32) / 255
                 for p in sorted((folder / "views").glob("rgb_*.png"))]
        # smaller views are measured as they are seen at the reference size (bicubic, as the video shows them)
        ref = views[0].shape[0] if args.quick else 256
        res["view_detail"] = [detail_share(v if v.shape[0] >= ref else upsample_image(v, ref // v.shape[0], "bicubic"))
                              for v in views]
        res["folder"] = str(folder)
        out[label] = res
        print(f"{label}: {res['timings_s']['total']:.1f} s, peak {res['peak_rss_mib']:.0f} MiB")
    return out


def reconstruction(args) -> dict:
    """Chamfer / F-score of ``bench.reconstruction`` at 64 px (``BEFORE_CASCADE``) and with the hd preset on the
    same test scenes."""
    import text3d
    from bench import reconstruction as rec
    from text3d.config import load_preset

    out = {}
    backends = text3d.load_backends("default", inpaint="embedded", depth=args.depth, device=args.device,
                                    need_t2i=False)
    ns = argparse.Namespace(views=2 if args.quick else None, steps=2 if args.quick else None, seed=args.seed,
                            max_points=20000, work_dir=str(Path(args.work_dir) / "reconstruction"))
    for label, preset, extra in ((LOWRES, "default", BEFORE_CASCADE), ("hd", "hd", [])):
        overrides = [*extra, "video.enabled=false"] + (["cleanup.views=0", "trajectory.orbit_degrees=30"] if args.quick else [])
        if label != LOWRES and Path(args.sr).resolve() != (ASSETS / "sr").resolve():
            overrides.append(f"sr.model={args.sr}")
        cfg = load_preset(preset, overrides)
        size = (cfg.height, cfg.width)
        ns.preset, ns.work_dir = preset, str(Path(args.work_dir) / f"reconstruction-{preset}")
        eval_size = (128, 128)  # the same scoring grid for both presets
        rows = [rec.run_scene(i, ns, backends, size, overrides, eval_size, cfg.trajectory)[0]
                for i in range(args.recon_scenes)]
        out[label] = {"summary": rec.summarise(rows)["all"], "scenes": [
            {k: r[k] for k in ("index", "scene_type", "views", "mesh_faces")} | {"aligned": r["variants"]["aligned"]}
            for r in rows]}
        print(f"reconstruction {label}: aligned F@10cm {fmt(out[label]['summary']['aligned']['fscore@0.1'])}")
    return out


def markdown(report: dict) -> str:
    """The report's markdown body: what was compared, then a section per measured part, then the figures."""
    r = report["results"]
    lines = [describe(report), "", *quality_section(r)]
    if r.get("base_views"):
        lines += base_views_section(r["base_views"])
    if r.get("depth"):
        lines += depth_section(r["depth"])
    if r.get("runs"):
        lines += runs_section(r["runs"], r["quality"]["truth_detail"], report["machine"])
    if r.get("reconstruction"):
        lines += reconstruction_section(r["reconstruction"])
    lines += figure_lines(report)
    return "\n".join(lines)


def describe(report: dict) -> str:
    """The opening paragraph: the models compared, the test views and the detail measure."""
    s, truth_detail = report["settings"], report["results"]["quality"]["truth_detail"]
    regression = f"and `{s['sr_regression']}`" if s.get("sr_regression") else ""
    models = f"Super-resolution models: hd preset `{s['sr']}`; compared: `{s['sr_diffusion'] or '-'}` {regression}."
    views = (f"{s['scenes']} procedural test views (64-px render in, the true 256-px render of the same camera as "
             "reference).")
    detail = (f"Detail = share of spectral energy above 32 cycles/image (Hann window, luma); truth: "
              f"{fmt(truth_detail, 4)}.")
    return " ".join([models, views, detail])


def quality_section(r: dict) -> list[str]:
    """Markdown lines: the super-resolution methods on 64-px renders (detail, PSNR, consistency, time)."""
    head = ["method", "detail ratio (goal 0.5-2)", "PSNR (dB) ↑", "consistency ↓", "s / view"]
    rows = [[k, fmt(v["detail_ratio"], 2), fmt(v["psnr"], 2), fmt(v["consistency"], 4), fmt(v["s_per_view"], 3)]
            for k, v in r["quality"]["methods"].items()]
    return ["## Super-resolution of 64-px renders", "", md_table(head, rows), "",
            "Consistency: mean |4x4 block means of the output - the 64-px input| ([0, 1] units). Detail ratio: the "
            "method's mean detail share over the truth's. The shipped model (the hd preset's) is the "
            f"`{r['sr_kind']}` one."]


def base_views_section(b: dict) -> list[str]:
    """Markdown lines: the text-to-image model's 64-px views super-resolved at each conditioning level."""
    intro = (f"{len(b['prompts'])} evaluation prompts, seed 0. Bicubic upsampling: detail ratio "
             f"{fmt(b['detail_ratio_bicubic'], 2)}. Scene alignment (the classifier's top class is the prompted "
             f"type; classifier held-out accuracy {fmt(b['classifier_val_accuracy'], 3)}) of the 64-px views: "
             f"**{fmt(b['alignment_64'], 3)}**. Super-resolved (the model's default level is "
             f"{b['default_level']:g}; the hd preset paints at {b.get('hd_level')}):")
    rows = [[lv, fmt(v["detail_ratio"], 2), fmt(v["alignment_256"], 3)] for lv, v in b["levels"].items()]
    return ["", "## Base-model views (embedded text-to-image, 64 px)", "", intro, "",
            md_table(["conditioning level", "detail ratio (goal 0.5-2)", "alignment at 256 px"], rows)]


def depth_section(d: dict) -> list[str]:
    """Markdown lines: depth edges and REL at 256 px per (64-px depth, upsampling) pair."""
    rows = [[k.split("|")[0], k.split("|")[1], fmt(v["edge_share"], 3), fmt(v["discontinuities"], 0),
             fmt(v["rel"], 4)] for k, v in d.items()]
    return ["", "## Depth at 256 px", "", "Depth discontinuities (> 5% between neighbours) within 1 px of a Canny "
            "edge of the super-resolved view, and REL against the true 256-px depth.", "",
            md_table(["64-px depth", "upsampling", "edge alignment ↑", "discontinuity px", "REL ↓"], rows, 2)]


def runs_section(w: dict, truth_detail: float, machine: dict) -> list[str]:
    """Markdown lines: whole ``text3d.generate_scene`` runs (time per stage, memory, faces, view detail)."""
    stages = sorted({k for v in w.values() for k in v["timings_s"]} - {"total", "own_overhead"})
    head = ["run", "view px", "total (s)", "peak memory (MiB)", "mesh faces", "view detail ratio", *stages]
    rows = [[p, v["settings"]["width"], fmt(v["timings_s"]["total"], 1), fmt(v["peak_rss_mib"], 0),
             v.get("mesh_faces", "?"), fmt(np.mean(v["view_detail"]) / truth_detail, 2),
             *[fmt(v["timings_s"].get(k), 2) for k in stages]] for p, v in w.items()]
    return ["", "## Whole runs (`text3d.generate_scene`, a cozy library, seed 0)", "", md_table(head, rows), "",
            "View detail ratio: the written views' detail share (64-px views upsampled bicubically to 256 first, as "
            "the video shows them) over the true renders'.", "",
            f"Load average at the benchmark's start: {machine.get('load_average_start', '?')} (2 cores shared with "
            "training runs); the 60 s budget is for an otherwise idle machine."]


def reconstruction_section(rc: dict) -> list[str]:
    """Markdown lines: median-aligned reconstruction scores per preset."""
    rows = [[p, v["summary"]["scenes"], fmt(v["summary"]["aligned"]["chamfer"]),
             fmt(v["summary"]["aligned"]["fscore@0.05"]), fmt(v["summary"]["aligned"]["fscore@0.1"])]
            for p, v in rc.items()]
    return ["", "## Reconstruction (median-aligned, `bench.reconstruction` scoring at 128 px)", "",
            md_table(["preset", "scenes", "Chamfer (m) ↓", "F@5cm ↑", "F@10cm ↑"], rows)]


@cli_main(build_parser)
def main(args: argparse.Namespace) -> int:
    from depthgen.models.depth_pipeline import DepthGenPipeline

    if args.quick:
        args.scenes, args.steps_grid, args.levels = 2, [1, 2], [0.1]
        args.prompts, args.recon_scenes = min(args.prompts, 2), min(args.recon_scenes, 1)
    if args.scenes < 1 or args.prompts < 0 or args.recon_scenes < 0:
        raise ValueError("--scenes must be >= 1, --prompts and --recon-scenes >= 0")
    sr = load_sr(args.sr)
    if sr is None:
        raise ValueError(f"no super-resolution model at {args.sr}; train one (python -m text3d.models.sr.train)")
    pipes = {sr.config.kind: sr}
    for path in (args.sr_diffusion, args.sr_regression):
        other = load_sr(path)
        if other is not None:
            pipes.setdefault(other.config.kind, other)
    report = new_report(NAME, args, args.device)
    report["settings"].update(sr=args.sr, sr_diffusion=args.sr_diffusion, sr_regression=args.sr_regression)
    size = 64 if args.quick else 256
    views = truth_views(args.scenes, size)
    results: dict[str, Any] = {"quality": quality(views, sr_methods(args, pipes)), "sr_kind": sr.config.kind}
    truth = results["quality"]["truth_detail"]
    if args.prompts:
        results["base_views"] = base_views(args, sr, truth)
    depth_pipe = DepthGenPipeline.from_pretrained(args.depth)
    results["depth"], examples = depth_edges(args, views, sr, depth_pipe)
    if not args.no_speed:
        results["runs"] = whole_runs(args)
    if not args.no_reconstruction and args.recon_scenes:
        results["reconstruction"] = reconstruction(args)
    fig = contact_sheet(views[:3], sr, depth_pipe, results.get("base_views"), results.get("runs"))
    b = results.get("base_views")
    if b:
        del b["images"], b["ups"]
    report["results"] = results
    write_outputs(report, args.out_dir, TITLE, markdown, {"sheet": fig})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
