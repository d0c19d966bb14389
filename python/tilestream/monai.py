"""tilestream.monai: a MONAI whole-slide-image reader backend, so that MONAI's WSI datasets and
transforms read slides through tilestream (Aperio SVS, generic tiled TIFF/BigTIFF, NDPI).

    from monai.data import PatchWSIDataset
    from tilestream.monai import TilestreamWSIReader

    data = [{"image": "slide.svs", "location": [1200, 800], "label": 1}]   # (row, column), level 0
    dataset = PatchWSIDataset(data, patch_size=224, patch_level=0, reader=TilestreamWSIReader)
    sample = dataset[0]      # {"image": MetaTensor (3, 224, 224) uint8, "label": tensor(1.)}

    reader = TilestreamWSIReader(level=1, channel_dim=-1, threads=4)     # or an instance
    slide = reader.read("slide.svs")
    patch, meta = reader.get_data(slide, location=(1000, 2000), size=(512, 512))

TilestreamWSIReader follows MONAI's OpenSlideWSIReader call for call: locations are (row, column) in
level-0 pixels, sizes (height, width) in the level's pixels, get_size is (height, width), get_mpp is
(y, x) microns per pixel from openslide.mpp-x/-y (else the TIFF resolution tags), get_power is the
objective power (openslide.objective-power, else aperio.AppMag) over the level's downsample, and the
level may be chosen by `level`, `mpp` or `power` as MONAI's BaseWSIReader chooses it. Pixels outside
the level are 0 as in OpenSlide's RGB. `mode` is "RGB" or "RGBA" (alpha 255 inside the level, 0
outside, as OpenSlide renders it); `dtype`, `channel_dim` and `device` are MONAI's. MONAI's own
`WSIReader(backend=...)` knows only its three built-in backends: pass this class (or an instance) as
`reader=` to the datasets, or use it where a WSIReader would be used.

Extras: `threads` (keyword) sets the decode threads of each read (0: TILESTREAM_THREADS, else every
core); with a CUDA `device` an RGB patch of an RGB level is read into that GPU's memory by tilestream
and handed to PyTorch through DLPack (no host copy of the patch), other patches are read on the host
and copied there as MONAI does. Slides stay open in the dataset's cache (one tilestream Slide is safe to
read from many threads); NDPI lists OpenSlide's levels, those it makes by JPEG scaling included. The
difference that is deliberate: a location above level 0 that is not a whole number of the level's
pixels (x / downsample not whole: an odd x at a level of downsample 2, most x where the downsample is
not whole) starts at pixel (x // downsample, y // downsample) of the level, where OpenSlide shifts the
level by the fraction and resamples it.

This module imports MONAI and PyTorch; `import tilestream` imports neither.
"""
from __future__ import annotations

import copy
import warnings
from os.path import abspath

import numpy as np

try:
    import torch
    from monai.data.wsi_reader import BaseWSIReader
    from monai.utils import dtype_numpy_to_torch, dtype_torch_to_numpy, ensure_tuple, ensure_tuple_rep
    from monai.utils.misc import ConvertUnits
except ImportError as e:
    raise ImportError(
        f"tilestream.monai is a backend for MONAI and needs MONAI and PyTorch (pip install monai torch): {e}"
    ) from e

from ._tilestream import open as _open

__all__ = ["TilestreamWSIReader"]

_MODES = ("RGB", "RGBA")


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # needed by get_wsi_at_mpp only, as by MONAI's OpenSlide backend
        raise ImportError("TilestreamWSIReader.get_wsi_at_mpp resizes with Pillow: pip install pillow") from e
    return Image


