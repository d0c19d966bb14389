# Tests of bench/patches.py (issue 13's patches-per-second benchmark) that need no GPU and none of
# the other readers: its pure helpers (locations, counts, the patch comparison, the plan's order),
# the ratios, targets and tables on fabricated rows, --report on a JSON-lines file, and the driver end
# to end on a tiny JPEG slide with tilestream and tifffile + zarr only (openslide, tiffslide, cucim
# and torch blocked), the others reported as skipped rows. bench/device/slim_wheel.py on a made-up
# wheel.
#   .venv/bin/python -m pytest -q bench/testing/test_patches_bench.py
# The end-to-end tests need the built extension: build/release/python/_tilestream*.so beside
# python/tilestream, or a folder holding a tilestream package in TILESTREAM_PYTHONPATH.
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "device"))

import patches  # noqa: E402
import slim_wheel  # noqa: E402


# --- helpers ---

def test_random_locations_are_whole_patches_and_reproducible():
    a = patches.random_locations(1000, 700, 256, 5000, seed=3)
    assert a.shape == (5000, 2) and a.dtype == np.int64
    assert a[:, 0].min() >= 0 and a[:, 0].max() <= 1000 - 256
    assert a[:, 1].min() >= 0 and a[:, 1].max() <= 700 - 256
    assert a[:, 0].max() == 1000 - 256 and a[:, 1].min() == 0  # uniform: both ends are reached
    assert np.array_equal(a, patches.random_locations(1000, 700, 256, 5000, seed=3))
    assert not np.array_equal(a, patches.random_locations(1000, 700, 256, 5000, seed=4))
    assert np.array_equal(patches.random_locations(256, 256, 256, 3, seed=1), np.zeros((3, 2), np.int64))
    with pytest.raises(ValueError, match="does not fit"):
        patches.random_locations(255, 900, 256, 1, seed=1)


def test_cyclic_and_choose_count():
    locations = np.arange(10).reshape(5, 2)
    assert patches.cyclic(locations, 3, 4).tolist() == [[6, 7], [8, 9], [0, 1], [2, 3]]
    assert patches.cyclic(locations, 12, 1).tolist() == [[4, 5]]
    # about rate * seconds patches, a whole number of granules, at least one, at most 4x the list
    assert patches.choose_count(1000.0, 0.8, 16, 4096) == 800
    assert patches.choose_count(1000.0, 0.8, 256, 4096) == 768
    assert patches.choose_count(10.0, 0.8, 256, 4096) == 256
    assert patches.choose_count(1e9, 0.8, 256, 4096) == 4 * 4096
    assert patches.choose_count(float("inf"), 0.8, 16, 100) == 16


def test_compare_patches():
    a = np.zeros((3, 4, 4, 3), np.uint8)
    assert patches.compare_patches(a, a.copy(), 2) == ("ok", "3 patches equal")
    b = a.copy()
    b[1, 0, 0, 0] = 2
    b[2, 1, 1, 2] = 1
    assert patches.compare_patches(a, b, 2) == ("ok", "max |diff| 2 in 2 of 144 samples (3 patches)")
    assert patches.compare_patches(a, b, 1) == ("mismatch", "MISMATCH: max |diff| 2 in 2 of 144 samples (3 patches)")
    assert patches.compare_patches(a, b[:, :, :, :2], 2)[0] == "mismatch"
    assert patches.compare_patches(a, a.astype(np.uint16), 2) == (
        "mismatch", "MISMATCH: dtype uint16 vs tilestream's uint8")
    # 255 against 0 is a difference of 255, not of 1 (no uint8 wrap-around)
    c = a.copy()
    c[0, 0, 0, 0] = 255
    assert "max |diff| 255" in patches.compare_patches(a, c, 2)[1]


def test_arguments():
    assert patches.parse_ints("1,16", "--threads") == [1, 16]
    with pytest.raises(SystemExit, match="positive"):
        patches.parse_ints("0,2", "--threads")
    with pytest.raises(SystemExit, match="integers"):
        patches.parse_ints("a", "--sizes")
    assert patches.parse_names("cucim,tilestream", patches.READERS, "--readers") == ["cucim", "tilestream"]
    with pytest.raises(SystemExit, match="not zarr"):
        patches.parse_names("tilestream,zarr", patches.READERS, "--readers")
    assert patches.parse_slide("svs=a=b.svs") == ("svs", "a=b.svs")
    with pytest.raises(SystemExit, match="NAME=PATH"):
        patches.parse_slide("slide.svs")
    argv = ["--slide", "s=x.tif", "--readers", "cucim,tilestream", "--deadline=5", "--out-dir", "o", "--sizes", "256"]
    assert patches.passthrough(argv) == ["--slide", "s=x.tif", "--sizes", "256"]
    assert patches.passthrough(argv, ("--out-dir", "--deadline")) == [
        "--slide", "s=x.tif", "--readers", "cucim,tilestream", "--sizes", "256"]


