"""SlideStore: a read-only zarr-python 3 store that presents a slide's pyramid as a Zarr v3 group whose
chunks are the slide's stored tiles, decoded when zarr asks for them. Nothing is converted or cached:
each chunk read decodes one stored tile (or strip) through the C++ engine, with the GIL released, in a
worker thread so that zarr's concurrent chunk loads decode in parallel.

This module imports zarr; tilestream imports it only when Slide.aszarr or tilestream.to_dask is called
(tilestream/_zarr_view.py).
"""
from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Literal

import numpy as np

try:
    from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, Store, SuffixByteRequest
    from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype
except ImportError as e:  # zarr 2 has no zarr.abc.store
    raise ImportError("Slide.aszarr and tilestream.to_dask need zarr-python 3: pip install 'zarr>=3'") from e

from ._tilestream import Slide, UsageError
from ._tilestream import open as _open

Layout = Literal["cyx", "yxc"]
LAYOUTS = ("cyx", "yxc")
METADATA_KEY = "zarr.json"
# Stripped images: whole strips are grouped into chunks of at least this many bytes (RowsPerStrip 1 would
# otherwise make a chunk of every row); each strip is still decoded once.
STRIP_CHUNK_BYTES = 1 << 18
# The OME-NGFF 0.5 version written, as the command line's converter writes it (src/zarr/ome.cpp).
NGFF_VERSION = "0.5"


