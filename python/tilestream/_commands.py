"""tilestream.convert and tilestream.process: the command line's `convert` and `process` run in this
process, their options as keyword arguments (the flag's name without the leading -- and with _ for
-), their run report returned as a dict.

    report = tilestream.convert("slide.svs", "slide.zarr", ome=True, chunk=256, codec="zstd:5",
                                progress=True)
    tilestream.process("slide.svs", "edges.zarr", ["grayscale", "sobel"], device="cuda", memory="2G")

Ctrl-C (KeyboardInterrupt), or an exception raised by a progress callable, stops the run cleanly: the
blocks being written are committed, nothing half-written stays, and running the same call again with
resume=True finishes the store. The exception is then re-raised.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from ._tilestream import UsageError, _run_command

Progress = Callable[[dict], Any]


def _flags(options: dict[str, Any]) -> list[str]:
    """Keyword arguments as command-line flags: True is the bare flag, False and None leave it out, a
    list of levels is comma-separated, other sequences repeat the flag."""
    args: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif name == "levels" and isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(int(v)) for v in value)]
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [flag, str(item)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return args


def _progress_handler(progress: bool | Progress, what: str) -> tuple[Progress | None, Callable[[], None]]:
    """The callable the run reports to, and what closes it afterwards."""
    if progress is False or progress is None:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    if progress is not True:
        raise UsageError(f"progress must be True, False or a callable, not {progress!r}")
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise UsageError("progress=True shows a tqdm bar: pip install tqdm (or pass a callable)") from None
    bar = tqdm(total=0, unit="block", desc=what)

    def update(p: dict) -> None:
        if bar.total != p["total"]:
            bar.total = p["total"]
        bar.n = p["done"]
        bar.set_postfix(MB=round(p["bytes_written"] / 1e6, 1), refresh=False)
        bar.refresh()

    return update, bar.close


def _run(command: str, positional: list[str], progress: bool | Progress, options: dict[str, Any]) -> dict:
    if "json" in options or "help" in options:
        raise UsageError(f"{command}(): the report is the return value; json= and help= are the command line's")
    on_progress, finish = _progress_handler(progress, command)
    try:
        return _run_command([command, *positional, *_flags(options)], on_progress)
    finally:
        finish()


def convert(input: str | os.PathLike, output: str | os.PathLike, *, progress: bool | Progress = False,
            **options: Any) -> dict:
    """Converts a slide to Zarr v2/v3 (optionally sharded) or OME-Zarr, as `tilestream convert` does.

    options: the command's options as keywords, e.g. zarr_version=2, chunk=256, shard=1024,
        codec="zstd:5", layout="cyx", ome=True, levels=[0, 2], threads=8, overwrite=True, resume=True,
        fsync=True, separator=".", dtype="float32", device="cuda", io="gds", mode="global",
        memory="2G", stored_samples=True (`tilestream convert --help` lists them).
    progress: True for a tqdm bar, or a callable receiving dict(done, total, skipped, bytes_written)
        (blocks; skipped counts those a resumed run kept), called on this thread.

    Returns the run report (what `--json` prints): arrays, blocks, bytes written, seconds per stage,
    io mode, peak device memory... The GIL is released while it runs. Raises tilestream errors naming
    the file and the place; UsageError for an unknown option.
    """
    return _run("convert", [os.fspath(input), os.fspath(output)], progress, options)


def process(input: str | os.PathLike, output: str | os.PathLike, ops: str | Sequence[str], *,
            progress: bool | Progress = False, **options: Any) -> dict:
    """Runs image operations on a slide level and writes the result as Zarr, as `tilestream process`
    does; tiled (the default) equals global bit for bit.

    ops: one op or a sequence of them, each as `--op` takes it ("grayscale", "gaussian:sigma=2.5",
        "median:size=5", "sobel", ...), applied in order.
    options: the command's options as keywords, e.g. level=1, mode="global", chunk=256, memory="512M",
        device="cuda", ome=True, zarr_version=2, codec="none", overwrite=True, resume=True.
    progress: as for convert (chunks instead of blocks; a resumed run counts only what it computes).

    Returns the run report as a dict (what `--json` prints).
    """
    op_list = [ops] if isinstance(ops, str) else list(ops)
    if not op_list:
        raise UsageError("process(): ops must name at least one op")
    return _run("process", [os.fspath(input), os.fspath(output)], progress, {**options, "op": op_list})
