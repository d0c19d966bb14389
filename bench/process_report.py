#!/usr/bin/env python3
"""Report of use case 3 (bench/gpu_process_bench.py, issue 5): reads its CSV files and writes
process_<date>.md (the acceptance checks with PASS or FAIL computed from the numbers, a table of
every op, chunk shape, mode, tool and io with medians, the ratio to the baseline and to the I/O bound
of the same command, peak device memory and RSS, then the bounds, errors, details and the exact
commands) and the chart process_time.png (median seconds per op, chunk shape, mode and tool) into
--out-dir. The CSV files of several commands (a second one run with --resume) are merged: per
configuration the complete row wins over a partial or skipped one, and each row is held against the
read-only and write-only rows of its own command.

    python3 bench/process_report.py OUT/process.csv [EARLIER.csv ...] --out-dir OUT
    (bench/device/process_bench.sh runs it after the driver; --dated-charts names the chart
    process_time_<date>.png, as bench/results/ keeps it)
"""
import argparse
import datetime
import sys
from pathlib import Path

from io_report import cell, commands, f2, f3, load, number, runs_text

OP_ORDER = ("sobel", "median", "gaussian", "absorbance", "grayscale", "downsample2x")
MODE_ORDER = {"global": 0, "tiled": 1}
IO_ORDER = {"posix": 0, "gds": 1}
VARYING_FLAGS = ("--op", "--mode", "--chunk", "--io", "--dtype", "--levels", "--repeat")
META_ORDER = ("date", "started_utc", "device", "driver", "commit", "host", "work_filesystem", "disk", "slide",
              "cufile", "versions", "baseline_ops", "memory_setting", "band_setting", "page_cache", "runs", "phase", "resumed_from",
              "driver_command", "dry_run")
ACCEPTANCE = ("sobel", 2048)
PEAK_SHARE = 0.10   # tiled peak device memory at most this share of global's
BOUND_FACTOR = 1.2  # the tiled run at most this times max(read-only, write-only)
SERIES = (("baseline", "global", "posix", "baseline (tifffile+cucim+zarr-python)", "#8C8C8C"),
          ("tilestream", "global", "posix", "tilestream global posix", "#4C72B0"),
          ("tilestream", "tiled", "posix", "tilestream tiled posix", "#55A868"),
          ("tilestream", "global", "gds", "tilestream global gds", "#8172B2"),
          ("tilestream", "tiled", "gds", "tilestream tiled gds", "#C44E52"))


def load_rows(paths):
    """(meta, rows) as io_report.load gives them, plus peak_device_mb, peak_rss_mb and level as
    numbers, `runs` (how many runs the row has) and `order` (its place among all rows read)."""
    meta, rows = load(paths)
    for order, row in enumerate(rows):
        for key in ("peak_device_mb", "peak_rss_mb"):
            row[key] = number(row.get(key))
        level = number(row.get("level"))
        row["level"] = int(level) if level is not None else None
        row["runs"] = len([s for s in (row.get("runs_seconds") or "").split(";") if s])
        row["order"] = order
    return meta, rows


def durable(row):
    """Whether the row's output was fsynced (its fsync column)."""
    return str(row.get("fsync") or "0").strip() in ("1", "True", "true")


def io_label(row):
    return row["io"] + (" fsync" if durable(row) else "")


def process_key(row):
    return (row["tool"], row["op"], row["mode"], row["chunk"], row["io"], durable(row))


def best_process_rows(rows):
    """One row per configuration (tool, op, mode, chunk, io, fsync): the one without error and with the
    most runs, the earliest on ties; a row of errors only where no command measured it."""
    best = {}
    for row in rows:
        if row["use_case"] != "process":
            continue
        key = process_key(row)
        rank = (bool(row["error"]), row["median_seconds"] is None, -row["runs"], row["order"])
        if key not in best or rank < best[key][0]:
            best[key] = (rank, row)
    return [row for _, row in best.values()]


