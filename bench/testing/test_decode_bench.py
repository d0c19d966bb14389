# Tests of bench/decode.py (issue 14's decode benchmark) that need no GPU: the pixel comparison, the
# plan's order, the ratios, acceptance lines and tables on fabricated rows, --report on a JSON-lines
# file, a tilestream without decode= (a stand-in module), and the driver end to end on a tiny JPEG
# slide with the CPU stand-ins of cuCIM (bench/testing/fake_cuimage, which takes cucim.skimage from
# fake_cucim) and cupy (fake_gpu), the built tilestream package and CLI, and a stand-in ceiling: a
# wrong cuCIM shows MISMATCH, blocked libraries become rows saying why, a past deadline skips every
# case; bench/device/decode_bench.sh with a built CLI and package instead of its build.
#   .venv/bin/python -m pytest -q bench/testing/test_decode_bench.py
# The end-to-end tests need the built extension (build/release/python/_tilestream*.so beside
# python/tilestream, or a folder holding a tilestream package in TILESTREAM_PYTHONPATH) and the CLI
# build/release/tilestream; they skip without them.
import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
CLI = ROOT / "build" / "release" / "tilestream"
sys.path.insert(0, str(BENCH))

import decode  # noqa: E402


# --- the pixel comparison ---

def test_compare_pixels():
    a = np.zeros((6, 5, 3), np.uint8)
    assert decode.compare_pixels(a, a.copy(), 4, 0.5) == ("ok", "equal", 0.0, 0.0)
    b = a.copy()
    b[0, 0, 0] = 4
    b[5, 4, 2] = 2
    status, text, worst, mean = decode.compare_pixels(a, b, 4, 0.5)
    assert (status, worst) == ("ok", 4.0) and mean == pytest.approx(6 / 90)
    assert text == "within tolerance: max |diff| 4, mean 0.0667"
    assert decode.compare_pixels(a, b, 3, 0.5)[0:2] == ("mismatch", "MISMATCH: max |diff| 4, mean 0.0667")
    # the mean alone can fail: every sample off by 1 with a mean tolerance of 0.5
    status, text, worst, mean = decode.compare_pixels(a, a + 1, 4, 0.5)
    assert status == "mismatch" and worst == 1.0 and mean == 1.0
    # 255 against 0 is 255, not 1 (no uint8 wrap-around)
    c = a.copy()
    c[1, 1, 1] = 255
    assert decode.compare_pixels(a, c, 4, 0.5)[2] == 255.0
    assert decode.compare_pixels(a, a[:, :4], 4, 0.5)[0:2] == (
        "mismatch", "MISMATCH: shape (6, 4, 3) vs tilestream's CPU decode's (6, 5, 3)")
    rgba = np.concatenate([b, np.full((6, 5, 1), 255, np.uint8)], axis=2)  # a reader's RGBA: its RGB compared
    assert decode.compare_pixels(a, rgba, 4, 0.5)[2] == 4.0
    f = np.zeros((4, 4), np.float32)
    g = f.copy()
    g[0, 0] = 0.25
    assert decode.compare_pixels(f, g, 4, 0.5)[2:] == (0.25, pytest.approx(0.25 / 16))


def test_compare_pixels_in_blocks_equals_whole():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (3000, 700, 3), dtype=np.uint8)  # more rows than one block
    b = np.clip(a.astype(np.int32) + rng.integers(-3, 4, a.shape), 0, 255).astype(np.uint8)
    d = np.abs(a.astype(np.int32) - b.astype(np.int32))
    status, _, worst, mean = decode.compare_pixels(a, b, 4, 2.0)
    assert status == "ok" and worst == d.max() and mean == pytest.approx(d.mean())