def test_plan_puts_the_targets_first():
    modes = {name: cls.modes for name, cls in patches.READER_CLASSES.items()}
    cases = patches.plan_cases(["svs", "synth"], "synth", [256, 512], [1, 16], list(patches.READERS),
                               list(patches.MODES), ["cpu", "cuda"], 256, modes)
    keys = [c.key() for c in cases]
    assert len(keys) == len(set(keys))
    # per slide and size: tilestream 3 modes x 2 threads + 2 device modes, cucim 2 x 2 + 1, three per-patch readers x 2
    assert len(cases) == 2 * 2 * (8 + 5 + 6)
    first = [c for c in cases if c.priority == 0]
    assert {(c.slide, c.size) for c in first} == {("synth", 256)}
    assert {c.reader for c in first} == {"tilestream", "cucim"}
    assert cases[:len(first)] == first
    assert [c.priority for c in cases] == sorted(c.priority for c in cases)
    assert {(c.slide, c.size) for c in cases if c.priority == 2} == {("svs", 256)}
    assert {c.size for c in cases if c.priority == 3} == {512}
    # the GPU at the largest thread count only; per-patch readers on the CPU only
    assert {c.threads for c in cases if c.device == "cuda"} == {16}
    assert {(c.reader, c.mode) for c in cases if c.device == "cuda"} == {
        ("tilestream", "batch"), ("tilestream", "loader"), ("cucim", "batch")}
    assert all(c.batch_size is None for c in cases if c.mode == "per-patch")
    assert all(c.batch_size == 256 for c in cases if c.mode != "per-patch")
    only = patches.plan_cases(["s"], "s", [256], [1], ["openslide"], ["batch"], ["cpu"], 64, modes)
    assert only == []  # OpenSlide reads one patch per call


# --- report ---

def row(reader, mode, device, threads, rate, size=256, slide="synth", **extra):
    return dict(dict(kind="case", slide=slide, reader=reader, mode=mode, device=device, size=size, threads=threads,
                     batch_size=None if mode == "per-patch" else 256, status="ok", reason="", patches_per_s=rate,
                     check="8 patches equal", check_status="ok"), **extra)


ROWS = [
    row("tilestream", "per-patch", "cpu", 1, 1300.0),
    row("cucim", "per-patch", "cpu", 1, 1000.0),
    row("cucim", "batch", "cpu", 16, 10000.0),
    row("tilestream", "batch", "cpu", 16, 16000.0),
    row("tilestream", "loader", "cpu", 16, 14000.0),
    row("tilestream", "per-patch", "cpu", 16, 9000.0),
    row("cucim", "per-patch", "cpu", 16, 8000.0),
    row("tilestream", "loader", "cuda", 16, 20000.0),
    row("cucim", "batch", "cuda", 16, 4000.0),
    row("cucim[cuslide2]", "batch", "cuda", 16, 5000.0),
    row("tifffile+zarr", "per-patch", "cpu", 1, 300.0, check="MISMATCH: max |diff| 9 in 3 of 9 samples (8 patches)",
        check_status="mismatch"),
    dict(row("openslide", "per-patch", "cpu", 16, None), status="skipped", reason="openslide-python is not importable"),
]


def test_ratios_against_cucim():
    rates = patches.baseline_rates(ROWS)
    assert rates[("synth", 256, 1, "per-patch", "cpu")] == 1000.0
    assert ("synth", 256, 16, "batch", "cuda") in rates  # cucim[cuslide2] is not the baseline:
    assert rates[("synth", 256, 16, "batch", "cuda")] == 4000.0
    assert patches.ratios(ROWS[0], rates) == (1.3, None)  # no cuCIM batch at 1 thread
    assert patches.ratios(ROWS[3], rates) == (2.0, 1.6)
    assert patches.ratios(ROWS[7], rates) == (2.5, 5.0)  # GPU rows against cuCIM's GPU batches
    assert patches.ratios(ROWS[-1], rates) == (None, None)