def bounds_of(row, rows):
    """(read-only row, write-only row) that the driver named for `row` (its bound_rows), from the
    same CSV file (the same command), measured; None for each that is missing."""
    names = [n.strip() for n in (row.get("bound_rows") or "").split(";") if n.strip()]
    found = {}
    for other in rows:
        if (other["use_case"] == "bound" and other["source"] == row["source"] and other["variant"] in names
                and other["median_seconds"]):
            found[other["variant"]] = other
    read = next((found[n] for n in names if n.startswith("read-only") and n in found), None)
    write = next((found[n] for n in names if n.startswith("write-only") and n in found), None)
    return read, write


def io_bound(row, rows):
    """The I/O bound of a tilestream row: max(read-only, write-only) seconds of its command, the
    write-only time scaled by output bytes where the op writes other bytes than the convert that
    stands for it (grayscale: one channel). None when either is missing. Returns a dict: read,
    write (scaled), scale, bound, which ('read' or 'write'), ratio (row median / bound)."""
    read, write = bounds_of(row, rows)
    if read is None or write is None:
        return None
    scale = row["bytes"] / write["bytes"] if row["bytes"] and write["bytes"] else 1.0
    if abs(scale - 1) < 0.01:
        scale = 1.0
    write_s = write["median_seconds"] * scale
    bound = max(read["median_seconds"], write_s)
    ratio = row["median_seconds"] / bound if row["median_seconds"] and bound else None
    return {"read": read["median_seconds"], "write": write_s, "scale": scale, "bound": bound,
            "which": "write" if write_s >= read["median_seconds"] else "read", "ratio": ratio}


def baseline_for(row, chosen):
    for other in chosen:
        if (other["tool"] == "baseline" and other["op"] == row["op"] and other["chunk"] == row["chunk"]
                and other["median_seconds"] and not other["error"]):
            return other
    return None


def bound_text(bound):
    if bound is None:
        return ""
    scaled = f", write-only x{bound['scale']:.2f} for the output bytes" if bound["scale"] != 1.0 else ""
    return f"{bound['ratio']:.2f}x of {bound['bound']:.3f} s ({bound['which']}{scaled})"


def acceptance(chosen, rows, io, fsync=False):
    """The three checks of the issue on the sobel, chunk 2048 rows read with `io` (with durable
    output where `fsync`): a list of (check, numbers, verdict), verdict PASS, FAIL or NOT MEASURED."""
    op, chunk = ACCEPTANCE

    def pick(mode):
        return next((r for r in chosen if r["tool"] == "tilestream" and r["op"] == op and r["chunk"] == chunk
                     and r["mode"] == mode and r["io"] == io and durable(r) == fsync and r["median_seconds"]), None)

    g, t = pick("global"), pick("tiled")
    checks = []
    name = f"tiled peak device memory <= {PEAK_SHARE:.0%} of global's"
    if g and t and g["peak_device_mb"] and t["peak_device_mb"] is not None:
        share = t["peak_device_mb"] / g["peak_device_mb"]
        checks.append((name, f"tiled {mb(t['peak_device_mb'])} MB / global {mb(g['peak_device_mb'])} MB = {share:.1%}",
                       "PASS" if share <= PEAK_SHARE else "FAIL"))
    else:
        checks.append((name, "global or tiled peak not measured", "NOT MEASURED"))
    name = "tiled time <= global time"
    if g and t:
        checks.append((name, f"tiled {t['median_seconds']:.3f} s vs global {g['median_seconds']:.3f} s "
                             f"(tiled / global = {t['median_seconds'] / g['median_seconds']:.2f})",
                       "PASS" if t["median_seconds"] <= g["median_seconds"] else "FAIL"))
    else:
        checks.append((name, "global or tiled time not measured", "NOT MEASURED"))
    name = f"tiled time <= {BOUND_FACTOR} x max(read-only, write-only) of the same command"
    bound = io_bound(t, rows) if t else None
    if bound:
        limit = BOUND_FACTOR * bound["bound"]
        checks.append((name, f"tiled {t['median_seconds']:.3f} s vs {BOUND_FACTOR} x max(read-only {bound['read']:.3f} s,"
                             f" write-only {bound['write']:.3f} s) = {limit:.3f} s ({bound['ratio']:.2f}x the bound)",
                       "PASS" if t["median_seconds"] <= limit else "FAIL"))
        if not fsync:
            both = bound["read"] + bound["write"]
            checks.append(("note: in the page cache reads and writes are memory copies on the same cores, so a run "
                           "that does both costs about their sum",
                           f"tiled {t['median_seconds']:.3f} s vs read-only + write-only = {both:.3f} s "
                           f"({t['median_seconds'] / both:.2f}x the sum)", ""))
    else:
        checks.append((name, "tiled time or a bound of its command not measured", "NOT MEASURED"))
    for row in (g, t):
        if row is not None and row["error"]:
            checks.append((f"note: {row['mode']} row", f"{row['runs']} runs only: {row['error']}", ""))
    return checks