def test_random_locations_and_batches():
    a = decode.random_locations(1000, 700, 256, 5000, seed=3)
    assert a.shape == (5000, 2) and a[:, 0].max() <= 1000 - 256 and a[:, 1].max() <= 700 - 256
    assert np.array_equal(a, decode.random_locations(1000, 700, 256, 5000, seed=3))
    with pytest.raises(ValueError, match="does not fit"):
        decode.random_locations(255, 900, 256, 1, seed=1)
    info = decode.SlideInfo("s", "s.tif", 1000, 700, 1, 1)
    state = decode.SlideState(info, decode.Settings(repeats=2, batch_size=8))
    assert len(state.batches) == 3 and all(b.shape == (8, 2) for b in state.batches)
    small = decode.SlideState(decode.SlideInfo("s", "s.tif", 100, 100, 1, 1), decode.Settings())
    assert small.batches is None and "does not fit" in small.batches_why


def test_plan_puts_the_headline_and_references_first():
    cases = decode.ordered_cases(decode.plan(["svs", "t256-q80", "t240-q75"], "t256-q80", list(decode.SECTIONS),
                                             list(decode.READERS), ["t256-q80", "svs"]))
    assert cases[0] == ("t256-q80", "tilestream-host")
    assert [c for s, c in cases[:6]] == ["tilestream-host", "tilestream-gpu", "tilestream-cpu", "tilestream-cli-gpu",
                                         "cucim-cuda", "ceiling"]
    slides = [s for s, _ in cases]
    assert slides == sorted(slides, key=["t256-q80", "svs", "t240-q75"].index)  # slide by slide, headline first
    head = [c for s, c in cases if s == "t256-q80"]
    assert head.index("convert-cuda") < head.index("convert-cpu") < head.index("patches-tilestream-cpu")
    assert head.index("patches-tilestream-cpu") < head.index("patches-tilestream-cuda")  # the reference first
    assert head.index("patches-tilestream-cuda") < head.index("patches-tilestream-cuda-cpu")  # decode="gpu" first
    assert "process-cuda" in [c for s, c in cases if s == "svs"]
    other = {c for s, c in cases if s == "t240-q75"}
    assert not other & {"convert-cuda", "convert-cpu", "process-cuda", "cucim-sobel-zarr", "process-cpu"}
    not_pipeline = sum(1 for section, *_ in decode.CASES.values() if section not in ("roundtrip", "convert"))
    assert len(cases) == len(set(cases)) == 2 * len(decode.CASES) + not_pipeline
    only = decode.plan(["a"], "a", ["level"], ["cucim"], ["a"])
    assert [c for _, c in only] == ["cucim-cuda", "cucim-cpu"]


# --- the report on fabricated rows ---

def row(case, seconds, slide="t256-q80", cpu=None, **extra):
    section, reader, device, label = decode.CASES[case]
    base = dict(kind="case", slide=slide, section=section, case=case, reader=reader, device=device, label=label,
                threads=16, status="ok", reason="", decoder="", seconds=seconds, cpu_seconds=cpu,
                gb_per_s=1.578 / seconds if seconds else None, check="equal", check_status="ok",
                max_diff=0.0, mean_diff=0.0)
    base.update(extra)
    return base


ROWS = [
    row("tilestream-host", 0.30, cpu=4.0, check="the reference"),
    row("tilestream-gpu", 0.080, cpu=0.9, check="within tolerance: max |diff| 3, mean 0.0223", max_diff=3.0,
        mean_diff=0.0223),
    row("tilestream-cpu", 0.207, cpu=4.5),
    row("cucim-cuda", 0.40, cpu=2.0),
    row("ceiling", 0.070, cpu=0.5, check="no pixels (decodes only)", check_status=""),
    row("tifffile-cpu", 1.5, cpu=20.0, check="MISMATCH: max |diff| 9, mean 3.0000", check_status="mismatch",
        max_diff=9.0, mean_diff=3.0),
    dict(row("cucim-cpu", None), status="skipped", reason="cucim is not importable: blocked"),
    row("convert-cuda", 0.2, check="not compared", check_status=""),
    row("convert-cpu", 0.5, check="the reference (CPU path)"),
    row("convert-cuda", 0.2, check="8 levels read with zarr-python vs the CPU path: max |diff| 3, mean 0.0200",
        max_diff=3.0, mean_diff=0.02),
    row("patches-tilestream-cpu", 0.05, cpu=0.6, patches_per_s=5120.0),
    row("patches-cucim-cuda", 0.1, cpu=0.3, patches_per_s=2560.0),
    row("patches-tilestream-cuda", 0.03, cpu=0.2, patches_per_s=8533.0),
    row("patches-loader-cuda", 0.032, cpu=0.2, patches_per_s=8000.0),
    row("tilestream-gpu", 0.5, slide="svs", cpu=0.1),
]


