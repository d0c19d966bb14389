# Tests of the use case 3 harness (issue 5) that need no GPU: the pure helpers of
# bench/gpu_process_bench.py (windows, plan, resume keys, arguments), the baseline's op functions
# (cucim's calls on the fake cucim, and the cupyx.scipy.ndimage fallback on scipy) against the
# scikit-image semantics of tilestream's ops, the driver end to end against the CPU stand-ins of
# tilestream, cupy and cucim (bench/testing/fake_*), bench/process_report.py on fabricated and on
# driver-made CSV files, and bench/device/process_bench.sh in its dry-run mode and on the fakes.
#   .venv/bin/python -m pytest -q bench/testing
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import gpu_process_bench as bench  # noqa: E402
import process_report  # noqa: E402

zarr = pytest.importorskip("zarr")
SEED = (26420, 19920, 3)


# --- helpers ---

def test_op_cases_describe_the_outputs():
    assert bench.OPS["sobel"].output_shape(SEED) == SEED
    assert bench.OPS["sobel"].output_bytes(SEED) == 26420 * 19920 * 3 * 4
    assert bench.OPS["median"].output_bytes(SEED) == 26420 * 19920 * 3
    assert bench.OPS["grayscale"].output_shape(SEED) == (26420, 19920, 1)
    assert bench.OPS["downsample2x"].output_shape(SEED) == (13210, 9960, 3)  # = level 1 of the seed slide
    assert bench.OPS["downsample2x"].output_shape((701, 901, 3)) == (351, 451, 3)
    assert [c.bound_level for c in bench.OPS.values()] == [0, 0, 0, 0, 0, 1]
    assert [bench.OPS[op].spec for op in ("median", "gaussian")] == ["median:size=5", "gaussian:sigma=2.5"]


def test_sample_windows():
    windows = bench.sample_windows(SEED, 4096)
    # the middle one is centred on a corner of every chunk grid (4096 is a multiple of 512 ... 4096)
    assert windows == [(0, 512, 0, 512), (12288 - 256, 12288 + 256, 8192 - 256, 8192 + 256),
                       (26420 - 512, 26420, 19920 - 512, 19920)]
    # 700x900, chunks up to 128: the middle window centred on (256, 384)
    assert bench.sample_windows((700, 900, 3), 128) == [(0, 512, 0, 512), (0, 512, 128, 640), (188, 700, 388, 900)]
    assert bench.sample_windows((700, 900, 3), 2048) == [(0, 512, 0, 512), (94, 606, 194, 706), (188, 700, 388, 900)]
    assert bench.sample_windows((350, 450, 3), 2048) == [(0, 350, 0, 450)]  # small: one window, clipped


def test_compare_windows():
    a = [np.zeros((4, 4, 3), np.float32), np.ones((2, 2, 3), np.float32)]
    b = [x.copy() for x in a]
    assert bench.compare_windows(a, b, "X") == "2 windows equal to X (60 samples)"
    b[1][0, 0, 0] = 1.5
    b[0][1, 1, 2] = -2e-7
    assert bench.compare_windows(a, b, "X") == "max |diff| 0.5 in 2 of 60 samples vs X"
    assert bench.compare_windows(a, b[:1], "X") == "DIFFERENT: 1 windows vs 2 of X"
    assert bench.compare_windows(a, [a[0], a[1].astype(np.uint8)], "X").startswith("DIFFERENT: window (2, 2, 3) uint8")


def test_read_windows(tmp_path):
    data = np.arange(300 * 200 * 3, dtype=np.float32).reshape(300, 200, 3)
    array = zarr.create_array(store=str(tmp_path / "a.zarr"), shape=data.shape, chunks=(128, 128, 3), dtype=data.dtype,
                              zarr_format=3, compressors=None)
    array[...] = data
    got = bench.read_windows(tmp_path / "a.zarr", [(0, 10, 5, 7), (290, 300, 190, 200)])
    assert np.array_equal(got[0], data[0:10, 5:7]) and np.array_equal(got[1], data[290:, 190:])


