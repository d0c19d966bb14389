"""tilestream.OpenSlide: openslide-python's OpenSlide class on tilestream's reader, for the formats
tilestream reads (Aperio SVS, generic tiled TIFF/BigTIFF, NDPI). Same calls, same return types (PIL
images, OpenSlide's property keys and text); the pixels come from the C++ engine with the GIL released.

NDPI lists OpenSlide's levels, those OpenSlide makes by JPEG DCT scaling included. The difference that
is deliberate: errors are tilestream's (tilestream.Error subclasses of OSError / ValueError), not
OpenSlideError.
"""
from collections.abc import Mapping

from ._tilestream import open as _open

PROPERTY_NAME_BACKGROUND_COLOR = "openslide.background-color"


def _pil():
    try:
        from PIL import Image
    except ImportError as e:  # Pillow is needed by this shim only
        raise ImportError("tilestream.OpenSlide returns PIL images: pip install pillow") from e
    return Image


class _AssociatedImages(Mapping):
    """Associated images as PIL RGBA images, each read when asked for (OpenSlide's associated_images)."""

    def __init__(self, images):
        self._images = images

    def __getitem__(self, name):
        pixels = self._images[name]
        image = _pil().fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
        return image.convert("RGBA")

    def __iter__(self):
        return iter(self._images)

    def __len__(self):
        return len(self._images)


class OpenSlide:
    """A drop-in for openslide.OpenSlide: `OpenSlide(filename)`."""

    def __init__(self, filename):
        self._slide = _open(filename)
        self._filename = filename

    @classmethod
    def detect_format(cls, filename):
        """The slide's vendor ("aperio", "hamamatsu", "generic-tiff"), or None where tilestream cannot open it."""
        from . import Error

        try:
            with _open(filename) as slide:
                return slide.properties.get("openslide.vendor")
        except Error:
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        return f"tilestream.OpenSlide({self._filename!r})"

    def close(self):
        self._slide.close()

    @property
    def level_count(self):
        return self._slide.level_count

    @property
    def dimensions(self):
        return self._slide.dimensions

    @property
    def level_dimensions(self):
        return self._slide.level_dimensions

    @property
    def level_downsamples(self):
        return self._slide.level_downsamples

    @property
    def properties(self):
        return self._slide.properties

    @property
    def associated_images(self):
        return _AssociatedImages(self._slide.associated_images)

    @property
    def color_profile(self):
        """The slide's ICC profile: tilestream does not read ICC profiles, so None (as OpenSlide for slides without one)."""
        return None

    def get_best_level_for_downsample(self, downsample):
        return self._slide.get_best_level_for_downsample(downsample)

    def read_region(self, location, level, size):
        """A PIL RGBA image of `size` at `level`, its top-left at level-0 `location`; transparent outside the level."""
        return _pil().fromarray(self._slide._read_region_rgba(location, level, size), "RGBA")

    def get_thumbnail(self, size):
        """An RGB thumbnail fitting in `size`: the level nearest the downsample, laid on the slide's
        background colour and shrunk with Lanczos, as openslide-python makes it."""
        Image = _pil()
        downsample = max(dim / thumb for dim, thumb in zip(self.dimensions, size))
        level = self.get_best_level_for_downsample(downsample)
        region = self.read_region((0, 0), level, self.level_dimensions[level])
        background = "#" + self.properties.get(PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")
        thumbnail = Image.new("RGB", region.size, background)
        thumbnail.paste(region, None, region)
        thumbnail.thumbnail(size, Image.LANCZOS)
        return thumbnail