def test_ratios_and_acceptance():
    rows = decode.latest_rows(ROWS)
    assert len(rows) == len(ROWS) - 1  # the second convert-cuda line replaces the first, in its place
    assert [r["case"] for r in rows].index("convert-cuda") == 7 and "8 levels" in rows[7]["check"]
    r = decode.level_ratios(rows, "t256-q80")
    assert r["vs_cucim"] == pytest.approx(5.0) and r["vs_cpu"] == pytest.approx(2.5875)
    assert r["of_ceiling"] == pytest.approx(0.875) and r["cpu_share"] == pytest.approx(0.2)
    lines = decode.acceptance(rows, "t256-q80", 16)
    assert lines[0] == ('- PASS: tilestream decode="gpu" 0.0800 s vs cuCIM device="cuda" 0.4000 s: 5.00x '
                        '(target ≥ 4x)')
    assert lines[1] == "- PASS: nvJPEG ceiling 0.0700 s: tilestream at 88% of it (target ≥ 80%)"
    assert lines[2] == "- PASS: host CPU seconds per read 0.90 vs the CPU path's 4.50: 0.20 (target ≤ 0.25)"
    assert lines[3] == "- ratio to tilestream's CPU-decode path (16 threads, 0.2070 s): 2.59x"
    assert lines[4] == ('- PASS: random patch batches: tilestream on the GPU 8,533/s (patches-tilestream-cuda) '
                        "vs cuCIM's best 2,560/s (patches-cucim-cuda): 3.33x (target ≥ 3x)")
    assert lines[5].startswith("- PASS: convert") and lines[5].endswith("2.50x (target ≥ 2x)")
    assert lines[6].startswith("- PASS: the stores read back") and "max |diff| 3, mean 0.0200" in lines[6]
    slow = [dict(x, seconds=0.2) if x["case"] == "tilestream-gpu" else x for x in rows]
    failing = decode.acceptance(slow, "t256-q80", 16)
    assert failing[0].startswith("- FAIL:") and "2.00x" in failing[0] and failing[1].startswith("- FAIL:")
    fewer = [dict(x, patches_per_s=7000.0) if x["case"].startswith("patches-") and "cucim" not in x["case"] else x
             for x in rows]
    assert decode.acceptance(fewer, "t256-q80", 16)[4].startswith("- FAIL:") and "2.73x" in decode.acceptance(
        fewer, "t256-q80", 16)[4]
    elsewhere = decode.acceptance(rows, "svs", 16)
    assert all(line.startswith("- not measured") for line in elsewhere if "target" in line or "stores" in line)


def test_markdown_tables():
    run = {"date": "2026-12-04 10:00 UTC", "machine": {"gpu": "NVIDIA H200", "cpu": "X", "cores": 16},
           "commit": "abc1234", "command": "python3 bench/decode.py", "headline": "t256-q80", "threads": 16,
           "patch": 256, "batch_size": 256, "seed": 14,
           "slides": [{"name": "t256-q80", "path": "seed.tif", "width": 19920, "height": 26420, "levels": 8,
                       "tile": "256x256", "tiles": 8112, "compression": "jpeg (ycbcr)", "file_bytes": 200 * 2**20}],
           "versions": {"tilestream": "0.1.0"}}
    text = decode.render_markdown(run, decode.latest_rows(ROWS))
    assert "NVIDIA H200" in text and "19920 x 26420 (level 0, 1.58 GB decoded)" in text and "8,112 at level 0" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert "| t256-q80 | 0.0800 | 0.4000 | 5.00x | 0.2070 | 2.59x | 0.0700 | 88% | 0.20 |" in table
    assert "| svs | 0.5000 | — | —x | — | —x | — | —% | — |" in table
    gpu = next(line for line in table if 'decode="gpu"' in line and line.startswith("| t256-q80"))
    assert gpu.split(" | ")[4:9] == ["0.0800", f"{1.578 / 0.08:.2f}", "0.90", "5.00x", "2.59x"]
    assert "| skipped | — | — | — | — | cucim is not importable: blocked |" in text
    assert "Pixels beyond the tolerance: t256-q80 tifffile.imread(level=0) + imagecodecs: MISMATCH" in text
    patches = next(line for line in table if "cuCIM read_region(locations" in line)
    assert patches.split(" | ")[6] == "2,560" and patches.split(" | ")[8] == "1.00x"
    assert all(line.count(" | ") in (8, 9, 10) for line in table)  # 9, 10 or 11 columns
    headers = [line for line in text.splitlines() if line.startswith("| slide | case")]
    separators = [line for line in text.splitlines() if line.startswith("|---|---|---|---|")]
    assert len(headers) == 3 and [h.count("|") for h in headers] == [s.count("|") for s in separators]


