"""A fuzz of the command line with hypothesis: generated argument lists (prompts, sizes, seeds, views, steps,
fields of view, presets, trajectories, devices, output folders, ``--set`` pairs of every setting with wrong
types, NaN, inf, huge values and broken YAML, photos in every PIL mode that some image format saves, in every
bit depth, animated, EXIF-rotated, truncated or not images at all) run through ``text3d.cli.main`` in-process.

Each list is either refused (exit 2, one ``error:`` line on stderr, nothing on stdout, nothing left on disk) or
passes every check and reaches the run, where a stand-in stops it before a scene is made (the loader gives the
weight-free stand-in backends; ``run_scene`` checks what it was given and stops). Never a traceback.
``FUZZ_EXAMPLES`` sets the number of cases of each test (default 200; 2000 in the slow lane), ``FUZZ_SEED`` the seed; the
count and how the cases ended are printed (``-s``). Figures: docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

import text3d.run.api
import text3d.run.inputs
from text3d.cli import main
from text3d.config import Text3DConfig, validate
from text3d.fakes import fake_backends

FORMATS = ("PNG", "TIFF", "JPEG", "GIF", "BMP", "WEBP", "PPM", "TGA", "JPEG2000", "PCX", "SGI", "IM")
SUFFIX = {"JPEG": ".jpg", "JPEG2000": ".jp2", "TIFF": ".tif"}


def _saveable() -> tuple[tuple[str, str], ...]:
    """Every (PIL mode, format) pair that Pillow saves, found by trying."""
    pairs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode in sorted(Image.MODES):
            for fmt in FORMATS:
                try:
                    Image.new(mode, (3, 2)).save(io.BytesIO(), fmt)
                except (OSError, ValueError, KeyError, TypeError):
                    continue
                pairs.append((mode, fmt))
    return tuple(pairs)


SAVEABLE = _saveable()


def _setting_keys(cls: type = Text3DConfig, prefix: str = "") -> list[str]:
    """Every dotted setting key of a config dataclass, groups included ("video", "video.fps", ...)."""
    keys = []
    for f in dataclasses.fields(cls):
        keys.append(prefix + f.name)
        if dataclasses.is_dataclass(f.default_factory if f.default_factory is not dataclasses.MISSING else None):
            keys += _setting_keys(f.default_factory, f"{prefix}{f.name}.")
    return keys


KEYS = _setting_keys() + ["colour", "", "video.", ".fps", "a..b", "steps.t2i.x", "video.fps.", "base"]
YAML_ODDITIES = [".nan", ".inf", "-.inf", "nan", "NaN", "inf", "1e309", "-1e309", "1e30", "-0", "0x10", "0o7", "1_000",
                 "true", "no", "null", "~", "", " ", "[]", "[1, 2]", "[nan, 1, 1]", "[1, 2, 3, 4]", "{a: 1}", "{}",
                 "[1,", "{", "]", "'", '"', "!!python/name:os.system", "!!binary aGk=", "&a 1", "*a", "%TAG", "@",
                 "`", "a: b: c", "- 1", "? x", "|", ">", "#", "mesh", "tsdf", "complete", "align", "embedded", "orbit",
                 "walk", "zoom-out", "9223372036854775808", "2.5", "1e-400"]
ARG_TEXT = st.text(st.characters(blacklist_characters="\x00"), max_size=24)     # argv cannot hold NUL
NUMBER_TEXT = st.one_of(st.integers(-2**80, 2**80).map(str), st.floats().map(repr), st.sampled_from(YAML_ODDITIES),
                        ARG_TEXT)


@dataclasses.dataclass(frozen=True)
class Photo:
    """A photo file to write for one case: random pixels of ``mode`` saved as ``fmt``; ``frames`` > 1 saves an
    animation; ``orientation`` and ``focal_35mm`` are EXIF tags; ``keep`` < 1 truncates the file to that
    fraction; ``kind`` "garbage" writes random bytes instead, "huge" a blank image over the pixel cap."""

    mode: str
    fmt: str
    width: int
    height: int
    pixels_seed: int
    frames: int = 1
    orientation: int | None = None
    focal_35mm: int | None = None
    keep: float = 1.0
    kind: str = "image"

    def write(self, folder: Path) -> Path:
        path = folder / f"photo{SUFFIX.get(self.fmt, '.' + self.fmt.lower())}"
        path.write_bytes(self.data())
        return path

    def pil_reads(self) -> bool:
        """Whether Pillow reads back the file as written (it writes some it cannot read, e.g. a 1x1 PCX)."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(self.data())) as im:
                    im.load()
        except Exception:
            return False
        return True

    def data(self) -> bytes:
        """The file's bytes."""
        rng = np.random.default_rng(self.pixels_seed)
        if self.kind == "garbage":
            return rng.bytes(self.width * self.height)
        if self.kind == "huge":
            buf = io.BytesIO()
            Image.new("1", (self.width, self.height)).save(buf, "PNG")
            return buf.getvalue()
        frames = []
        for _ in range(self.frames):
            blank = Image.new(self.mode, (self.width, self.height))
            im = Image.frombytes(self.mode, blank.size, rng.bytes(len(blank.tobytes())))
            if self.mode in ("P", "PA"):
                im.putpalette(rng.bytes(768))
            frames.append(im)
        exif = Image.Exif()
        if self.orientation is not None:
            exif[0x0112] = self.orientation
        if self.focal_35mm is not None:
            exif.get_ifd(0x8769)[0xA405] = self.focal_35mm
        buf = io.BytesIO()
        options = {"save_all": True, "append_images": frames[1:]} if self.frames > 1 else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                frames[0].save(buf, self.fmt, exif=exif, **options)
            except (OSError, ValueError, KeyError, TypeError):   # a format without EXIF or animation: plain
                buf = io.BytesIO()
                frames[0].save(buf, self.fmt)
        data = buf.getvalue()
        return data[:max(1, int(len(data) * self.keep))]