def test_targets():
    lines = patches.targets(ROWS, "synth", 256, 16)
    assert lines[0] == "- 1 thread, tilestream per patch 1,300/s ≥ cuCIM per patch 1,000/s: PASS (1.30x)"
    assert lines[1].endswith("read_regions 16,000/s ≥ 1.5 × cuCIM batched (num_workers 16) 10,000/s: PASS (1.60x)")
    assert lines[2].endswith("PatchLoader 14,000/s ≥ 1.5 × cuCIM batched (num_workers 16) 10,000/s: FAIL (1.40x)")
    assert lines[3].endswith("per patch 9,000/s ≥ 1.5 × cuCIM batched (num_workers 16) 10,000/s: FAIL (0.90x)")
    assert lines[4] == ('- PatchLoader device="cuda", batches as torch tensors on the GPU: 20,000 patches/s '
                        '(cuCIM device="cuda" batches, 16 workers: 4,000/s; 5.00x of it)')
    elsewhere = patches.targets(ROWS, "svs", 256, 16)
    assert all("not measured" in line for line in elsewhere[:4]) and "— patches/s" in elsewhere[4]


def test_markdown_table():
    run = {"date": "2026-12-04 10:00 UTC", "machine": {"gpu": "NVIDIA H200, 580.159.04, 143771 MiB", "cpu": "X",
           "cores": 16, "host": "h", "python": "3.12.3"}, "commit": "abc1234", "command": "python3 bench/patches.py",
           "slides": [{"name": "synth", "path": "seed-jpeg.tif", "width": 19920, "height": 26420, "levels": 8,
                       "tile": "256x256", "compression": "jpeg (ycbcr)", "vendor": "generic-tiff",
                       "file_bytes": 200 * 2**20}],
           "headline": "synth", "sizes": [256], "threads": [1, 16], "patches": 4096, "seed": 13,
           "tile_cache_statement": "off on every side (...)", "page_cache_statement": "warm",
           "timing_statement": "median of 3", "versions": {"tilestream": "0.1.0"}}
    text = patches.render_markdown(run, ROWS)
    assert "NVIDIA H200" in text and "2026-12-04" in text and "tile caches: off on every side" in text
    assert "19920 x 26420 (level 0)" in text and "200.0 MiB" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| reader | mode | device | patch | threads | batch | patches/s")
    assert "| tilestream | batch | cpu | 256 | 16 | 256 | 16,000 | 2.00x | 1.60x | 8 patches equal |" in table
    assert "| openslide | per-patch | cpu | 256 | 16 | — | skipped | — | — | openslide-python is not importable |" in table
    assert "| cucim[cuslide2] | batch | cuda | 256 | 16 | 256 | 5,000 | 0.62x | 1.25x | 8 patches equal |" in table
    # 1 thread before 16, within a thread count the CPU before the GPU, tilestream before cucim before the others
    order = [(line.split(" | ")[0][2:], line.split(" | ")[2], line.split(" | ")[4]) for line in table[1:]]
    assert order[:3] == [("tilestream", "cpu", "1"), ("cucim", "cpu", "1"), ("tifffile+zarr", "cpu", "1")]
    assert order.index(("tilestream", "cuda", "16")) > order.index(("openslide", "cpu", "16"))
    assert "Patches that differ from tilestream's beyond the tolerance: synth tifffile+zarr" in text
    assert "12,272/s" in text  # the figures for context


def test_report_from_jsonl(tmp_path, capsys):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"kind": "run", "headline": "synth", "sizes": [256],
                                                       "threads": [1, 16]}] + ROWS) + "\n")
    assert patches.main(["--report", str(path), "--out-dir", str(tmp_path / "md")]) == 0
    text = (tmp_path / "md" / "patches.md").read_text()
    assert "| tilestream | loader | cuda | 256 | 16 | 256 | 20,000 | 2.50x | 5.00x |" in text
    assert "PASS (1.60x)" in text and "5.00x of it" in text
    path.write_text("{not json\n")
    with pytest.raises(SystemExit, match="rows.jsonl:1: not JSON"):
        patches.main(["--report", str(path), "--out-dir", str(tmp_path / "md")])


# --- the driver end to end on a tiny slide ---

def tilestream_path(tmp_path):
    """A folder with an importable tilestream package: TILESTREAM_PYTHONPATH, else python/tilestream
    with the release build's extension linked in."""
    if os.environ.get("TILESTREAM_PYTHONPATH"):
        return os.environ["TILESTREAM_PYTHONPATH"]
    built = sorted((ROOT / "build" / "release" / "python").glob("_tilestream*.so"))
    if not built:
        pytest.skip("no build/release/python/_tilestream*.so (scripts/build.sh release builds it)")
    package = tmp_path / "pkg" / "tilestream"
    if package.is_dir():  # made by an earlier run_driver of the same test
        return str(package.parent)
    package.mkdir(parents=True)
    for source in list((ROOT / "python" / "tilestream").iterdir()) + built[:1]:
        if source.name != "__pycache__":
            (package / source.name).symlink_to(source)
    return str(package.parent)