def test_report_from_jsonl(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"kind": "run", "headline": "t256-q80", "threads": 16}] + ROWS))
    assert decode.main(["--report", str(path), "--out-dir", str(tmp_path / "md")]) == 0
    text = (tmp_path / "md" / "decode.md").read_text()
    assert "- PASS: nvJPEG ceiling" in text and "## Convert to OME-Zarr v3 (zstd), every level" in text
    path.write_text("{not json\n")
    with pytest.raises(SystemExit, match="rows.jsonl:1: not JSON"):
        decode.main(["--report", str(path), "--out-dir", str(tmp_path / "md")])


def test_a_tilestream_without_decode_is_a_row_saying_so(monkeypatch):
    """A build before the nvJPEG stage: read_region(..., decode=) raises TypeError; the case is skipped."""
    class Slide:
        def read_region(self, location, level, size, *, device=None, out=None, threads=0):
            return np.zeros((size[1], size[0], 3), np.uint8)

        def close(self):
            pass

    fake = types.SimpleNamespace(__version__="old", with_cuda=True, open=lambda path: Slide(),
                                 UnsupportedError=type("UnsupportedError", (Exception,), {}))
    monkeypatch.setitem(sys.modules, "tilestream", fake)
    info = decode.SlideInfo("s", "s.tif", 64, 48, 1, 1)
    state = decode.SlideState(info, decode.Settings(repeats=1))
    r = decode.Row("s", "level", "tilestream-gpu", "tilestream", "cuda", "x")
    with pytest.raises(decode.Missing, match="takes no decode="):
        decode.level_tilestream(r, state, decode.Settings(repeats=1), "cuda", "gpu")
    host = decode.Row("s", "level", "tilestream-host", "tilestream", "cpu", "x")
    decode.level_tilestream(host, state, decode.Settings(repeats=2), None, None)
    assert host.check == "the reference" and state.level_reference.shape == (48, 64, 3)
    assert len(host.runs) == 2 and host.bytes == 64 * 48 * 3 and host.gb_per_s > 0 and host.cpu_seconds >= 0
    fake.with_cuda = False
    with pytest.raises(decode.Missing, match="without CUDA"):
        decode.level_tilestream(r, state, decode.Settings(repeats=1), "cuda", "cpu")


# --- the driver end to end on a tiny slide ---

def tilestream_path(tmp_path):
    if os.environ.get("TILESTREAM_PYTHONPATH"):
        return os.environ["TILESTREAM_PYTHONPATH"]
    built = sorted((ROOT / "build" / "release" / "python").glob("_tilestream*.so"))
    if not built:
        pytest.skip("no build/release/python/_tilestream*.so (scripts/build.sh release builds it)")
    package = tmp_path / "pkg" / "tilestream"
    if not package.is_dir():
        package.mkdir(parents=True)
        for source in list((ROOT / "python" / "tilestream").iterdir()) + built[:1]:
            if source.name != "__pycache__":
                (package / source.name).symlink_to(source)
    return str(package.parent)


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    if not CLI.exists():
        pytest.skip("no build/release/tilestream (scripts/build.sh release builds it)")
    path = tmp_path_factory.mktemp("slide") / "tiny.tif"
    subprocess.run([str(CLI), "synth", str(path), "--size", "1024x768", "--tile", "256", "--compression", "jpeg",
                    "--quality", "80", "--threads", "1"], check=True, capture_output=True)
    return path