@st.composite
def photos(draw) -> Photo:
    mode, fmt = draw(st.sampled_from(SAVEABLE))
    kind = draw(st.sampled_from(["image"] * 8 + ["garbage", "huge"]))
    width, height = (draw(st.sampled_from([4097, 5000])), 4097) if kind == "huge" else \
        (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    return Photo(mode, fmt, width, height, draw(st.integers(0, 2**32 - 1)), frames=draw(st.sampled_from([1, 1, 2, 3])),
                 orientation=draw(st.sampled_from([None, None, 1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 65535])),
                 focal_35mm=draw(st.sampled_from([None, None, 28, 0, 1, 10000, 65535])),
                 keep=draw(st.sampled_from([1.0] * 6 + [0.05, 0.3, 0.7, 0.95])), kind=kind)


def _size_text() -> st.SearchStrategy[str]:
    sides = st.one_of(st.sampled_from([8, 16, 32, 64, 96, 128, 256, 512]), st.integers(0, 70000))
    good = st.builds(lambda w, h, x: f"{w}{x}{h}", sides, sides, st.sampled_from(["x", "X", "×", " x "]))
    return st.one_of(good, good, st.integers(0, 2000).map(str), ARG_TEXT)


def _whole(lo: int, hi: int) -> st.SearchStrategy[str]:
    """Whole numbers as typed, mostly in lo..hi, else huge, negative or not numbers at all."""
    return st.one_of(st.integers(lo, hi).map(str), st.integers(lo, hi).map(str), st.integers(lo, hi).map(str),
                     st.integers(-2**80, 2**80).map(str), NUMBER_TEXT)


SET_PAIR = st.builds(lambda k, v, eq: ["--set", f"{k}{eq}{v}"], st.sampled_from(KEYS),
                     st.one_of(st.integers(-3, 100).map(str), st.floats(-2, 100).map(repr), NUMBER_TEXT),
                     st.sampled_from(["="] * 9 + [""]))
OPTIONS = st.one_of(
    st.builds(lambda v: ["--size", v], _size_text()),
    st.builds(lambda v: ["--seed", v], st.one_of(_whole(0, 2**64), st.sampled_from(
        ["0", str(2**63 - 1), str(2**63), str(2**70), "-1", "1.5", "1e3", "0x10", "1_0", " 7", ""]))),
    st.builds(lambda v: ["--views", v], _whole(1, 8)),
    st.builds(lambda v: ["--steps", v], _whole(1, 60)),
    st.builds(lambda v: ["--fov", v], st.one_of(st.floats(-400, 400).map(repr), st.floats(1, 170).map(repr),
                                                NUMBER_TEXT)),
    st.builds(lambda v: ["--preset", v], st.sampled_from(["fast", "default", "hd", "sd", "nope", "", "../fast",
                                                          "configs/text3d/fast.yaml", "fast.yaml"])),
    st.builds(lambda v: ["--trajectory", v], st.one_of(st.sampled_from(["orbit", "walk", "zoom-out", "spiral", "",
                                                                        "configs/trajectories/none.yaml"]), ARG_TEXT)),
    st.builds(lambda v: ["--device", v], st.sampled_from(["auto", "cpu", "cuda", "tpu", ""])),
    SET_PAIR, SET_PAIR,
    st.builds(lambda: ["--overwrite"]),
    st.builds(lambda v: [v], ARG_TEXT),                                    # a stray token
)
OUT_STATES = st.sampled_from(["new"] * 6 + ["empty", "file", "foreign", "under a file", "blank", "default"])
PROMPTS = st.one_of(st.sampled_from(["a cozy library", "a room"]), st.sampled_from(["a quiet street"]), ARG_TEXT)


@st.composite
def argument_lists(draw) -> tuple[list, str]:
    """(argv, the state of the output folder before the run): a prompt (mostly) and up to 4 options."""
    argv = [draw(PROMPTS)] if draw(st.sampled_from([True] * 5 + [False])) else []
    for option in draw(st.lists(OPTIONS, max_size=4)):
        argv += option
    return argv, draw(OUT_STATES)


@st.composite
def photo_runs(draw) -> tuple[list, str]:
    """(argv with a Photo placeholder, output folder state): a photo, sometimes a prompt, a preset, a size, --fov."""
    argv = ["--image", draw(photos()), "--preset", draw(st.sampled_from(["fast", "default"]))]
    argv += [draw(PROMPTS)] if draw(st.booleans()) else []
    argv += draw(st.sampled_from([[], [], ["--size", "128x96"], ["--fov", "80"], ["--views", "12"], ["--trajectory", "walk"]]))
    return argv, draw(st.sampled_from(["new"] * 5 + ["default"]))


class Reached(SystemExit):
    """Raised by the stand-in ``run_scene``: every check passed (main lets SystemExit through)."""


def _reached_run(**kw) -> None:
    cfg, first = kw["cfg"], kw["first_image"]
    validate(cfg)
    assert kw["out"].is_dir() and kw["out"].name.endswith(".partial")
    if first is not None:
        assert first.shape == (cfg.height, cfg.width, 3) and first.dtype == np.float32
        assert np.isfinite(first).all() and 0 <= first.min() and first.max() <= 1
    raise Reached(0)


def _prepare_out(state: str, folder: Path) -> list[str]:
    """The --out arguments for an output folder in ``state`` (made under ``folder``)."""
    out = folder / "out"
    if state == "empty":
        out.mkdir()
    elif state in ("file", "under a file"):
        out.write_text("x")
    elif state == "foreign":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    return {"blank": ["--out", ""], "default": [], "under a file": ["--out", str(out / "sub")]}.get(
        state, ["--out", str(out)])


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_case(argv: list, out_state: str, folder: Path) -> str:
    """Run one case in ``folder`` (the working directory); return how it ended: 'reached', 'help' or 'refused:
    <first words>'. Fails on anything else."""
    args = [str(a.write(folder)) if isinstance(a, Photo) else a for a in argv] + _prepare_out(out_state, folder)
    before = _listing(folder)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")                       # a warning would be more lines on stderr
        try:
            code = main([*args, "--quiet"])
        except Reached:
            code = "reached"
        except SystemExit as e:                               # --help (argparse takes "--he" for it)
            assert e.code == 0 and stdout.getvalue().startswith("usage:"), (args, e.code)
            return "help"
        except BaseException:
            pytest.fail(f"main({args!r}) raised:\n{traceback.format_exc()}")
    assert not caught, (args, [str(w.message) for w in caught])
    err = stderr.getvalue()
    assert "Traceback" not in err, (args, err)
    assert _listing(folder) == before, (args, "files were left")
    if code == "reached":
        assert all(line.startswith("note: ") for line in err.splitlines()), (args, err)
        return "reached"
    lines = err.splitlines()
    assert code == 2 and stdout.getvalue() == "", (args, code, err)
    assert len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > len("error: "), (args, err)
    words = [w if w.isascii() and w.replace("-", "").isalpha() else "_" for w in lines[0].split()[1:5]]
    return "refused: " + " ".join(words)                   # the message's first words, values as _


def _fuzz(cases: st.SearchStrategy, examples: int, tmp_path: Path, monkeypatch,
          check: Callable[[tuple, str], None] = lambda case, outcome: None) -> Counter[str]:
    """Run ``examples`` generated cases (seeded: ``FUZZ_SEED``) through ``run_case``, then ``check(case,
    outcome)``; return how they ended."""
    monkeypatch.setattr(text3d.run.inputs, "load_backends", lambda *a, **k: fake_backends())
    monkeypatch.setattr(text3d.run.api, "run_scene", _reached_run)
    outcomes: Counter[str] = Counter()

    @seed(int(os.environ.get("FUZZ_SEED", 36)))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases)
    def fuzz(case):
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        monkeypatch.chdir(folder)                             # the default --out is outputs/<slug>-<seed> here
        try:
            outcome = run_case(*case, folder)
            check(case, outcome)
            outcomes[outcome] += 1
        finally:
            monkeypatch.chdir(tmp_path)
            shutil.rmtree(folder, ignore_errors=True)

    fuzz()
    total = sum(outcomes.values())
    refused = sum(n for k, n in outcomes.items() if k.startswith("refused"))
    print(f"\n{total} cases: {outcomes['reached']} reached the run, {refused} refused (exit 2, one line), "
          f"{outcomes['help']} --help, 0 failures")
    for kind, n in outcomes.most_common():
        print(f"  {n:5d}  {kind}")
    assert total >= examples * 0.9
    return outcomes


EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 2000 if os.environ.get("RUN_SLOW") == "1" else 200))


def test_every_argument_list_is_refused_in_one_line_or_reaches_the_run(tmp_path, monkeypatch):
    outcomes = _fuzz(argument_lists(), EXAMPLES, tmp_path, monkeypatch)
    assert outcomes["reached"] >= 0.1 * EXAMPLES and len(outcomes) >= 15      # deep checks are reached too


def test_every_photo_is_read_or_refused_in_one_line(tmp_path, monkeypatch):
    print(f"\n{len(SAVEABLE)} (mode, format) pairs over {len({m for m, _ in SAVEABLE})} of Pillow's "
          f"{len(Image.MODES)} modes")

    def intact_files_are_read(case: tuple, outcome: str) -> None:
        photo = case[0][1]
        if photo.kind == "image" and photo.keep == 1.0 and photo.pil_reads():
            assert outcome == "reached" or outcome.startswith("refused: orbit views"), (photo, outcome)

    outcomes = _fuzz(photo_runs(), EXAMPLES, tmp_path, monkeypatch, intact_files_are_read)
    assert outcomes["reached"] >= 0.4 * EXAMPLES