def keys(steps):
    return [(s.priority, s.kind, s.op, s.chunks, s.io) + (("fsync",) if s.fsync else ()) for s in steps]


def test_plan_follows_the_issue_priorities():
    steps = bench.plan_steps("all", list(bench.OPS), [512, 1024, 2048, 4096], ["posix", "gds"])
    assert len(steps) == 2 + (8 + 2) + 24 + (15 + 4)
    assert keys(steps)[:2] == [(1, "tilestream", "sobel", (2048,), "posix"),
                               (1, "tilestream", "sobel", (2048,), "posix", "fsync")]
    assert [s.priority for s in steps] == sorted(s.priority for s in steps)
    p2 = [k for k in keys(steps) if k[0] == 2]
    assert p2[:4] == [(2, "tilestream", "median", (c,), "posix") for c in (512, 1024, 2048, 4096)]
    assert p2[-2:] == [(2, "baseline", "median", (512, 1024, 2048, 4096), "posix"),
                       (2, "baseline", "gaussian", (512, 1024, 2048, 4096), "posix")]
    p3 = [k for k in keys(steps) if k[0] == 3]
    assert p3[0] == (3, "tilestream", "sobel", (2048,), "gds") and {k[4] for k in p3} == {"gds"}
    assert [k[2] for k in p3[1:9]] == ["median"] * 4 + ["gaussian"] * 4
    p4 = [k for k in keys(steps) if k[0] == 4]
    assert (4, "tilestream", "sobel", (2048,), "posix") not in p4  # measured as the acceptance row
    assert [k[2] for k in p4 if k[1] == "baseline"] == ["sobel", "downsample2x", "grayscale", "absorbance"]
    assert len(set(keys(steps))) == len(steps)


def test_plan_of_each_phase_and_filter():
    assert keys(bench.plan_steps("acceptance", ["median"], [512], ["gds"])) == [
        (1, "tilestream", "sobel", (2048,), "posix"), (1, "tilestream", "sobel", (2048,), "posix", "fsync")]
    ops = bench.plan_steps("ops", list(bench.OPS), [2048], ["posix", "gds"])
    assert (4, "tilestream", "sobel", (2048,), "posix") in keys(ops) and all(s.priority > 1 for s in ops)
    gds = bench.plan_steps("ops", ["median", "grayscale"], [512, 4096], ["gds"])
    assert keys(gds) == [(3, "tilestream", op, (c,), "gds") for op in ("median", "grayscale") for c in (512, 4096)]


def write_csv(path, rows, meta=()):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=bench.COLUMNS)
        writer.writeheader()
        for key, value in meta:
            writer.writerow({"use_case": "meta", "tool": key, "variant": value})
        for row in rows:
            writer.writerow(row)
    return path


def test_measured_keys(tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        {"use_case": "process", "tool": "tilestream", "op": "sobel", "mode": "tiled", "chunk": 2048, "io": "posix",
         "median_seconds": 0.5},
        {"use_case": "process", "tool": "tilestream", "op": "sobel", "mode": "global", "chunk": 2048, "io": "posix",
         "median_seconds": 0.7, "error": "stopped after 2 of 3 runs: time budget (4 s left)"},
        {"use_case": "process", "tool": "tilestream", "op": "median", "mode": "tiled", "chunk": 512, "io": "gds",
         "error": "skipped: time budget (3 s left)"},
        {"use_case": "process", "tool": "baseline", "op": "median", "mode": "global", "chunk": 512, "io": "posix",
         "median_seconds": 3.0},
        {"use_case": "process", "tool": "tilestream", "op": "sobel", "mode": "tiled", "chunk": 2048, "io": "posix",
         "fsync": 1, "median_seconds": 5.5},
        {"use_case": "bound", "tool": "tilestream", "variant": "read-only posix", "median_seconds": 0.04},
    ], meta=[("date", "2026-12-01")])
    assert bench.measured_keys([path]) == {("tilestream", "sobel", "tiled", 2048, "posix", False),
                                           ("tilestream", "sobel", "tiled", 2048, "posix", True),
                                           ("baseline", "median", 512)}