def blocked(tmp_path, names):
    folder = tmp_path / "blocked"
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} blocked by the test')\n")
    return str(folder)


def fake_ceiling(tmp_path):
    """A ceiling stand-in: the contract's JSON line, three runs."""
    script = tmp_path / "ceiling.sh"
    script.write_text('#!/bin/sh\necho \'{"tiles":12,"bytes":2359296,"runs_seconds":[0.5,0.01,0.02,0.03],'
                      '"cpu_seconds":[0.4,0.001,0.002,0.003],"decoder":"nvJPEG stand-in"}\'\n')
    script.chmod(0o755)
    return str(script)


def run_driver(tmp_path, *args, block=(), fakes=True, env_extra=None):
    paths = [blocked(tmp_path, block)] if block else []
    if fakes:
        paths += [str(HERE / "fake_cuimage"), str(HERE / "fake_gpu")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths + [tilestream_path(tmp_path)]))
    env.pop("FAKE_CUCIM_WRONG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(BENCH / "decode.py"), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


def records(out):
    lines = [json.loads(line) for line in (out / "decode.jsonl").read_text().splitlines()]
    return lines[0], {r["case"]: r for r in decode.latest_rows(lines)}


COMMON = ["--threads", "2", "--repeats", "2", "--patch", "128", "--batch-size", "8"]


def test_driver_on_the_stand_ins(tmp_path, slide):
    pytest.importorskip("zarr")
    pytest.importorskip("skimage")
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", *COMMON, "--bin", str(CLI), "--ceiling",
                        fake_ceiling(tmp_path), "--work", str(tmp_path / "work"), "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    run, rows = records(out)
    assert run["headline"] == "tiny" and run["slides"][0]["path"] == "tiny.tif" and run["pipeline_slides"] == ["tiny"]
    assert str(tmp_path) not in run["command"] and "--out-dir" not in run["command"]
    assert set(rows) == set(decode.CASES)
    host = rows["tilestream-host"]
    assert host["status"] == "ok" and host["check"] == "the reference" and host["bytes"] == 1024 * 768 * 3
    assert len(host["runs"]) == 2 and len(host["cpu_runs"]) == 2 and host["gb_per_s"] > 0
    for case in ("cucim-cuda", "cucim-cpu", "tifffile-cpu", "tifffile-cuda", "patches-cucim-cuda", "patches-cucim-cpu"):
        r = rows[case]
        assert r["status"] == "ok", r
        assert r["check_status"] == "ok" and (r["check"] == "equal" or r["check"].startswith("within tolerance")), r
    assert rows["patches-tilestream-cpu"]["check"] == "the reference"
    assert rows["patches-cucim-cpu"]["patches_per_s"] > 0 and rows["patches-cucim-cpu"]["bytes"] == 8 * 128 * 128 * 3
    ceiling = rows["ceiling"]
    assert ceiling["status"] == "ok" and ceiling["runs"] == [0.01, 0.02, 0.03] and ceiling["seconds"] == 0.02
    assert ceiling["cpu_seconds"] == 0.002 and ceiling["decoder"] == "nvJPEG stand-in"
    # no GPU here: tilestream's device cases fail (or, built without decode=, say so), each a row with the reason
    for case in ("tilestream-gpu", "tilestream-cpu", "tilestream-cli-gpu", "convert-cuda", "process-cuda",
                 "patches-tilestream-cuda", "patches-loader-cuda"):
        assert rows[case]["status"] in ("error", "skipped") and rows[case]["reason"], rows[case]
    assert rows["convert-cpu"]["status"] == "ok" and rows["convert-cpu"]["seconds"] > 0
    assert rows["process-cpu"]["status"] == "ok"
    sobel = rows["cucim-sobel-zarr"]
    assert sobel["status"] == "ok" and sobel["detail"]["chunks"] == [512, 512, 3] and sobel["detail"]["zstd_level"] == 3
    assert "not compared" in sobel["check"]
    assert not list((tmp_path / "work").iterdir())  # every store removed
    text = (out / "decode.md").read_text()
    assert "## Acceptance (tiny, level 0" in text and "not measured" in text
    assert "| tiny | nvJPEG ceiling (tiles in memory, no I/O) | cuda | nvJPEG stand-in | 0.0200 |" in text


def test_a_wrong_reader_shows_mismatch(tmp_path, slide):
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", *COMMON, "--sections", "level,patches",
                        "--readers", "tilestream,cucim", "--out-dir", str(out), env_extra={"FAKE_CUCIM_WRONG": "9"})
    assert result.returncode == 0, result.stderr
    _, rows = records(out)
    for case in ("cucim-cuda", "cucim-cpu", "patches-cucim-cuda", "patches-cucim-cpu"):
        assert rows[case]["check_status"] == "mismatch" and rows[case]["check"].startswith("MISMATCH: max |diff| 9")
        assert rows[case]["max_diff"] == 9.0
    assert "Pixels beyond the tolerance: tiny cuCIM" in (out / "decode.md").read_text()