class _Level:
    """One level as a Zarr array: its shape, chunk shape and chunk grid in the store's axis order."""

    def __init__(self, index: int, layout: dict, axes: Layout):
        self.index = index
        self.width, self.height = layout["width"], layout["height"]
        self.samples = layout["samples"]
        self.dtype = np.dtype(layout["dtype"])
        # The chunk: one stored tile, or for strips the level's width by as many whole strips as make
        # STRIP_CHUNK_BYTES (at least one strip).
        self.chunk_width, self.chunk_height = layout["tile_width"], layout["tile_height"]
        if not layout["tiled"]:
            strip_bytes = self.width * self.chunk_height * self.samples * self.dtype.itemsize
            strips = max(1, -(-STRIP_CHUNK_BYTES // max(1, strip_bytes)))
            self.chunk_height = max(1, min(self.height, strips * self.chunk_height))
        rows = -(-self.height // self.chunk_height)
        columns = -(-self.width // self.chunk_width)
        if axes == "cyx":
            self.shape = (self.samples, self.height, self.width)
            self.chunk_shape = (self.samples, self.chunk_height, self.chunk_width)
            self.grid = (1, rows, columns)
        else:
            self.shape = (self.height, self.width, self.samples)
            self.chunk_shape = (self.chunk_height, self.chunk_width, self.samples)
            self.grid = (rows, columns, 1)
        self.axes = axes
        self.chunk_nbytes = int(np.prod(self.chunk_shape)) * self.dtype.itemsize

    def metadata(self) -> dict:
        return {
            "zarr_format": 3,
            "node_type": "array",
            "shape": list(self.shape),
            "data_type": self.dtype.name,  # Zarr v3 names NumPy's types alike
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.chunk_shape)}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": self.dtype.type(0).item(),  # 0, 0.0 or false as the type wants
            "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "attributes": {},
            "dimension_names": list(self.axes),
        }

    def origin(self, chunk: tuple[int, int, int]) -> tuple[int, int]:
        """The level pixel (x, y) where chunk index `chunk` starts."""
        row, column = (chunk[1], chunk[2]) if self.axes == "cyx" else (chunk[0], chunk[1])
        return column * self.chunk_width, row * self.chunk_height

    def chunk_keys(self) -> Iterator[str]:
        for a in range(self.grid[0]):
            for b in range(self.grid[1]):
                for c in range(self.grid[2]):
                    yield f"{self.index}/c/{a}/{b}/{c}"


def _index(text: str) -> int | None:
    """A chunk index as the default key encoding writes it (decimal, no sign, no leading zeros), else None."""
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        return None
    return int(text)


def _slice(nbytes: int, byte_range: ByteRequest | None) -> slice:
    if byte_range is None:
        return slice(0, nbytes)
    if isinstance(byte_range, RangeByteRequest):
        return slice(byte_range.start, byte_range.end)
    if isinstance(byte_range, OffsetByteRequest):
        return slice(byte_range.offset, nbytes)
    if isinstance(byte_range, SuffixByteRequest):
        return slice(max(0, nbytes - byte_range.suffix), nbytes)
    raise TypeError(f"unexpected byte_range {byte_range!r}")


def _mpp(properties: dict, key: str) -> float | None:
    try:
        value = float(properties[key])
    except (KeyError, ValueError):
        return None
    return value if value > 0 else None


def _ome_attributes(slide: Slide, levels: list[_Level]) -> dict:
    """OME-NGFF 0.5 multiscales (and omero rendering hints for RGB), as the command line's converter
    writes them: axes c, y, x; each level scaled by its downsample; micrometers where the slide gives
    its pixel size (openslide.mpp-x, and mpp-y for y where given), else pixel units."""
    properties = slide.properties
    mpp_x = _mpp(properties, "openslide.mpp-x")
    mpp_y = _mpp(properties, "openslide.mpp-y") or mpp_x
    if mpp_x is None:
        mpp_y = None
    space = {"type": "space", "unit": "micrometer"} if mpp_x else {"type": "space"}
    axes = [{"name": "c", "type": "channel"}, {"name": "y", **space}, {"name": "x", **space}]
    datasets = []
    for level, downsample in zip(levels, slide.level_downsamples):
        scale = [1.0, (mpp_y or 1.0) * downsample, (mpp_x or 1.0) * downsample]
        datasets.append({"path": str(level.index), "coordinateTransformations": [{"type": "scale", "scale": scale}]})
    ome = {
        "version": NGFF_VERSION,
        "multiscales": [{"name": os.path.basename(slide.path), "axes": axes, "datasets": datasets}],
    }
    base = levels[0]
    if base.samples == 3 and base.dtype.name in ("uint8", "uint16"):
        end = 255 if base.dtype.name == "uint8" else 65535
        window = {"start": 0, "end": end, "min": 0, "max": end}
        ome["omero"] = {
            "channels": [{"color": color, "label": label, "active": True, "window": window}
                         for color, label in (("FF0000", "red"), ("00FF00", "green"), ("0000FF", "blue"))],
            "rdefs": {"model": "color"},
        }
    return {"ome": ome}


def _json(document: dict) -> bytes:
    return json.dumps(document, indent=2).encode()


class SlideStore(Store):
    """A slide's pyramid as a read-only Zarr v3 store (Slide.aszarr makes one; its docstring shows
    zarr, Dask, xarray and napari on it): a group with one array per level ("0" is level 0, "1" level
    1, ...), each chunk one stored tile (for stripped images whole strips, about 256 KiB of them)
    decoded on demand. Chunks hold raw pixels (codec `bytes`, little-endian), fill value 0; edge chunks
    come zero-padded to the full tile, as Zarr's regular grid wants them.

    layout "cyx" (the default): arrays (samples, height, width), chunks (samples, tile_height,
    tile_width), and the group carries OME-NGFF 0.5 metadata (multiscales with scale transformations
    from the level downsamples, in micrometers where the slide gives openslide.mpp-x; omero hints for
    RGB), so napari and OME-Zarr readers open it. layout "yxc": arrays (height, width, samples) like
    Slide.read_region returns, chunks (tile_height, tile_width, samples); NGFF allows no channel axis
    after y and x, so that group carries no OME metadata (plain Zarr).

    Reads go through the Slide it was made from (closing that slide ends them with UsageError). Each
    chunk is decoded in the event loop's default executor, one thread per chunk, the GIL released, so a
    read spanning many chunks decodes them in parallel. Writes and deletes raise ValueError. A store
    pickles as its file's path and layout and reopens the file when unpickled (Dask distributed workers
    need the same path to reach the file). getsize answers without decoding.
    """

    supports_writes = False
    supports_deletes = False
    supports_listing = True

    def __init__(self, slide: Slide, *, layout: Layout = "cyx"):
        if layout not in LAYOUTS:
            raise UsageError(f"{slide.path}: layout must be 'cyx' or 'yxc', not {layout!r}")
        super().__init__(read_only=True)
        self._slide = slide
        self._layout = layout
        self._owns_slide = False  # from_path's stores close their slide
        self._path = os.path.abspath(slide.path)
        self._levels = [_Level(n, slide._level_layout(n), layout) for n in range(slide.level_count)]
        attributes = _ome_attributes(slide, self._levels) if layout == "cyx" else {}
        self._metadata = {METADATA_KEY: _json({"zarr_format": 3, "node_type": "group", "attributes": attributes})}
        for level in self._levels:
            self._metadata[f"{level.index}/{METADATA_KEY}"] = _json(level.metadata())

    @classmethod
    def from_path(cls, path: str | os.PathLike, *, layout: Layout = "cyx") -> SlideStore:
        """A store over its own Slide of the file at `path`; close() closes that slide."""
        slide = _open(path)
        try:
            store = cls(slide, layout=layout)
        except BaseException:
            slide.close()
            raise
        store._owns_slide = True
        return store

    @property
    def slide(self) -> Slide:
        """The Slide the chunks are read from."""
        return self._slide

    @property
    def path(self) -> str:
        """The slide file's absolute path (what a pickled store reopens)."""
        return self._path

    @property
    def layout(self) -> Layout:
        return self._layout

    def __reduce__(self):
        return (_reopen, (self._path, self._layout))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlideStore) and (self._path, self._layout) == (other._path, other._layout)

    def __hash__(self) -> int:
        return hash((SlideStore, self._path, self._layout))

    def __str__(self) -> str:
        return f"tilestream://{self._path}"

    def __repr__(self) -> str:
        return f"SlideStore({self._path!r}, layout={self._layout!r})"

    def with_read_only(self, read_only: bool = False) -> SlideStore:
        if not read_only:
            raise ValueError(f"{self}: a slide's Zarr view is read-only")
        return SlideStore(self._slide, layout=self._layout)

    def close(self) -> None:
        """Closes the slide where the store opened it itself (from_path, unpickling); a slide passed in
        stays open (its owner closes it)."""
        if self._owns_slide:
            self._slide.close()
        super().close()

    # Keys: "zarr.json", "<level>/zarr.json", "<level>/c/<i>/<j>/<k>".

    def _chunk(self, key: str) -> tuple[_Level, tuple[int, int, int]] | None:
        """The level and chunk index that `key` names, or None where it names no chunk of this store."""
        parts = key.split("/")
        if len(parts) != 5 or parts[1] != "c":
            return None
        numbers = [_index(p) for p in (parts[0], *parts[2:])]
        if any(n is None for n in numbers) or numbers[0] >= len(self._levels):
            return None
        level = self._levels[numbers[0]]
        chunk = tuple(numbers[1:])
        if any(i >= n for i, n in zip(chunk, level.grid)):
            return None
        return level, chunk

    def _read_chunk(self, level: _Level, chunk: tuple[int, int, int]) -> np.ndarray:
        """The chunk's bytes as a flat uint8 array: the stored tile, zero-padded past the level's edges."""
        x, y = level.origin(chunk)
        # A chunk is one stored tile (or a few strips), so one decode thread each: the parallelism is
        # across chunks.
        pixels = self._slide._read_level_rect(level.index, x, y, (level.chunk_width, level.chunk_height), threads=1)
        out = np.empty(level.chunk_shape, level.dtype.newbyteorder("<"))
        out[...] = pixels.transpose(2, 0, 1) if level.axes == "cyx" else pixels
        return out.reshape(-1).view(np.uint8)

    async def get(self, key: str, prototype: BufferPrototype | None = None,
                  byte_range: ByteRequest | None = None) -> Buffer | None:
        prototype = prototype or default_buffer_prototype()
        if key in self._metadata:
            data = np.frombuffer(self._metadata[key], np.uint8)
        else:
            found = self._chunk(key)
            if found is None:
                return None
            data = await asyncio.to_thread(self._read_chunk, *found)
        return prototype.buffer.from_bytes(data[_slice(len(data), byte_range)])

    async def get_partial_values(self, prototype: BufferPrototype,
                                 key_ranges: Iterable[tuple[str, ByteRequest | None]]) -> list[Buffer | None]:
        return list(await asyncio.gather(*(self.get(key, prototype, byte_range) for key, byte_range in key_ranges)))

    async def exists(self, key: str) -> bool:
        return key in self._metadata or self._chunk(key) is not None

    async def getsize(self, key: str) -> int:
        """A value's size without decoding it: chunks are whole tiles of raw pixels."""
        if key in self._metadata:
            return len(self._metadata[key])
        found = self._chunk(key)
        if found is None:
            raise FileNotFoundError(key)
        return found[0].chunk_nbytes

    async def set(self, key: str, value: Buffer) -> None:
        raise ValueError(f"{self}: a slide's Zarr view is read-only (set {key!r})")

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        raise ValueError(f"{self}: a slide's Zarr view is read-only (set {key!r})")

    async def delete(self, key: str) -> None:
        raise ValueError(f"{self}: a slide's Zarr view is read-only (delete {key!r})")

    def _keys(self, prefix: str = "") -> Iterator[str]:
        for key in self._metadata:
            if key.startswith(prefix):
                yield key
        for level in self._levels:
            base = f"{level.index}/c/"
            if base.startswith(prefix) or prefix.startswith(base):
                yield from (key for key in level.chunk_keys() if key.startswith(prefix))

    async def list(self) -> AsyncIterator[str]:
        for key in self._keys():
            yield key

    async def list_prefix(self, prefix: str) -> AsyncIterator[str]:
        for key in self._keys(prefix):
            yield key

    async def list_dir(self, prefix: str) -> AsyncIterator[str]:
        """The names directly under `prefix` (a group, an array, or a folder of chunk keys)."""
        parts = [p for p in prefix.strip("/").split("/") if p]
        if not parts:
            yield METADATA_KEY
            for level in self._levels:
                yield str(level.index)
            return
        number = _index(parts[0])
        if number is None or number >= len(self._levels):
            return
        level = self._levels[number]
        if len(parts) == 1:
            yield METADATA_KEY
            yield "c"
            return
        indices = [_index(p) for p in parts[2:]]
        if parts[1] != "c" or len(indices) >= 3 or any(i is None or i >= n for i, n in zip(indices, level.grid)):
            return
        for i in range(level.grid[len(indices)]):
            yield str(i)


def _reopen(path: str, layout: Layout) -> SlideStore:
    """Unpickling: the same file, opened again."""
    return SlideStore.from_path(path, layout=layout)
