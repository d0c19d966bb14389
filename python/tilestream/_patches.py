"""tilestream.PatchLoader: batches of patches from one slide or a cohort, read ahead on C++ worker
threads, for training and inference loops.

    loader = tilestream.PatchLoader(["a.svs", "b.svs"], 256, level=0, batch_size=256, shuffle=True,
                                    seed=7, device="cuda")
    for batch in loader:                         # one epoch; iterate again for the next
        x = torch.from_dlpack(batch.images)      # (256, 256, 256, 3) uint8 on the GPU, no copy
        ...                                      # batch.slide_indices, batch.locations say where from

The patches are a grid over the level (kept where a mask is set) or the locations given. Reading,
decoding and the copy to the GPU happen on worker threads with the GIL released; at most `prefetch`
batches are in flight besides the one the loop holds. The grid, the epoch's order and the batches
come from the C++ engine (slide/patch_plan, slide/patch_stream); this module only shapes arguments.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ._tilestream import Slide, UsageError, _epoch_order, _patch_grid, _PatchStream
from ._tilestream import open as _open


class PatchBatch(NamedTuple):
    """One batch: `images` (n, height, width, samples), a NumPy array or with device="cuda" a
    tilestream.DeviceArray (torch.from_dlpack / cupy.from_dlpack without a copy); `slide_indices` (n,)
    int64, each patch's slide in the loader's list; `locations` (n, 2) int64, each patch's (x, y) in
    that slide's level-0 pixels (as read_region takes them)."""
    images: Any
    slide_indices: np.ndarray
    locations: np.ndarray


def _pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    try:
        first, second = value
        return int(first), int(second)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be an int or a (width, height) pair, not {value!r}") from None


def _as_list(value: Any) -> list:
    """One item or a sequence of items (a str or PathLike path, or a Slide, is one item)."""
    if isinstance(value, (str, os.PathLike, Slide)):
        return [value]
    return list(value)