def test_missing_libraries_become_rows(tmp_path, slide):
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", *COMMON, "--sections", "level,patches,roundtrip",
                        "--bin", str(tmp_path / "no-cli"), "--out-dir", str(out), fakes=False,
                        block=["cucim", "cupy", "torch", "imagecodecs"])
    assert result.returncode == 0, result.stderr
    run, rows = records(out)
    assert "blocked by the test" in run["versions"]["cucim"]
    for case in ("cucim-cuda", "cucim-cpu", "patches-cucim-cuda", "patches-cucim-cpu", "cucim-sobel-zarr"):
        assert rows[case]["status"] == "skipped" and "blocked by the test" in rows[case]["reason"], rows[case]
    assert rows["tifffile-cpu"]["status"] == "skipped" and "imagecodecs" in rows["tifffile-cpu"]["reason"]
    assert rows["ceiling"]["status"] == "skipped" and "no tilestream_nvjpeg_ceiling" in rows["ceiling"]["reason"]
    assert rows["process-cuda"]["status"] == "skipped" and "no tilestream CLI" in rows["process-cuda"]["reason"]
    assert rows["tilestream-host"]["status"] == "ok"
    assert "| skipped | — | — | — | — | cucim is not importable" in (out / "decode.md").read_text()


def test_past_the_deadline_every_case_is_skipped(tmp_path, slide):
    out = tmp_path / "out"
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", *COMMON, "--deadline", str(time.time() - 1),
                        "--out-dir", str(out))
    assert result.returncode == 0, result.stderr
    _, rows = records(out)
    assert set(rows) == set(decode.CASES)
    assert all(r["status"] == "skipped" and r["reason"].startswith("deadline") for r in rows.values())


def test_refuses_bad_arguments(tmp_path, slide):
    result = run_driver(tmp_path, "--slide", f"tiny={slide}", "--sections", "level,zarr", "--out-dir", str(tmp_path))
    assert result.returncode != 0 and "--sections takes" in result.stderr
    result = run_driver(tmp_path, "--slide", f"tiny={tmp_path / 'none.tif'}", "--out-dir", str(tmp_path))
    assert result.returncode != 0 and "no such file" in result.stderr
    result = run_driver(tmp_path, "--slide", f"a={slide}", "--headline", "b", "--out-dir", str(tmp_path))
    assert result.returncode != 0 and "--headline b is not a --slide" in result.stderr