def test_arguments(tmp_path):
    args = bench.parse_args(["--work", "/w"])
    assert (args.phase, args.runs, args.chunks, args.io, args.ops) == (
        "all", 3, [512, 1024, 2048, 4096], ["posix", "gds"], list(bench.OPS))
    assert args.slide == "/w/seed.tif"
    quick = bench.parse_args(["--quick", "--runs", "5"])
    assert (quick.runs, quick.chunks) == (1, [512, 2048])
    assert bench.parse_args(["--ops", "median,sobel", "--io", "gds"]).ops == ["median", "sobel"]
    for bad in (["--runs", "0"], ["--ops", "blur"], ["--io", "direct"], ["--phase", "write"], ["--chunks", "0"],
                ["--resume", str(tmp_path / "missing.csv")]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_estimates_grow_with_the_bytes_written():
    small, big = bench.estimate_process_run(1e9), bench.estimate_process_run(6e9)
    assert small > bench.PROCESS_START_S and big - small == pytest.approx(5e9 / bench.PAGE_CACHE_WRITE_BPS)
    assert bench.estimate_baseline_run(1.6e9, 6.3e9, [512, 1024]) > bench.estimate_baseline_run(1.6e9, 6.3e9, [512])


# --- the baseline's op functions against tilestream's semantics ---

NO_CUCIM = Path(__file__).resolve().parent  # replaced by the fixture's folder with a cucim that fails to import


@pytest.fixture(scope="module")
def fakes(tmp_path_factory):
    """A work folder with the fake seed slide and a `tilestream` wrapper running the fake."""
    global NO_CUCIM
    base = tmp_path_factory.mktemp("process_bench")
    NO_CUCIM = base / "no_cucim"
    (NO_CUCIM / "cucim").mkdir(parents=True)
    (NO_CUCIM / "cucim" / "__init__.py").write_text("raise ImportError('No module named cucim (test)')\n")
    wrapper = base / "tilestream"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "fake_tilestream.py"}" "$@"\n')
    wrapper.chmod(0o755)
    work = base / "work"
    work.mkdir()
    subprocess.run([wrapper, "synth", work / "seed.tif", "--seed-shape"], check=True, env=fake_env())
    return {"bin": wrapper, "work": work, "base": base}


def fake_env(cucim=True, **extra):
    """PYTHONPATH with the stand-ins first: the fake cucim, or (cucim=False) one whose import fails
    like a missing package, whatever cucim the machine has."""
    paths = [str(HERE / "fake_gpu"), str(HERE / "fake_cucim") if cucim else str(NO_CUCIM)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), FAKE_TILESTREAM_SHAPE="700x900")
    env.pop("TILESTREAM_MEMORY", None)
    env.update(extra)
    return env


COMPARE_OPS = """
import json, sys
import numpy as np
sys.path[:0] = [{bench!r}, {testing!r}]
import cupy
import fake_tilestream
import gpu_process_bench as bench
image = np.random.default_rng(3).integers(0, 256, (130, 171, 3), dtype=np.uint8)
image[10:40, 20:90] = 200
functions, implementation = bench.baseline_ops(cupy)
out = {{"implementation": implementation}}
for op, case in bench.OPS.items():
    want = fake_tilestream.run_op(case.spec, image)
    got = np.asarray(functions[op](cupy.asarray(image)))
    out[op] = [list(got.shape), str(got.dtype), list(want.shape), str(want.dtype),
               float(np.abs(got.astype(float) - want.astype(float)).max())]
print(json.dumps(out))
"""