class PatchLoader:
    """Batches of patches of one size from one slide or several, read ahead on C++ worker threads.

    slides: a path or tilestream.Slide, or a sequence of them (paths are opened here and closed by
        close(); Slides passed in stay the caller's). Every slide's `level` must have the same samples
        and sample type.
    size: the patch size in the level's pixels, an int or (width, height).
    level: the pyramid level read.
    locations: the patches' top-left corners in level-0 pixels (OpenSlide's addressing): for one slide
        an (n, 2) array or sequence of (x, y); for several, an (n, 3) array of (slide index, x, y) or a
        sequence with one (n_i, 2) array per slide. None: a grid over the level.
    stride: the grid's step in the level's pixels (int or (x, y); default: the size, patches side by
        side).
    mask: keeps a grid patch where the mask is nonzero at the patch's centre. A 2-D array covering the
        whole slide at any resolution (a tissue mask of the thumbnail, say); for several slides a
        sequence with one mask (or None) per slide.
    cover_edges: the grid also takes the patches that stick out of the level's right and bottom edges
        (zeros there), so that it covers the whole level; by default only whole patches.
    batch_size, drop_last: batches of batch_size patches; drop_last leaves out a smaller last batch.
    shuffle, seed: visit the patches in an order drawn from (seed, epoch), the same on every platform;
        each pass over the loader is a new epoch (set_epoch() sets the next one, as PyTorch's
        DistributedSampler does).
    device: None or "cpu" for NumPy batches; "cuda" or "cuda:N" for DeviceArrays in that GPU's memory,
        read there by the worker threads (each tile a batch touches read and decoded once).
    decode: with a CUDA device, where JPEG tiles are decoded: "auto" (nvJPEG on the GPU where it loads
        and the tiles allow, with a fixed share of the level's tiles decoded by CPU threads beside it;
        else the CPU), "cpu" or "gpu" (nvJPEG alone; an error naming what is missing where it cannot
        run); None: TILESTREAM_DECODE, else auto.
    prefetch: batches read ahead, each on its own worker thread (the memory of prefetch + 1 batches).
    threads: decoding threads in all (0: TILESTREAM_THREADS, else every core), shared out among the
        batches read at once (threads // prefetch each, at least 1: below prefetch threads, prefetch
        threads decode).

    Use it directly (`for batch in loader`) or as the source of a PyTorch IterableDataset; with
    PyTorch's DataLoader use batch_size=None and num_workers=0, since this loader batches and
    prefetches itself.
    """

    def __init__(self, slides: Any, size: int | Sequence[int], level: int = 0, *, locations: Any = None,
                 stride: int | Sequence[int] | None = None, mask: Any = None, cover_edges: bool = False,
                 batch_size: int = 64, shuffle: bool = False, seed: int = 0, device: str | None = None,
                 prefetch: int = 2, threads: int = 0, drop_last: bool = False, decode: str | None = None) -> None:
        self._owned: list[Slide] = []
        self._slides: list[Slide] = []
        try:
            for item in _as_list(slides):
                if isinstance(item, Slide):
                    self._slides.append(item)
                else:
                    slide = _open(item)
                    self._owned.append(slide)
                    self._slides.append(slide)
            if not self._slides:
                raise UsageError("PatchLoader needs at least one slide")
            self.size = _pair(size, "size")
            self.level = int(level)
            if batch_size <= 0:
                raise UsageError(f"batch_size must be positive, not {batch_size}")
            self.batch_size = int(batch_size)
            self.drop_last = bool(drop_last)
            self.shuffle = bool(shuffle)
            self.seed = int(seed)
            self.device = device
            if decode is not None and decode not in ("auto", "cpu", "gpu"):
                raise UsageError(f"decode must be 'auto', 'cpu' or 'gpu', not {decode!r}")
            if decode == "gpu" and (device is None or device == "cpu"):
                raise UsageError("decode='gpu' decodes into GPU memory: it needs device='cuda'")
            self.decode = decode
            self.prefetch = int(prefetch)
            self.threads = int(threads)
            if locations is None:
                self._patches = self._grid(_pair(stride if stride is not None else self.size, "stride"), mask,
                                           cover_edges)
            else:
                if mask is not None or stride is not None:
                    raise UsageError("mask and stride shape a grid; with locations given, leave them out")
                self._patches = self._given(locations)
        except BaseException:
            self.close()
            raise
        self._epoch = 0

    def _grid(self, stride: tuple[int, int], mask: Any, cover_edges: bool) -> np.ndarray:
        if mask is None:
            masks: list = [None] * len(self._slides)
        elif len(self._slides) == 1 and np.ndim(mask) == 2:
            masks = [mask]
        else:
            masks = list(mask)
            if len(masks) != len(self._slides):
                raise UsageError(f"{len(masks)} masks for {len(self._slides)} slides")
        parts = []
        for index, (slide, m) in enumerate(zip(self._slides, masks)):
            if m is not None:
                m = np.ascontiguousarray(np.asarray(m) != 0, dtype=np.uint8)
                if m.ndim != 2:
                    raise UsageError(f"{slide.path}: the mask must be 2-D, not of shape {m.shape}")
            xy = _patch_grid(slide, self.level, self.size, stride, m, cover_edges)
            parts.append(np.column_stack([np.full(len(xy), index, dtype=np.int64), xy]))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.int64)

    def _given(self, locations: Any) -> np.ndarray:
        if isinstance(locations, np.ndarray) or len(self._slides) == 1:
            array = np.asarray(locations, dtype=np.int64)
            if array.size == 0:
                array = array.reshape(0, 2 if len(self._slides) == 1 else 3)
            if array.ndim == 2 and array.shape[1] == 2 and len(self._slides) == 1:
                array = np.column_stack([np.zeros(len(array), dtype=np.int64), array])
            if array.ndim != 2 or array.shape[1] != 3:
                raise UsageError("locations must be (n, 2) (x, y) for one slide or (n, 3) (slide index, x, y), "
                                 f"not of shape {array.shape}")
            return np.ascontiguousarray(array)
        per_slide = list(locations)
        if len(per_slide) != len(self._slides):
            raise UsageError(f"{len(per_slide)} location lists for {len(self._slides)} slides")
        parts = []
        for index, xy in enumerate(per_slide):
            xy = np.asarray(xy, dtype=np.int64).reshape(-1, 2)
            parts.append(np.column_stack([np.full(len(xy), index, dtype=np.int64), xy]))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.int64)

    @property
    def slides(self) -> list[Slide]:
        """The slides, in the order slide_indices refer to."""
        return list(self._slides)

    @property
    def locations(self) -> np.ndarray:
        """Every patch of an epoch as an (n, 3) int64 array of (slide index, x, y), before shuffling."""
        return self._patches.copy()

    @property
    def epoch(self) -> int:
        """The epoch the next pass over the loader is (its shuffle's order)."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Makes the next pass epoch `epoch` (reproducible shuffles across restarts and processes)."""
        self._epoch = int(epoch)

    def __len__(self) -> int:
        """Batches in one epoch."""
        n = len(self._patches)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[PatchBatch]:
        if not self._slides:
            raise UsageError("the PatchLoader is closed")
        order = _epoch_order(len(self._patches), self.shuffle, self.seed, self._epoch)
        self._epoch += 1
        stream = _PatchStream(self._slides, np.ascontiguousarray(self._patches[order]), self.size, self.level,
                              self.batch_size, self.drop_last, self.prefetch, self.threads, self.device,
                              self.decode)
        return _batches(stream)

    def close(self) -> None:
        """Closes the slides this loader opened; iterating afterwards raises UsageError."""
        for slide in self._owned:
            slide.close()
        self._owned = []
        self._slides = []

    def __enter__(self) -> PatchLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"tilestream.PatchLoader({len(self._slides)} slides, {len(self._patches)} patches of "
                f"{self.size[0]} x {self.size[1]} at level {self.level}, batch_size={self.batch_size}, "
                f"device={self.device!r})")


def _batches(stream: _PatchStream) -> Iterator[PatchBatch]:
    try:
        for images, slide_indices, locations in stream:
            yield PatchBatch(images, slide_indices, locations)
    finally:
        stream.close()  # a loop that stops early stops the workers and frees what they read ahead
