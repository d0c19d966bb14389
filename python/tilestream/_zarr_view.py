"""The lazy Zarr view of a slide: Slide.aszarr() (a zarr-python 3 store of the pyramid, its chunks the
stored tiles decoded on demand) and tilestream.to_dask (one level as a Dask array through that store).
zarr and dask are imported when these are called, so `import tilestream` needs neither.
"""
from __future__ import annotations

import operator
import os
from typing import TYPE_CHECKING, Any, Literal

from ._tilestream import Slide, UsageError

if TYPE_CHECKING:
    import dask.array

    from ._zarr_store import SlideStore


def aszarr(self: Slide, *, layout: Literal["cyx", "yxc"] = "cyx") -> SlideStore:
    """The slide's pyramid as a read-only zarr-python 3 store, nothing converted: a Zarr v3 group whose
    arrays "0", "1", ... are the levels, each chunk one stored tile decoded when read.

        group = zarr.open(slide.aszarr(), mode="r")              # zarr.Group; group["0"][:, y0:y1, x0:x1]
        level0 = dask.array.from_zarr(slide.aszarr(), component="0")
        napari.view_image([group[k] for k in sorted(group.array_keys(), key=int)], channel_axis=0,
                          multiscale=True)                       # or an OME-Zarr reader on the group
        xarray.open_zarr(slide.aszarr(), consolidated=False,     # one level per Dataset: NGFF levels
                         drop_variables=["1", "2"])              # share the dimension names c, y, x

    Chunks: one stored tile of the level; for stripped images the level's width by as many whole strips
    as make 256 KiB (at least one strip; an NDPI level's tile is one JPEG restart interval). Raw pixels (codec
    "bytes", little-endian), fill value 0; edge chunks come zero-padded. Each chunk is decoded in a
    worker thread (the event loop's default executor, sized by zarr's `threading.max_workers`) with
    the GIL released, so one read of many chunks decodes `async.concurrency` (zarr's setting, 10 by
    default) of them at once.

    layout: "cyx" (default) gives arrays (samples, height, width) with dimension names c, y, x and
    OME-NGFF 0.5 metadata as `tilestream convert` writes it: multiscales with each level's downsample
    as its scale, in micrometers where the slide gives openslide.mpp-x (and mpp-y), else in pixels;
    omero rendering hints for RGB. "yxc" gives arrays (height, width, samples) as read_region returns
    them and a plain Zarr group without OME metadata (NGFF allows no channel axis after y and x).

    The store reads through this Slide: closing the slide ends its reads (UsageError). It pickles as the
    file's absolute path and layout and reopens the file when unpickled (Dask distributed workers need
    the same path). Writes and deletes raise ValueError. Needs zarr>=3 (ImportError otherwise).
    """
    from ._zarr_store import SlideStore

    return SlideStore(self, layout=layout)


def to_dask(path: str | os.PathLike | Slide, level: int = 0, *, chunks: Any = None,
            layout: Literal["cyx", "yxc"] = "yxc") -> dask.array.Array:
    """One level of a slide as a lazy Dask array, read through Slide.aszarr's store (each stored tile
    decoded when a chunk needs it).

    path: the slide's file (the array owns its own Slide; the file is reopened where the graph is
    unpickled, so Dask distributed workers need the same path), or an open Slide to read through.
    level: the pyramid level (0 is full resolution).
    layout: "yxc" (default) gives (height, width, samples) as read_region does; "cyx" gives
    (samples, height, width) as the OME-NGFF view stores it.
    chunks: None (default) groups whole stored tiles into chunks near Dask's `array.chunk-size`
    (128 MiB unless configured), all samples in each: a 100k x 100k slide of 240-pixel tiles gives a few
    hundred chunks, not 170,000. "tiles" gives one chunk per stored tile. Anything else goes to
    dask.array.from_zarr (an int, a tuple, a dict of axis to size, "auto"); sizes that are multiples of
    the tile size decode each tile once, others decode the tiles on chunk borders twice.

    Needs zarr>=3 and dask (ImportError otherwise).
    """
    from ._zarr_store import SlideStore  # first: its ImportError says which zarr is needed

    try:
        import dask.array as da
        from dask.base import tokenize
    except ImportError as e:
        raise ImportError("tilestream.to_dask needs Dask: pip install 'dask[array]'") from e
    import zarr

    store = SlideStore(path, layout=layout) if isinstance(path, Slide) else SlideStore.from_path(path, layout=layout)
    count = store.slide.level_count
    if isinstance(level, bool) or not hasattr(level, "__index__") or not 0 <= operator.index(level) < count:
        store.close()
        raise UsageError(f"{store.path}: level {level!r} does not exist ({count} level{'s' * (count != 1)})")
    level = operator.index(level)  # NumPy integers too
    array = zarr.open_array(store, path=str(level), mode="r")
    channel_axis = 0 if layout == "cyx" else 2
    if chunks is None:
        chunks = {axis: (-1 if axis == channel_axis else "auto") for axis in range(3)}
    elif isinstance(chunks, str) and chunks == "tiles":
        chunks = array.chunks
    # The name: the file as it is now (path, size, modification time), the level and the chunking, so the
    # same read gives the same keys and a changed file new ones.
    stat = os.stat(store.path)
    name = "tilestream-" + tokenize(store.path, stat.st_size, stat.st_mtime_ns, level, layout, chunks)
    return da.from_zarr(array, chunks=chunks, name=name)