def tiny_slide(path):
    """1024 x 768, 256 x 256 JPEG tiles, two levels: written by the release CLI where there is one."""
    binary = ROOT / "build" / "release" / "tilestream"
    if binary.exists():
        subprocess.run([str(binary), "synth", str(path), "--size", "1024x768", "--tile", "256", "--compression", "jpeg",
                        "--quality", "80", "--threads", "1"], check=True, capture_output=True)
        return
    tifffile = pytest.importorskip("tifffile")
    pytest.importorskip("imagecodecs")
    rng = np.random.default_rng(2)
    level0 = np.kron(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8), np.ones((32, 32, 1), np.uint8))
    with tifffile.TiffWriter(path) as tif:
        tif.write(level0, tile=(256, 256), photometric="rgb", compression="jpeg")


def blocked(tmp_path, names):
    """A folder that, first on PYTHONPATH, makes these modules fail to import, as where not installed."""
    folder = tmp_path / "blocked"
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} blocked by the test')\n")
    return str(folder)


def run_driver(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([blocked(tmp_path, ["openslide", "tiffslide", "cucim", "torch"]),
                                                      tilestream_path(tmp_path)]))
    return subprocess.run([sys.executable, str(BENCH / "patches.py"), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    path = tmp_path_factory.mktemp("slide") / "tiny.tif"
    tiny_slide(path)
    return path


def test_driver_with_tilestream_and_tifffile_only(tmp_path, slide):
    pytest.importorskip("zarr")
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", "--sizes", "128", "--threads", "1,2", "--patches", "64",
                        "--repeats", "2", "--seconds", "0.02", "--batch-size", "16", "--check", "4",
                        "--devices", "cpu,cuda", "--cucim-plugins", "cuslide,cuslide2", "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (out / "patches.jsonl").read_text().splitlines()]
    run, rows = records[0], records[1:]
    assert run["kind"] == "run" and run["headline"] == "tiny" and run["slides"][0]["path"] == "tiny.tif"
    assert run["slides"][0]["width"] == 1024 and run["slides"][0]["tile"] == "256x256"
    assert str(tmp_path) not in run["command"] and "--out-dir" not in run["command"]
    assert "off on every side" in run["tile_cache_statement"]
    by_key = {(r["reader"], r["mode"], r["device"], r["threads"]): r for r in rows}
    for key in [("tilestream", "per-patch", "cpu", 1), ("tilestream", "per-patch", "cpu", 2),
                ("tilestream", "batch", "cpu", 2), ("tifffile+zarr", "per-patch", "cpu", 2)]:
        r = by_key[key]
        assert r["status"] == "ok", r
        assert r["check"] == "4 patches equal" and r["patches_per_s"] > 0
        assert len(r["runs"]) == 2 and all(n > 0 and s > 0 for n, s in r["runs"])
    assert by_key[("tilestream", "batch", "cpu", 2)]["runs"][0][0] % 16 == 0  # whole batches
    loader = by_key[("tilestream", "loader", "cpu", 1)]
    assert loader["status"] == "ok" or "PatchLoader is absent" in loader["reason"]
    for reader in ("openslide", "tiffslide", "cucim"):
        skipped = [r for r in rows if r["reader"] == reader]
        assert skipped and all(r["status"] == "skipped" and "blocked by the test" in r["reason"] for r in skipped)
    cuslide2 = [r for r in rows if r["reader"] == "cucim[cuslide2]"]  # from the second process
    assert cuslide2 and all(r["status"] == "skipped" and "blocked by the test" in r["reason"] for r in cuslide2)
    gpu = [r for r in rows if r["device"] == "cuda" and r["reader"] == "tilestream"]
    assert len(gpu) == 2 and all(r["status"] == "skipped" for r in gpu)
    assert all("PyTorch" in r["reason"] or "without CUDA" in r["reason"] for r in gpu)
    text = (out / "patches.md").read_text()
    assert "| tilestream | per-patch | cpu | 128 | 1 | — |" in text
    assert "| openslide | per-patch | cpu | 128 | 2 | — | skipped |" in text
    assert "## Targets (tiny, 128x128" in text and "not measured" in text


def test_driver_past_its_deadline_skips_what_is_left(tmp_path, slide):
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", "--sizes", "128", "--threads", "1",
                        "--readers", "tilestream", "--deadline", str(time.time() - 1), "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in (out / "patches.jsonl").read_text().splitlines()][1:]
    assert len(rows) == 3 and all(r["status"] == "skipped" and r["reason"].startswith("deadline") for r in rows)


def test_driver_refuses_bad_arguments(tmp_path, slide):
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", "--readers", "zarr", "--out-dir", str(tmp_path))
    assert result.returncode != 0 and "--readers takes" in result.stderr
    result = run_driver(tmp_path, "--slide", f"tiny={tmp_path / 'none.tif'}", "--out-dir", str(tmp_path))
    assert result.returncode != 0 and "no such file" in result.stderr


def test_device_script_without_a_gpu(tmp_path):
    """bench/device/patches_bench.sh with a built CLI and package instead of its build: the slide
    written, no wheels to install, the driver run, the report in OUT."""
    binary = ROOT / "build" / "release" / "tilestream"
    if not binary.exists():
        pytest.skip("no build/release/tilestream (scripts/build.sh release builds it)")
    (tmp_path / "wheels").mkdir()
    env = dict(os.environ, PATCHES_BENCH_BIN=str(binary), PATCHES_BENCH_PYTHONPATH=tilestream_path(tmp_path),
               PATCHES_BENCH_SLIDE_SIZE="768x512", PATCHES_BENCH_WHEELS=str(tmp_path / "wheels"),
               PATCHES_BENCH_SITE=str(tmp_path / "site"), WORK=str(tmp_path / "work"), OUT=str(tmp_path / "out"),
               PYTHON=sys.executable, TILESTREAM_TESTDATA=str(tmp_path / "no-testdata"))
    result = subprocess.run(["bash", str(BENCH / "device" / "patches_bench.sh"), "--quick", "--", "--readers", "tilestream",
                             "--modes", "per-patch", "--threads", "1", "--patches", "32", "--repeats", "1",
                             "--seconds", "0.02"], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / "out" / "patches_bench.log").read_text()
    assert "no wheels in" in log and "the SVS rows are left out" in log and "done after" in log
    assert (tmp_path / "work" / "seed-size-jpeg-q80-t256-768x512.tif").exists()
    rows = [json.loads(line) for line in (tmp_path / "out" / "patches.jsonl").read_text().splitlines()]
    assert rows[0]["headline"] == "synthetic-jpeg" and rows[0]["sizes"] == [256]
    assert [(r["reader"], r["mode"], r["status"]) for r in rows[1:]] == [("tilestream", "per-patch", "ok")]
    assert "## Targets (synthetic-jpeg, 256x256" in (tmp_path / "out" / "patches.md").read_text()
    result = subprocess.run(["bash", str(BENCH / "device" / "patches_bench.sh"), "--fast"], env=env,
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "unknown argument '--fast'" in result.stderr


# --- slim_wheel.py ---

def test_slim_wheel_keeps_the_named_members_and_their_record(tmp_path):
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    members = {"demo/__init__.py": b"x = 1\n", "demo/_jpeg.so": b"jpeg", "demo/_avif.so": b"avif" * 1000,
               "demo.libs/libjpeg.so": b"lib", "demo.libs/libaom.so": b"aom"}
    record = "".join(f"{name},sha256=x,{len(data)}\n" for name, data in members.items())
    with zipfile.ZipFile(wheel, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        z.writestr("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n")
        z.writestr("demo-1.0.dist-info/RECORD", record + "demo-1.0.dist-info/METADATA,,\ndemo-1.0.dist-info/RECORD,,\n")
    count, dropped_bytes, dropped = slim_wheel.slim_wheel(str(wheel), ["demo/*.py", "demo/_jpeg.*", "demo.libs/libjpeg*"])
    assert count == 5 and sorted(dropped) == ["demo.libs/libaom.so", "demo/_avif.so"] and dropped_bytes == 4003
    with zipfile.ZipFile(wheel) as z:
        assert sorted(z.namelist()) == ["demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD",
                                        "demo.libs/libjpeg.so", "demo/__init__.py", "demo/_jpeg.so"]
        kept_record = z.read("demo-1.0.dist-info/RECORD").decode().splitlines()
        assert [line.split(",")[0] for line in kept_record] == [
            "demo/__init__.py", "demo/_jpeg.so", "demo.libs/libjpeg.so", "demo-1.0.dist-info/METADATA",
            "demo-1.0.dist-info/RECORD"]
        assert z.read("demo/_jpeg.so") == b"jpeg"
    assert slim_wheel.slim_wheel(str(wheel), ["demo/*", "demo.libs/*"])[2] == []  # nothing more to drop
