"""tilestream: whole-slide images (Aperio SVS, TIFF/BigTIFF, NDPI) read into NumPy arrays by a C++
engine that decodes tiles in parallel with the GIL released.

    import tilestream
    with tilestream.open("slide.svs") as slide:
        print(slide.dimensions, slide.level_downsamples)
        patch = slide.read_region((1000, 2000), 0, (512, 512))   # (512, 512, 3) uint8

Addresses follow OpenSlide: locations in level-0 pixels, sizes in the level's pixels.

Without converting the slide, `slide.aszarr()` is a read-only zarr-python 3 store of the pyramid
(OME-NGFF 0.5, chunks the stored tiles decoded on demand) for zarr, Dask, xarray and napari, and
`tilestream.to_dask(path, level)` one level as a Dask array; both need zarr>=3 (and dask), imported
only when called.
"""
from collections.abc import Mapping as _Mapping

from ._tilestream import (
    AssociatedImages,
    CodecError,
    CudaError,
    DeviceArray,
    Error,
    FormatError,
    IoError,
    ResourceError,
    StoppedError,
    Slide,
    UnsupportedError,
    UsageError,
    __version__,
    open,
    with_cuda,
)

from ._openslide import OpenSlide
from ._patches import PatchBatch, PatchLoader
from ._commands import convert, process
from ._zarr_view import aszarr as _aszarr
from ._zarr_view import to_dask

_Mapping.register(AssociatedImages)
# A Python method of the extension's class: zarr is imported only when it is called.
Slide.aszarr = _aszarr

__all__ = [
    "AssociatedImages", "CodecError", "DeviceArray", "OpenSlide", "PatchBatch", "PatchLoader", "CudaError", "Error", "FormatError", "IoError", "ResourceError", "Slide", "StoppedError", "convert", "process",
    "UnsupportedError", "UsageError", "__version__", "open", "to_dask", "with_cuda",
]