class TilestreamWSIReader(BaseWSIReader):
    """Reads whole-slide images with tilestream for MONAI (a BaseWSIReader, like OpenSlideWSIReader).

    Args:
        level, mpp, mpp_rtol, mpp_atol, power, power_rtol, power_atol, channel_dim, dtype, device,
        mode: as for MONAI's WSIReader (only one of level, mpp, power; default level 0).
        threads: decode threads of each read (0: TILESTREAM_THREADS, else every core).
        decode: with a CUDA device, where JPEG tiles are decoded ("auto", "cpu" or "gpu", as for
            Slide.read_region; None: TILESTREAM_DECODE, else auto).
        kwargs: passed to tilestream.open (which takes none today).
    """

    supported_suffixes = ["tif", "tiff", "svs", "ndpi"]
    backend = "tilestream"

    def __init__(self, threads: int = 0, decode: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.threads = threads
        self.decode = decode
        # Set only on the copy get_data makes for a CUDA device: (torch device, torch dtype) of the patch.
        self._cuda_patch = None

    @staticmethod
    def get_level_count(wsi) -> int:
        return wsi.level_count

    def get_size(self, wsi, level: int) -> tuple[int, int]:
        """(height, width) of the level."""
        width, height = wsi.level_dimensions[level]
        return (height, width)

    def get_downsample_ratio(self, wsi, level: int) -> float:
        return float(wsi.level_downsamples[level])

    @staticmethod
    def get_file_path(wsi) -> str:
        return str(abspath(wsi.path))

    def get_mpp(self, wsi, level: int) -> tuple[float, float]:
        """(y, x) microns per pixel at the level: openslide.mpp-y/-x, else tiff.Y/XResolution in their unit."""
        downsample = self.get_downsample_ratio(wsi, level)
        properties = wsi.properties
        if properties.get("openslide.mpp-x") and properties.get("openslide.mpp-y"):
            return (downsample * float(properties["openslide.mpp-y"]), downsample * float(properties["openslide.mpp-x"]))
        if properties.get("tiff.XResolution") and properties.get("tiff.YResolution"):
            unit = properties.get("tiff.ResolutionUnit")
            if unit is None:
                warnings.warn("The resolution unit is missing, `micrometer` will be used as default.")
                unit = "micrometer"
            to_micron = ConvertUnits(unit, "micrometer")
            return (
                to_micron(downsample / float(properties["tiff.YResolution"])),
                to_micron(downsample / float(properties["tiff.XResolution"])),
            )
        raise ValueError(f"{wsi.path}: `mpp` cannot be obtained for this file. Please use `level` instead.")

    def get_power(self, wsi, level: int) -> float:
        """The objective power at the level: the slide's (openslide.objective-power, else aperio.AppMag) over
        the level's downsample."""
        properties = wsi.properties
        objective_power = properties.get("openslide.objective-power") or properties.get("aperio.AppMag")
        if objective_power:
            return float(objective_power) / self.get_downsample_ratio(wsi, level)
        raise ValueError(
            f"{wsi.path}: objective `power` cannot be obtained for this file. Please use `level` (or `mpp`) instead."
        )

    def read(self, data, **kwargs):
        """A tilestream.Slide for a path, or a list of them for several paths."""
        kwargs_ = {**self.kwargs, **kwargs}
        filenames = ensure_tuple(data)
        slides = [_open(filename, **kwargs_) for filename in filenames]
        return slides if len(filenames) > 1 else slides[0]

    def get_data(self, wsi, location=(0, 0), size=None, level=None, mpp=None, power=None, mode=None):
        """BaseWSIReader.get_data: (patch, metadata). With a CUDA `device` the patch is a torch tensor there."""
        device = self.device
        if device is None or torch.device(device).type != "cuda":
            return super().get_data(wsi, location=location, size=size, level=level, mpp=mpp, power=power, mode=mode)
        # BaseWSIReader.get_data checks the request and makes the metadata, then would copy a host patch to
        # the device (and it accepts only NumPy patches there). A copy of this reader without a device
        # leaves that last step out, and its _get_patch returns the patch already on the GPU.
        cuda = torch.device(device)
        if cuda.index is None:
            cuda = torch.device("cuda", torch.cuda.current_device())
        dtype = self.dtype if isinstance(self.dtype, torch.dtype) else dtype_numpy_to_torch(self.dtype)
        on_gpu = copy.copy(self)
        on_gpu.device = None
        on_gpu.dtype = np.dtype(dtype_torch_to_numpy(dtype))
        on_gpu._cuda_patch = (cuda, dtype)
        return on_gpu.get_data(wsi, location=location, size=size, level=level, mpp=mpp, power=power, mode=mode)

    def _get_patch(self, wsi, location, size, level, dtype, mode):
        """The patch at `location` ((row, column), level 0) of `size` ((height, width), the level's
        pixels), channels at channel_dim, in `dtype`."""
        if mode not in _MODES:
            raise ValueError(f"TilestreamWSIReader reads mode 'RGB' or 'RGBA', not {mode!r}")
        xy = (int(location[1]), int(location[0]))
        wh = (int(size[1]), int(size[0]))
        # An RGB level in RGB mode is read as stored; anything else as OpenSlide renders it (RGBA, then
        # the alpha dropped for RGB), which is what MONAI's OpenSlide backend sees.
        layout = wsi._level_layout(level)
        stored_rgb = mode == "RGB" and layout["samples"] == 3 and layout["dtype"] == "uint8"
        if self._cuda_patch is not None:
            cuda, torch_dtype = self._cuda_patch
            if stored_rgb:
                pixels = torch.from_dlpack(
                    wsi.read_region(xy, level, wh, device=f"cuda:{cuda.index}", threads=self.threads, decode=self.decode)
                )
            else:
                pixels = torch.as_tensor(self._read_host(wsi, xy, level, wh, mode, stored_rgb), device=cuda)
            return torch.movedim(pixels.to(torch_dtype), -1, self.channel_dim)
        pixels = np.asarray(self._read_host(wsi, xy, level, wh, mode, stored_rgb), dtype=dtype)
        return np.moveaxis(pixels, -1, self.channel_dim)

    def _read_host(self, wsi, xy, level, wh, mode, stored_rgb):
        if stored_rgb:
            return wsi.read_region(xy, level, wh, threads=self.threads)
        rgba = wsi._read_region_rgba(xy, level, wh, self.threads)
        return rgba if mode == "RGBA" else rgba[..., :3]

    def get_wsi_at_mpp(self, wsi, mpp, atol: float = 0.0, rtol: float = 0.05) -> np.ndarray:
        """The whole slide at `mpp` microns per pixel, as OpenSlideWSIReader.get_wsi_at_mpp makes it: the level
        whose mpp is closest, as it is where within the tolerances, else the next finer level (or this one
        where it is finer) resized with Pillow's bilinear filter."""
        mpp = ensure_tuple_rep(mpp, 2)
        mpp_list = [self.get_mpp(wsi, level) for level in range(wsi.level_count)]
        closest = self._find_closest_level("mpp", mpp, mpp_list, 0, 5)
        within_tolerance, closest_is_finer = self._compute_mpp_tolerances(closest, mpp_list, mpp, atol, rtol)
        if within_tolerance:
            image = self._level_image(wsi, closest)
        else:
            if not closest_is_finer and closest > 0:
                closest -= 1
            target_x, target_y = self._compute_mpp_target_res(closest, wsi.level_dimensions[closest], mpp_list, mpp)
            # MONAI's argument order, kept so that the two backends give the same image.
            image = self._level_image(wsi, closest).resize((target_y, target_x), _pil().BILINEAR)
        pixels = np.array(image.convert(self.mode))
        if pixels.ndim < 3:
            pixels = pixels[..., None]
        return np.moveaxis(pixels, -1, self.channel_dim)

    def _level_image(self, wsi, level):
        """A whole level as a PIL RGBA image, as OpenSlide's read_region renders it."""
        rgba = wsi._read_region_rgba((0, 0), level, wsi.level_dimensions[level], self.threads)
        return _pil().fromarray(rgba, "RGBA")
