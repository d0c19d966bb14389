"""tilestream: whole-slide images (Aperio SVS, TIFF/BigTIFF, NDPI) read into NumPy arrays by a C++
engine that decodes tiles in parallel with the GIL released.

    import tilestream
    with tilestream.open("slide.svs") as slide:
        print(slide.dimensions, slide.level_downsamples)
        patch = slide.read_region((1000, 2000), 0, (512, 512))   # (512, 512, 3) uint8

Addresses follow OpenSlide: locations in level-0 pixels, sizes in the level's pixels.
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
    Slide,
    UnsupportedError,
    UsageError,
    __version__,
    open,
    with_cuda,
)

from ._openslide import OpenSlide

_Mapping.register(AssociatedImages)

__all__ = [
    "AssociatedImages", "CodecError", "DeviceArray", "OpenSlide", "CudaError", "Error", "FormatError", "IoError", "ResourceError", "Slide",
    "UnsupportedError", "UsageError", "__version__", "open", "with_cuda",
]