@pytest.mark.parametrize("cucim", [True, False], ids=["cucim", "cupyx-fallback"])
def test_baseline_ops_match_the_skimage_semantics(fakes, cucim):
    """The calls the baseline makes (cucim's, on the fake cucim = scikit-image; or the fallback, on
    scipy.ndimage) give tilestream's output dtype and shape and skimage's values, bit for bit, on an
    odd-sized image (downsample2x: the fallback's partial blocks)."""
    script = COMPARE_OPS.format(bench=str(BENCH), testing=str(HERE))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=fake_env(cucim),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    if cucim:
        assert out["implementation"] == "cucim fake-cpu"
    else:
        assert out["implementation"].startswith("cupyx.scipy.ndimage fallback (cucim not importable: ImportError")
    for op in bench.OPS:
        got_shape, got_dtype, want_shape, want_dtype, worst = out[op]
        if cucim and op == "downsample2x":  # downscale_local_mean pads odd edges with 0: the last column differs
            assert got_shape == want_shape and worst > 0
            continue
        assert (got_shape, got_dtype, worst) == (want_shape, want_dtype, 0.0), (op, out[op])


# --- the driver end to end on CPU stand-ins ---

def run_driver(fakes, out, *args, cucim=True, **env):
    command = [sys.executable, "-u", str(BENCH / "gpu_process_bench.py"), "--bin", str(fakes["bin"]), "--work",
               str(fakes["work"]), "--out-dir", str(out), "--results", str(out / "results"), *args]
    result = subprocess.run(command, capture_output=True, text=True, env=fake_env(cucim, **env), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def rows_of(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == bench.COLUMNS
    return [r for r in rows if r["use_case"] != "meta"], {r["tool"]: r["variant"] for r in rows if r["use_case"] == "meta"}


@pytest.fixture(scope="module")
def full_run(fakes):
    """Every priority: the acceptance rows, median (priority 2), gds failing like a machine without
    cuFile (3), downsample2x (4); 2 runs, chunk 256."""
    out = fakes["base"] / "out"
    log = run_driver(fakes, out, "--phase", "all", "--runs", "2", "--chunks", "256", "--ops", "median,downsample2x",
                     FAKE_TILESTREAM_FAIL_IO="gds")
    return out, log


def test_driver_rows(full_run):
    out, log = full_run
    rows, meta = rows_of(out / "process.csv")
    assert meta["phase"] == "all" and meta["baseline_ops"] == "cucim fake-cpu" and "cucim fake-cpu" in meta["versions"]
    assert "warm" in meta["page_cache"] and meta["driver_command"].startswith("python3 bench/gpu_process_bench.py")
    process = {(r["tool"], r["op"], r["mode"], r["chunk"], r["io"], r["fsync"]): r for r in rows
               if r["use_case"] == "process"}
    measured = [("tilestream", "sobel", m, "2048", "posix", f) for m in ("global", "tiled") for f in ("0", "1")]
    measured += [("tilestream", op, m, "256", "posix", "0") for op in ("median", "downsample2x")
                 for m in ("global", "tiled")]
    measured += [("baseline", op, "global", "256", "posix", "0") for op in ("median", "downsample2x")]
    for key in measured:
        row = process[key]
        assert row["error"] == "" and len(row["runs_seconds"].split(";")) == 2, row
        assert ("windows equal to" in row["checksum_or_check"] or row["checksum_or_check"].startswith("reference")), row
        assert "$WORK/seed.tif" in row["command"] or row["tool"] == "baseline"
        assert str(out) not in row["command"] and str(out.parent) not in row["detail"]
    sobel_global, sobel_tiled = (process[("tilestream", "sobel", m, "2048", "posix", "0")] for m in ("global", "tiled"))
    assert float(sobel_tiled["peak_device_mb"]) == pytest.approx(float(sobel_global["peak_device_mb"]) / 20, rel=1e-3)
    assert int(sobel_global["bytes"]) == 700 * 900 * 3 * 4 and sobel_global["dtype"] == "float32"
    assert sobel_tiled["bound_rows"] == "read-only posix; write-only float32 c2048 level 0"
    assert "--fsync" not in sobel_tiled["command"]
    durable = process[("tilestream", "sobel", "tiled", "2048", "posix", "1")]
    assert durable["variant"] == "sobel tiled c2048 posix fsync" and durable["command"].endswith("--json --fsync")
    assert durable["bound_rows"] == "read-only posix; write-only float32 c2048 level 0 fsync"
    assert durable["checksum_or_check"].startswith("3 windows equal to")
    assert process[("tilestream", "downsample2x", "tiled", "256", "posix", "0")]["bound_rows"] == \
        "read-only posix; write-only uint8 c256 level 1"
    assert "workers 4" in sobel_tiled["detail"] and "wall per run" in sobel_tiled["detail"]
    baseline = process[("baseline", "median", "global", "256", "posix", "0")]
    assert baseline["checksum_or_check"].startswith("3 windows equal to tilestream global posix c256")
    assert baseline["detail"].startswith("cucim fake-cpu: cucim.skimage.filters.median")
    # gds: the read-only row fails, so its process rows are recorded as not run
    gds = [r for r in rows if r["io"] == "gds"]
    assert {r["variant"] for r in gds if r["use_case"] == "bound"} == {"read-only gds"}
    assert len([r for r in gds if r["use_case"] == "process"]) == 2 * 2
    assert all(r["error"].startswith("not run: `tilestream read --io gds` failed") for r in gds if r["use_case"] == "process")
    bounds = sorted(r["variant"] for r in rows if r["use_case"] == "bound" and not r["error"])
    assert bounds == ["read-only posix", "write-only float32 c2048 level 0", "write-only float32 c2048 level 0 fsync",
                      "write-only uint8 c256 level 0", "write-only uint8 c256 level 1"]
    fsync_bound = next(r for r in rows if r["variant"] == "write-only float32 c2048 level 0 fsync")
    assert fsync_bound["fsync"] == "1" and fsync_bound["command"].endswith("--json --fsync")
    assert "write + fsync (the figure" in fsync_bound["detail"]
    # the two modes alternate run by run
    order = [line.split("posix ")[1].split(":")[0] for line in log.splitlines()
             if "sobel c2048 posix " in line and " run " in line and "fsync" not in line]
    assert order == ["global run 1/2", "tiled run 1/2", "global run 2/2", "tiled run 2/2"]
    assert sorted(p.name for p in (out.parent / "work").iterdir()) == ["seed.tif"]  # every store removed
    assert [p.name.split("_")[0] for p in (out / "results").iterdir()] == ["process"]


def test_driver_resumes_where_a_command_ended(fakes, full_run):
    out, _ = full_run
    again = fakes["base"] / "again"
    log = run_driver(fakes, again, "--phase", "all", "--runs", "1", "--chunks", "256", "--ops", "median,downsample2x",
                     "--resume", str(out / "process.csv"))
    rows, meta = rows_of(again / "process.csv")
    process = [r for r in rows if r["use_case"] == "process"]
    assert {r["io"] for r in process} == {"gds"} and len(process) == 4 and all(not r["error"] for r in process)
    assert "both modes measured in the --resume CSV" in log and meta["resumed_from"] == "process.csv"
    # the report of both commands: gds rows measured, acceptance from the first, bounds per command
    md = process_report.report([out / "process.csv", again / "process.csv"], fakes["base"] / "report").read_text()
    assert "| median | 256 | tiled | tilestream | gds |" in md and "not run: `tilestream read" not in md
    assert "| tiled peak device memory <= 10% of global's |" in md and "= 5.0% | **PASS** |" in md
    assert "| 2 | read-only gds | gds |" in md and "| 1 | read-only posix | posix |" in md


def test_driver_falls_back_without_cucim_and_skips_past_the_budget(fakes):
    out = fakes["base"] / "budget"
    log = run_driver(fakes, out, "--phase", "ops", "--runs", "1", "--chunks", "256", "--ops", "median", "--io", "posix",
                     "--deadline", str(time.time() + 4), cucim=False)
    rows, meta = rows_of(out / "process.csv")
    assert meta["baseline_ops"].startswith("cupyx.scipy.ndimage fallback (cucim not importable")
    assert rows and all(r["error"].startswith("skipped: time budget") for r in rows)
    assert "skipped: time budget" in log


def test_driver_dry_run_prints_the_plan(tmp_path):
    result = subprocess.run([sys.executable, str(BENCH / "gpu_process_bench.py"), "--dry-run", "--work",
                             str(tmp_path / "w"), "--out-dir", str(tmp_path / "o"), "--deadline",
                             str(time.time() + 300)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = result.stdout
    assert "55 steps" in log and "<- past the budget" in log and "plan: " in log and "priority 4:" in log
    assert ("would run: build/gpu/tilestream process $WORK/seed.tif $WORK/process.zarr --op sobel --mode global "
            "--chunk 2048 --device cuda --io posix --threads 16 --zarr-version 3 --codec none --overwrite --json") in log
    rows, meta = rows_of(tmp_path / "o" / "process.csv")
    assert meta["dry_run"].startswith("yes") and all(r["error"] == "dry run: not measured" for r in rows)
    # 49 tilestream steps of 2 modes (the acceptance configuration also with fsync), 6 baselines of 4 chunk shapes
    assert len([r for r in rows if r["use_case"] == "process"]) == 49 * 2 + 6 * 4
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["process.csv"]


# --- the report ---

def fabricated_rows(tiled_s=0.45, tiled_peak=900.0):
    """Sobel c2048 global and tiled posix with their bounds (read-only 0.05 s, write-only 0.4 s),
    the sobel baseline, grayscale (its write-only scaled to one channel), and a row skipped."""
    common = {"use_case": "process", "tool": "tilestream", "level": 0, "threads": 16, "io": "posix", "cache": "warm",
              "fsync": 0, "chunk": 2048, "bound_rows": "read-only posix; write-only float32 c2048 level 0"}

    def run(seconds):
        return {"runs_seconds": f"{seconds};{seconds * 1.1};{seconds * 0.9}", "median_seconds": seconds}

    return [
        {"use_case": "bound", "tool": "tilestream", "variant": "read-only posix", "io": "posix", "dtype": "uint8",
         "level": 0, "bytes": 1.6e9, **run(0.05), "command": "build/gpu/tilestream read $WORK/seed.tif --io posix"},
        {"use_case": "bound", "tool": "tilestream", "variant": "write-only float32 c2048 level 0", "io": "posix",
         "dtype": "float32", "chunk": 2048, "level": 0, "bytes": 6e9, **run(0.4)},
        {**common, "variant": "sobel global c2048 posix", "op": "sobel", "mode": "global", "dtype": "float32",
         "bytes": 6e9, **run(0.6), "peak_device_mb": 10000, "peak_rss_mb": 900,
         "command": "build/gpu/tilestream process $WORK/seed.tif --op sobel --mode global --chunk 2048 --io posix"},
        {**common, "variant": "sobel tiled c2048 posix", "op": "sobel", "mode": "tiled", "dtype": "float32",
         "bytes": 6e9, **run(tiled_s), "peak_device_mb": tiled_peak, "peak_rss_mb": 1200,
         "command": "build/gpu/tilestream process $WORK/seed.tif --op sobel --mode tiled --chunk 2048 --io posix"},
        {**common, "variant": "grayscale tiled c2048 posix", "op": "grayscale", "mode": "tiled", "dtype": "float32",
         "bytes": 2e9, **run(0.2), "peak_device_mb": 500},
        {"use_case": "process", "tool": "baseline", "variant": "sobel global c2048", "op": "sobel", "mode": "global",
         "chunk": 2048, "io": "posix", "dtype": "float32", "bytes": 6e9, **run(12.0)},
        {**common, "variant": "sobel tiled c2048 gds", "op": "sobel", "mode": "tiled", "io": "gds",
         "error": "skipped: time budget (3 s left)"},
    ]


def test_report_acceptance_checks_on_a_fabricated_csv(tmp_path):
    path = write_csv(tmp_path / "a.csv", fabricated_rows(), meta=[("date", "2026-12-01"), ("device", "NVIDIA H100")])
    md_path = process_report.report([path], tmp_path / "out")
    assert md_path.name == "process_2026-12-01.md"
    md = md_path.read_text()
    assert "- device: NVIDIA H100" in md
    assert "| tiled peak device memory <= 10% of global's | tiled 900 MB / global 10,000 MB = 9.0% | **PASS** |" in md
    assert "| tiled time <= global time | tiled 0.450 s vs global 0.600 s (tiled / global = 0.75) | **PASS** |" in md
    # 1.2 x max(0.05, 0.4) = 0.48 >= 0.45
    assert ("| tiled time <= 1.2 x max(read-only, write-only) of the same command | tiled 0.450 s vs 1.2 x "
            "max(read-only 0.050 s, write-only 0.400 s) = 0.480 s (1.12x the bound) | **PASS** |") in md
    assert "| tiled 0.450 s vs read-only + write-only = 0.450 s (1.00x the sum) |  |" in md
    # the table: x baseline 12 / 0.45; grayscale's write-only scaled by 2e9 / 6e9
    assert ("| sobel | 2048 | tiled | tilestream | posix | 0.450 | 26.67x | 1.12x of 0.400 s (write) | 900 | 1,200 |"
            in md)
    assert "| grayscale | 2048 | tiled | tilestream | posix | 0.200 |  | 1.50x of 0.133 s (write, write-only x0.33" in md
    assert "skipped: time budget (3 s left)" in md
    assert "build/gpu/tilestream process $WORK/seed.tif --op sobel --mode {global,tiled} --chunk 2048 --io posix" in md
    assert (tmp_path / "out" / "process_time.png").stat().st_size > 10000


def test_report_fails_what_the_numbers_fail(tmp_path):
    path = write_csv(tmp_path / "a.csv", fabricated_rows(tiled_s=0.7, tiled_peak=1500.0), meta=[("date", "2026-12-01")])
    md = process_report.report([path], tmp_path / "out").read_text()
    assert "= 15.0% | **FAIL** |" in md
    assert "(tiled / global = 1.17) | **FAIL** |" in md
    assert "= 0.480 s (1.75x the bound) | **FAIL** |" in md


def test_report_merges_commands_and_says_what_is_missing(tmp_path):
    rows = fabricated_rows()
    first = write_csv(tmp_path / "1.csv", [rows[2], {**rows[3], "median_seconds": "", "runs_seconds": "",
                                                     "error": "skipped: time budget (2 s left)"}],
                      meta=[("date", "2026-12-01")])
    second = write_csv(tmp_path / "2.csv", [rows[0], rows[3]], meta=[("date", "2026-12-01")])
    md = process_report.report([first, second], tmp_path / "out").read_text()
    # tiled from command 2 (measured there), global from command 1; the bound of command 2 has no write-only row
    assert "| tiled time <= global time | tiled 0.450 s vs global 0.600 s" in md
    assert "| tiled time <= 1.2 x max(read-only, write-only) of the same command | tiled time or a bound of its " \
           "command not measured | **NOT MEASURED** |" in md
    assert "skipped: time budget (2 s left)" not in md
    assert "- commands merged: 1: 1.csv, 2: 2.csv" in md


def test_report_of_the_driver_csv(full_run, tmp_path):
    out, _ = full_run
    md_path = process_report.report([out / "process.csv"], tmp_path, dated_charts=True)
    md = md_path.read_text()
    date = md_path.stem.split("_")[1]
    assert (tmp_path / f"process_time_{date}.png").exists() and f"![use case 3](process_time_{date}.png)" in md
    assert "windows equal to" in md and str(out) not in md
    assert "| median | 256 | global | baseline | posix |" in md and "| tiled time <= global time |" in md


# --- the entry script ---

def test_entry_script_syntax_and_arguments(tmp_path):
    script = ROOT / "bench" / "device" / "process_bench.sh"
    subprocess.run(["bash", "-n", script], check=True)
    subprocess.run(["bash", "-n", ROOT / "bench" / "device" / "bench_common.sh"], check=True)
    for bad, message in ((["--phase", "write"], "--phase must be"), (["--runs", "x"], "--runs must be"),
                         (["--ops"], "needs a value"), (["--resume-from", str(tmp_path / "no.csv")], "no such CSV"),
                         (["--frobnicate"], "unknown argument")):
        result = subprocess.run([script, *bad], capture_output=True, text=True, env=dict(os.environ, OUT=str(tmp_path)))
        assert result.returncode == 2 and message in result.stderr, (bad, result.stderr)


def test_entry_script_dry_run(tmp_path):
    script = ROOT / "bench" / "device" / "process_bench.sh"
    env = dict(os.environ, OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"), PYTHON=sys.executable)
    result = subprocess.run([script, "--dry-run", "--phase", "all"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names[:1] == ["process.csv"] and names[2:] == ["process_bench.log", "process_time.png"], names
    assert names[1].startswith("process_2") and "DRY RUN" in (tmp_path / "out" / names[1]).read_text()
    log = (tmp_path / "out" / "process_bench.log").read_text()
    assert "would run:" in log and "plan: " in log and "budget 500 s" in log


def test_entry_script_full_path_on_fakes(fakes, tmp_path):
    """Everything but the build: the slide, the carried wheels (when .whl/ has some), the libcufile
    choice, the driver and both reports, with the fake tilestream and the CPU stand-ins of cupy and
    cucim; the acceptance phase, then a second command resumed from the first one's CSV."""
    script = ROOT / "bench" / "device" / "process_bench.sh"
    env = dict(fake_env(), OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"), PYTHON=sys.executable,
               PROCESS_BENCH_BIN=str(fakes["bin"]), PROCESS_BENCH_RESULTS=str(tmp_path / "results"),
               PROCESS_BENCH_SITE=str(tmp_path / "site"))
    result = subprocess.run([script, "--phase", "acceptance", "--runs", "1"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 4 and "process.csv" in names and "process_time.png" in names, names
    log = (tmp_path / "out" / "process_bench.log").read_text()
    assert "== slide written" in log and "== libcufile:" in log and "no build" in log
    md = next((tmp_path / "out").glob("process_2*.md")).read_text()
    assert md.count("**PASS**") + md.count("**FAIL**") == 6  # page cache and durable (fsync)
    assert "durable output (`--fsync`" in md
    first = tmp_path / "first.csv"
    first.write_bytes((tmp_path / "out" / "process.csv").read_bytes())
    results = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len([n for n in results if n.endswith(".csv")]) == 1 and any(n.startswith("process_time_") for n in results)

    env["OUT"] = str(tmp_path / "out2")
    result = subprocess.run([script, "--phase", "acceptance", "--runs", "1", "--resume-from", str(first)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rows, _ = rows_of(tmp_path / "out2" / "process.csv")
    assert [r for r in rows if r["use_case"] == "process"] == []  # everything measured in the first command
    md = next((tmp_path / "out2").glob("process_2*.md")).read_text()
    assert "commands merged: 1: process.csv, 2: first.csv" in md and md.count("**PASS**") + md.count("**FAIL**") == 6