def sort_key(row):
    return (OP_ORDER.index(row["op"]) if row["op"] in OP_ORDER else 99, row["chunk"] or 0,
            row["tool"] != "baseline", IO_ORDER.get(row["io"], 9), MODE_ORDER.get(row["mode"], 9))


def mb(value):
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def process_table(chosen, rows):
    lines = ["| op | chunk | mode | tool | io | median s | x baseline | vs I/O bound | peak device MB | peak RSS MB | "
             "runs s | check |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in sorted(chosen, key=sort_key):
        if not row["median_seconds"]:
            continue
        base = baseline_for(row, chosen)
        ratio = base["median_seconds"] / row["median_seconds"] if base and row["tool"] != "baseline" else None
        if row["tool"] == "baseline" and not row["error"]:
            ratio = 1.0
        bound = io_bound(row, rows) if row["tool"] == "tilestream" else None
        check = row["checksum_or_check"] + (f" (PARTIAL: {row['error']})" if row["error"] else "")
        lines.append(f"| {row['op']} | {row['chunk']} | {row['mode']} | {row['tool']} | {io_label(row)} | "
                     f"{f3(row['median_seconds'])} | {f2(ratio, 'x')} | {bound_text(bound)} | "
                     f"{mb(row['peak_device_mb'])} | {mb(row['peak_rss_mb'])} | {runs_text(row)} | {cell(check)} |")
    return lines


def bound_table(rows, sources):
    lines = ["| command | bound | io | dtype | chunk | level | median s | GB/s | runs s | detail |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        if row["use_case"] == "bound" and row["median_seconds"]:
            lines.append(f"| {sources[row['source']]} | {row['variant']} | {io_label(row)} | {row['dtype']} | "
                         f"{row['chunk'] or ''} | {row['level']} | {f3(row['median_seconds'])} | {f2(row['gb_per_s'])} | "
                         f"{runs_text(row)} | {cell(row['detail'])} |")
    return lines


def time_chart(chosen, rows, path):
    """One panel per op: median seconds per chunk shape, a bar per tool, mode and io (log scale),
    and the I/O bound of the posix rows (max of read-only and write-only) as a black dash."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [r for r in chosen if not durable(r)]  # the chart is the page-cache round trip
    ops = [op for op in OP_ORDER if any(r["op"] == op for r in chosen)] or ["sobel"]
    chunks = sorted({r["chunk"] for r in chosen if r["chunk"]}) or [ACCEPTANCE[1]]
    columns = min(3, len(ops))
    lines = -(-len(ops) // columns)
    fig, axes = plt.subplots(lines, columns, figsize=(5.2 * columns, 4.3 * lines), squeeze=False)
    width = 0.8 / len(SERIES)
    legend = {}
    for n, op in enumerate(ops):
        ax = axes[n // columns][n % columns]
        values = []
        for s, (tool, mode, io, label, color) in enumerate(SERIES):
            xs, ys = [], []
            for i, chunk in enumerate(chunks):
                match = [r for r in chosen if (r["tool"], r["op"], r["mode"], r["io"], r["chunk"]) ==
                         (tool, op, mode, io, chunk)]
                if not match:
                    continue
                x = i - 0.4 + width * (s + 0.5)
                if not match[0]["median_seconds"]:
                    ax.text(x, 0.02, "error" if not match[0]["error"].startswith("skipped") else "skipped",
                            rotation=90, ha="center", va="bottom", fontsize=6, color="red",
                            transform=ax.get_xaxis_transform())
                    continue
                xs.append(x)
                ys.append(match[0]["median_seconds"])
            if xs:
                bars = ax.bar(xs, ys, width, label=label, color=color)
                ax.bar_label(bars, labels=[f"{y:.3g}" for y in ys], fontsize=6, rotation=90, padding=2)
                values += ys
        bx, by = [], []
        for i, chunk in enumerate(chunks):
            row = next((r for r in chosen if (r["tool"], r["op"], r["io"], r["chunk"]) ==
                        ("tilestream", op, "posix", chunk) and r["median_seconds"]), None)
            bound = io_bound(row, rows) if row else None
            if bound:
                bx.append(i)
                by.append(bound["bound"])
        if bx:
            ax.scatter(bx, by, marker="_", s=900, color="black", linewidths=1.5, zorder=5,
                       label="I/O bound of the posix rows: max(read-only, write-only)")
            values += by
        ax.set_yscale("log")
        if values:  # a common floor, so bar heights compare, and room above for the labels
            ax.set_ylim(min(values) / 2.5, max(values) * 4)
        ax.set_xticks(range(len(chunks)))
        ax.set_xlim(-0.5, len(chunks) - 0.5)
        ax.set_xticklabels([f"chunk {c}" for c in chunks], fontsize=8)
        ax.set_title(op, fontsize=10)
        ax.set_ylabel("median s (log)")
        ax.grid(axis="y", alpha=0.3, which="both")
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    for n in range(len(ops), lines * columns):
        axes[n // columns][n % columns].axis("off")
    fig.suptitle("Use case 3: level 0 of the seed slide -> op -> uncompressed Zarr v3 (page cache warm, no fsync)")
    if legend:
        fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(paths, out_dir, dated_charts=False):
    meta, rows = load_rows(paths)
    date = meta.get("date", "").split(" / ")[-1] or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = {str(path): f"{n}" for n, path in enumerate(paths, 1)}  # as load() names each row's file
    chosen = best_process_rows(rows)
    chart = out_dir / (f"process_time_{date}.png" if dated_charts else "process_time.png")
    try:
        time_chart(chosen, rows, chart)
        chart_line = f"![use case 3]({chart.name})"
    except Exception as exc:  # a missing matplotlib must not lose the tables
        chart_line = f"(chart not drawn: {type(exc).__name__}: {exc})"
        print(f"process_report: chart not drawn: {exc}", file=sys.stderr)

    md = [f"# Use case 3 (issue 5): the round trip per op, tilestream vs the Python pipeline ({date})", ""]
    if meta.get("dry_run"):
        md += ["**DRY RUN: nothing was measured; these tables only show the plan.**", ""]
    for key in META_ORDER:
        if key in meta:
            md.append(f"- {key.replace('_', ' ')}: {cell(meta[key])}")
    md += [f"- commands merged: {', '.join(f'{n}: {Path(s).name}' for s, n in sources.items())}" if sources else
           "- no rows",
           "- every figure is the median of the runs listed (page cache warm: the slide is read once first; no fsync "
           "but in the rows marked fsync: outputs end in the page cache and are removed, with `sync`, after each run, "
           "untimed); tilestream: "
           "`process ... --json` total_seconds (slide opened to every chunk stored; process start and CUDA context "
           "outside), one process per run, global and tiled alternating; baseline: tifffile read + cupy.asarray + "
           "the cucim op + cupy.asnumpy + zarr-python create_array and write, in one Python process after cupy and "
           "cucim are initialised and the op's kernels compiled; global only (the tiled-with-seams variant was not "
           "measured)",
           "- x baseline = baseline median s / row median s (same op and chunk); vs I/O bound = row median s / "
           "max(read-only, write-only) of the same command: read-only = `tilestream read --device cuda --io IO` of "
           "level 0, write-only = `tilestream convert --device cuda --io posix --codec none` write_seconds for the "
           "op's output dtype and chunk (downsample2x: level 1, exactly half of level 0; grayscale: the float32 RGB "
           "write scaled to one channel's bytes). `process --io` changes only how tiles are read; chunks are stored "
           "by the pipeline's sink with pwrite in every io mode",
           "- peak device MB: tilestream's stream-ordered pool high-water mark (the most over the runs); peak RSS MB: "
           "the process's", ""]

    md += [f"## Acceptance: seed-shaped slide, {ACCEPTANCE[0]}, chunk {ACCEPTANCE[1]}", ""]
    titles = {("posix", False): "Reads with `--io posix`, output into the page cache (no fsync):",
              ("posix", True): "Reads with `--io posix`, durable output (`--fsync`: every chunk file fsynced before its "
                               "rename; write-only = `convert --fsync` write + fsync seconds):",
              ("gds", False): "Reads with `--io gds`, output into the page cache (also measured):"}
    for (io, fsync), title in titles.items():
        checks = acceptance(chosen, rows, io, fsync)
        if (io, fsync) != ("posix", False) and all(v == "NOT MEASURED" for _, _, v in checks):
            continue
        md += [title, "",
               "| check | numbers | verdict |", "| --- | --- | --- |"]
        md += [f"| {cell(name)} | {cell(numbers)} | **{verdict}** |" if verdict else
               f"| {cell(name)} | {cell(numbers)} |  |" for name, numbers, verdict in checks]
        md.append("")

    md += ["## The round trip per op, chunk shape, mode and tool", ""]
    if any(r["median_seconds"] for r in chosen):
        md += process_table(chosen, rows)
    else:
        md.append("No configuration measured in these files.")
    md += ["", chart_line, ""]
    md += ["## I/O bounds (read-only and write-only, per command)", ""]
    if any(r["use_case"] == "bound" and r["median_seconds"] for r in rows):
        md += bound_table(rows, sources)
    else:
        md.append("None measured in these files.")
    md.append("")

    failed = [r for r in chosen if r["error"]] + [r for r in rows if r["use_case"] == "bound" and r["error"]]
    if failed:
        md += ["## Errors, partial and skipped variants", "",
               "| command | use case | tool | variant | runs | error |", "| --- | --- | --- | --- | --- | --- |"]
        md += [f"| {sources[r['source']]} | {r['use_case']} | {r['tool']} | {cell(r['variant'])} | {r['runs']} | "
               f"{cell(r['error'])} |" for r in failed]
        md.append("")
    details = [r for r in chosen if r["detail"]]
    if details:
        md += ["## Details per variant", ""]
        md += [f"- {r['tool']} {cell(r['variant'])} (command {sources[r['source']]}): {cell(r['detail'])}"
               for r in sorted(details, key=sort_key)]
        md.append("")
    md += ["## Commands", "", "Entry script on the GPU machine: `bench/device/process_bench.sh` (the driver commands "
           "it ran are listed above); the baseline is `baseline_step` in bench/gpu_process_bench.py. $WORK is the "
           "scratch folder on the local disk.", "", "```"]
    md += commands(rows, VARYING_FLAGS)
    md += ["```", ""]
    md_path = out_dir / f"process_{date}.md"
    md_path.write_text("\n".join(md))
    print(f"wrote {md_path}" + (f", {chart}" if chart_line.startswith("![") else ""))
    return md_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", nargs="+", help="CSV files written by bench/gpu_process_bench.py")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--dated-charts", action="store_true", help="name the chart process_time_<date>.png")
    args = parser.parse_args(argv)
    missing = [p for p in args.csv if not Path(p).is_file()]
    if missing:
        parser.error(f"no such CSV: {', '.join(missing)}")
    report(args.csv, args.out_dir, args.dated_charts)


if __name__ == "__main__":
    main()