def test_compare_stores_of_two_conversions(tmp_path, slide):
    zarr = pytest.importorskip("zarr")
    stores = []
    for name in ("a.zarr", "b.zarr"):
        subprocess.run([str(CLI), "convert", str(slide), str(tmp_path / name), "--ome", "--codec", "zstd",
                        "--zarr-version", "3", "--threads", "1"], check=True, capture_output=True)
        stores.append(tmp_path / name)
    status, text, worst, mean, levels = decode.compare_stores(stores[0], stores[1], decode.Settings())
    assert status == "ok" and worst == 0.0 and text.startswith("2 levels read with zarr-python vs the CPU path")
    assert [lv["array"] for lv in levels] == ["0", "1"] and levels[0]["shape"] == [3, 768, 1024]
    level0 = zarr.open_array(str(stores[1] / "0"), mode="r+")
    level0[0, :16, :16] = np.clip(np.asarray(level0[0, :16, :16]).astype(int) + 7, 0, 255).astype(np.uint8)
    status, text, worst, _, _ = decode.compare_stores(stores[0], stores[1], decode.Settings())
    assert status == "mismatch" and text.startswith("MISMATCH:") and 0 < worst <= 7


# --- bench/device/decode_bench.sh ---

def test_device_script_without_a_gpu(tmp_path):
    if not CLI.exists():
        pytest.skip("no build/release/tilestream (scripts/build.sh release builds it)")
    (tmp_path / "wheels").mkdir()
    env = dict(os.environ, DECODE_BENCH_BIN=str(CLI),
               DECODE_BENCH_PYTHONPATH=os.pathsep.join([tilestream_path(tmp_path), str(HERE / "fake_cuimage"),
                                                       str(HERE / "fake_gpu")]),
               DECODE_BENCH_CEILING=fake_ceiling(tmp_path), DECODE_BENCH_SLIDE_SIZE="768x512",
               DECODE_BENCH_WHEELS=str(tmp_path / "wheels"), DECODE_BENCH_SITE=str(tmp_path / "site"),
               WORK=str(tmp_path / "work"), OUT=str(tmp_path / "out"), PYTHON=sys.executable,
               TILESTREAM_TESTDATA=str(tmp_path / "no-testdata"))
    command = ["bash", str(BENCH / "device" / "decode_bench.sh"), "--slides", "t256-q80,t512-q90,svs", "--",
               "--sections", "level", "--threads", "2", "--repeats", "1"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / "out" / "decode_bench.log").read_text()
    assert "no wheels in" in log and "the SVS rows are left out" in log and "done after" in log
    assert "slide t512-q90 written" in log
    assert (tmp_path / "work" / "seed-size-jpeg-q90-t512-768x512.tif").exists()
    lines = [json.loads(line) for line in (tmp_path / "out" / "decode.jsonl").read_text().splitlines()]
    assert lines[0]["headline"] == "t256-q80" and [s["name"] for s in lines[0]["slides"]] == ["t256-q80", "t512-q90"]
    assert {r["slide"] for r in lines[1:]} == {"t256-q80", "t512-q90"}
    assert next(r for r in lines[1:] if r["case"] == "ceiling")["status"] == "ok"
    assert "## Acceptance (t256-q80" in (tmp_path / "out" / "decode.md").read_text()
    again = subprocess.run(command[:3] + ["t256-q80"] + command[4:], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "seed-size-jpeg-q80-t256-768x512.tif exists" in again.stdout  # written once
    bad = subprocess.run(["bash", str(BENCH / "device" / "decode_bench.sh"), "--slides", "t300-q80"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "--slides takes" in bad.stderr
    bad = subprocess.run(["bash", str(BENCH / "device" / "decode_bench.sh"), "--fast"], env=env,
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "unknown argument '--fast'" in bad.stderr


def test_jpeg2000_slides_name_their_decoders():
    j2k = decode.SlideInfo("j2k", "s.svs", 100, 100, 1, 1, compression="aperio_jp2000_ycbc")
    assert j2k.jpeg2000 and decode.SlideInfo("g", "g.tif", 1, 1, 1, 1, compression="jpeg2000").jpeg2000
    assert not decode.SlideInfo("t", "t.tif", 1, 1, 1, 1, compression="jpeg").jpeg2000
    assert "openslide-cpu" in decode.CASES and decode.CASES["openslide-cpu"][1] in decode.READERS
