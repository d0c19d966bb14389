#include "slide_binding.hpp"

#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <utility>

#include "device_array.hpp"
#include "numpy_image.hpp"
#include "slide_handle.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/slide/slide.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace tilestream::python {
namespace {

// Slide.associated_images: a read-only mapping from name to pixels, each read when asked for.
class AssociatedImages {
 public:
  explicit AssociatedImages(std::shared_ptr<const slide::Slide> slide) : slide_(std::move(slide)) {}

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const tiff::AssociatedImage& a : slide_->associated_images()) out.push_back(a.name);
    return out;
  }
  bool contains(const std::string& name) const {
    for (const tiff::AssociatedImage& a : slide_->associated_images())
      if (a.name == name) return true;
    return false;
  }
  NumpyArray get(const std::string& name) const {
    if (!contains(name)) throw nb::key_error(name.c_str());
    HostImage image;
    {
      nb::gil_scoped_release release;
      image = slide_->read_associated(name);
    }
    return to_numpy(std::move(image));
  }

 private:
  std::shared_ptr<const slide::Slide> slide_;
};

std::size_t checked_level(const slide::Slide& s, std::int64_t level) {
  check<UsageError>(level >= 0 && static_cast<std::uint64_t>(level) < s.level_count(), s.path(), ": ",
                    option("level"), " ", level, " does not exist (", s.level_count(), " level",
                    s.level_count() == 1 ? "" : "s", ")");
  return static_cast<std::size_t>(level);
}

std::pair<std::uint64_t, std::uint64_t> checked_size(const slide::Slide& s, std::pair<std::int64_t, std::int64_t> size) {
  check<UsageError>(size.first >= 0 && size.second >= 0, s.path(), ": ", option("size"), " (", size.first, ", ",
                    size.second, ") is negative");
  return {static_cast<std::uint64_t>(size.first), static_cast<std::uint64_t>(size.second)};
}

// A read_region call's arguments, checked: the slide, the level and the level's rectangle.
struct RegionRequest {
  std::shared_ptr<const slide::Slide> slide;
  std::size_t level;
  slide::LevelRect rect;
};

RegionRequest region_request(const SlideHandle& handle, std::pair<std::int64_t, std::int64_t> location,
                             std::int64_t level, std::pair<std::int64_t, std::int64_t> size) {
  std::shared_ptr<const slide::Slide> s = handle.get();
  const std::size_t n = checked_level(*s, level);
  const auto [width, height] = checked_size(*s, size);
  const slide::LevelRect rect = slide::level_rect(*s, n, location.first, location.second, width, height);
  return {std::move(s), n, rect};
}

// The host image a request is read into; a ResourceError names the file, level and region. Without the GIL.
HostImage region_image(const RegionRequest& r, std::uint32_t samples, DType dtype) {
  try {
    return HostImage(r.rect.height, r.rect.width, samples, dtype);
  } catch (const Error& e) {
    rethrow_with_context(e, concat(r.slide->path(), " level ", r.level, ": a region of ", r.rect.width, " x ",
                                   r.rect.height));
  }
}

// Checks that `out` can take the region: C-contiguous (h, w, samples) of the level's dtype, writable.
void check_out(const slide::Slide& s, std::size_t level, const nb::ndarray<nb::device::cpu>& out,
               const slide::LevelRect& rect) {
  const tiff::ImageInfo& image = s.level(level).image;
  const bool shape_fits = out.ndim() == 3 && out.shape(0) == rect.height && out.shape(1) == rect.width &&
                          out.shape(2) == image.samples;
  check<UsageError>(shape_fits, s.path(), " level ", level, ": ", option("out"), " must have shape (", rect.height,
                    ", ", rect.width, ", ", image.samples, ")");
  check<UsageError>(out.dtype() == numpy_dtype(image.dtype), s.path(), " level ", level, ": ", option("out"),
                    " must be of dtype ", to_string(image.dtype));
  const bool contiguous = out.stride(2) == 1 && out.stride(1) == static_cast<std::int64_t>(image.samples) &&
                          out.stride(0) == static_cast<std::int64_t>(rect.width * image.samples);
  check<UsageError>(contiguous || rect.width * rect.height == 0, s.path(), " level ", level, ": ", option("out"),
                    " must be C-contiguous");
}

// The request's pixels in a new host image of the level's samples, as a NumPy array; the GIL released.
NumpyArray read_to_numpy(const RegionRequest& r, unsigned threads) {
  const tiff::ImageInfo& image = r.slide->level(r.level).image;
  HostImage result;
  {
    nb::gil_scoped_release release;
    result = region_image(r, image.samples, image.dtype);
    slide::read_level_rect_into(*r.slide, r.level, r.rect, result.data(), result.row_bytes(), threads);
  }
  return to_numpy(std::move(result));
}

nb::object read_region(const SlideHandle& handle, std::pair<std::int64_t, std::int64_t> location, std::int64_t level,
                       std::pair<std::int64_t, std::int64_t> size, const std::optional<std::string>& device,
                       std::optional<nb::ndarray<nb::device::cpu>> out, unsigned threads,
                       const std::optional<std::string>& decode) {
  const RegionRequest r = region_request(handle, location, level, size);
  const std::optional<int> cuda = cuda_device(device);
  const std::optional<codec::DecodeMode> mode = decode_mode(decode, cuda.has_value());
  if (cuda) {
    check<UsageError>(!out, r.slide->path(), ": ", option("out"), " takes host arrays; with ", option("device"),
                      " cuda the region is a new DeviceArray");
    return read_rect_to_device(r.slide, r.level, r.rect, *cuda, threads, mode);
  }
  const tiff::ImageInfo& image = r.slide->level(r.level).image;
  const std::size_t row_stride = static_cast<std::size_t>(r.rect.width) * image.samples * bytes_per_sample(image.dtype);
  if (out) {
    check_out(*r.slide, r.level, *out, r.rect);
    std::byte* destination = static_cast<std::byte*>(out->data());
    {
      nb::gil_scoped_release release;
      slide::read_level_rect_into(*r.slide, r.level, r.rect, destination, row_stride, threads);
    }
    return nb::find(*out);
  }
  return nb::cast(read_to_numpy(r, threads));
}

// A batch of patches of one size: one (n, h, w, samples) array, tiles shared by patches decoded once.
nb::object read_regions(const SlideHandle& handle, const std::vector<std::pair<std::int64_t, std::int64_t>>& locations,
                        std::pair<std::int64_t, std::int64_t> size, std::int64_t level,
                        const std::optional<std::string>& device, unsigned threads,
                        const std::optional<std::string>& decode) {
  const std::shared_ptr<const slide::Slide> s = handle.get();
  const std::size_t n = checked_level(*s, level);
  const auto [width, height] = checked_size(*s, size);
  check<UsageError>(locations.size() <= (std::uint64_t{1} << 40) / std::max<std::uint64_t>(height, 1), s->path(), ": ",
                    locations.size(), " patches of ", height, " rows");
  std::vector<slide::LevelRect> rects;
  rects.reserve(locations.size());
  for (const auto& [x, y] : locations) rects.push_back(slide::level_rect(*s, n, x, y, width, height));
  const std::optional<int> cuda = cuda_device(device);
  const std::optional<codec::DecodeMode> mode = decode_mode(decode, cuda.has_value());
  if (cuda) {
    check<UsageError>(!locations.empty(), s->path(), ": an empty batch has nothing to put on ", option("device"), " cuda");
    return read_regions_to_device(s, n, rects, width, height, *cuda, threads, mode);
  }
  const tiff::ImageInfo& image = s->level(n).image;
  HostImage batch;
  {
    nb::gil_scoped_release release;
    const RegionRequest whole{s, n, {0, 0, width, height * locations.size()}};
    batch = region_image(whole, image.samples, image.dtype);
    slide::read_level_rects_into(*s, n, rects, batch.data(), batch.row_bytes(), batch.row_bytes() * height, threads);
  }
  return nb::cast(to_numpy_batch(std::move(batch), locations.size(), height));
}

constexpr const char* read_regions_doc = R"(A batch of patches of one size, as one (n, height, width, samples) array.

locations: n (x, y) in level-0 pixels (a sequence of pairs or an (n, 2) integer array), each read as
    read_region reads it (zeros outside the level).
size: (width, height) of every patch, in the level's pixels.
level: the level to read.
device: None or "cpu" for a NumPy array; "cuda" or "cuda:N" for a DeviceArray of shape (n, height,
    width, samples) in that GPU's memory, finished when it returns.
threads: threads that decode the tiles (0: TILESTREAM_THREADS, else every core).
decode: with device="cuda", where JPEG tiles are decoded: "auto" (nvJPEG on the GPU where it loads
    and the tiles allow, with a fixed share of the level's tiles decoded by CPU threads beside it;
    else the CPU), "cpu" or "gpu" (nvJPEG alone; an error naming what is missing where it cannot run);
    None: TILESTREAM_DECODE, else auto. nvJPEG's pixels differ from the CPU decoder's by a few levels
    (IDCT and upsampling rounding).

A tile that several patches share is read and decoded once; tiles are decoded in parallel and the GIL
is released. Equal to one read_region per patch.)";

// OpenSlide's rendering of the rectangle, for the OpenSlide shim (python/tilestream/_openslide.py).
NumpyArray read_region_rgba(const SlideHandle& handle, std::pair<std::int64_t, std::int64_t> location, std::int64_t level,
                            std::pair<std::int64_t, std::int64_t> size, unsigned threads) {
  const RegionRequest r = region_request(handle, location, level, size);
  HostImage result;
  {
    nb::gil_scoped_release release;
    result = region_image(r, 4, DType::uint8);
    slide::read_level_rect_rgba_into(*r.slide, r.level, r.rect, result.data(), result.row_bytes(), threads);
  }
  return to_numpy(std::move(result));
}

// A rectangle addressed in the level's own pixels (the lazy Zarr view reads its chunks, the stored
// tiles, through this); zeros outside the level.
NumpyArray read_level_rect(const SlideHandle& handle, std::int64_t level, std::int64_t x, std::int64_t y,
                           std::pair<std::int64_t, std::int64_t> size, unsigned threads) {
  std::shared_ptr<const slide::Slide> s = handle.get();
  const std::size_t n = checked_level(*s, level);
  const auto [width, height] = checked_size(*s, size);
  return read_to_numpy({std::move(s), n, {x, y, width, height}}, threads);
}

// What the lazy Zarr view needs to know of a level: its size, its stored tiles (strips: the width and
// RowsPerStrip), its samples and NumPy dtype.
nb::dict level_layout(const SlideHandle& handle, std::int64_t level) {
  const std::shared_ptr<const slide::Slide> s = handle.get();
  const tiff::ImageInfo& image = s->level(checked_level(*s, level)).image;
  nb::dict out;
  out["width"] = image.width;
  out["height"] = image.height;
  out["tile_width"] = image.tile_width;
  out["tile_height"] = image.tile_height;
  out["tiled"] = image.tiled;
  out["samples"] = image.samples;
  out["dtype"] = to_string(image.dtype);
  return out;
}

constexpr const char* read_region_doc = R"(Pixels of a rectangle of one level, as OpenSlide addresses it.

location: (x, y) of the top-left pixel in level-0 pixels (OpenSlide's convention; it becomes
    (x // downsample, y // downsample) in the level).
level: the level to read.
size: (width, height) in the level's pixels.
device: None or "cpu" for a NumPy array; "cuda" or "cuda:N" for a DeviceArray in that GPU's memory
    (zero copy into cupy.from_dlpack / torch.from_dlpack; the pixels are finished when it returns).
out: optional C-contiguous (height, width, samples) NumPy array of the level's dtype to read into; it is
    returned (host reads only).
threads: threads that decode the tiles (0: TILESTREAM_THREADS, else every core).
decode: with device "cuda", where JPEG tiles are decoded: "auto" (nvJPEG on the GPU where it loads,
    else the CPU), "cpu" or "gpu" (nvJPEG, an error where it is missing); None: TILESTREAM_DECODE, else
    auto. nvJPEG's pixels differ from libjpeg's by a few levels at most (its IDCT and upsampling).

Returns an (height, width, samples) NumPy array (RGB for the usual slides, uint8). Parts of the
rectangle outside the level are 0. The GIL is released while tiles are read and decoded.)";

}  // namespace

void bind_slide(nb::module_& m) {
  nb::class_<AssociatedImages>(m, "AssociatedImages",
                               "The slide's associated images (label, macro, thumbnail) by name, each read when "
                               "asked for. A read-only mapping.")
      .def("__getitem__", &AssociatedImages::get, "name"_a)
      .def("__contains__", &AssociatedImages::contains, "name"_a)
      .def("__len__", [](const AssociatedImages& a) { return a.names().size(); })
      .def("__iter__", [](const AssociatedImages& a) { return nb::iter(nb::cast(a.names())); })
      .def("keys", &AssociatedImages::names, "The names, in the file's order.");

  nb::class_<SlideHandle>(m, "Slide",
                          "A whole-slide image opened for reading (tilestream.open). Use it as a context manager, "
                          "or call close().")
      .def_prop_ro("path", &SlideHandle::path, "The file's path.")
      .def_prop_ro("closed", &SlideHandle::closed, "Whether close() was called.")
      .def_prop_ro("level_count", [](const SlideHandle& h) { return h.get()->level_count(); },
                   "The number of pyramid levels.")
      .def_prop_ro(
          "level_dimensions",
          [](const SlideHandle& h) {
            const auto s = h.get();
            nb::list out;
            for (std::size_t n = 0; n < s->level_count(); ++n)
              out.append(nb::make_tuple(s->level(n).image.width, s->level(n).image.height));
            return nb::tuple(out);
          },
          "(width, height) of each level, level 0 first.")
      .def_prop_ro(
          "dimensions", [](const SlideHandle& h) {
            const auto s = h.get();
            return nb::make_tuple(s->level(0).image.width, s->level(0).image.height);
          },
          "(width, height) of level 0.")
      .def_prop_ro(
          "level_downsamples",
          [](const SlideHandle& h) {
            const auto s = h.get();
            nb::list out;
            for (std::size_t n = 0; n < s->level_count(); ++n) out.append(s->level(n).downsample);
            return nb::tuple(out);
          },
          "Each level's downsample from level 0 (the width and height ratios averaged, as OpenSlide does).")
      .def_prop_ro("properties", [](const SlideHandle& h) { return h.get()->properties(); },
                   "The slide's properties: OpenSlide's keys (openslide.*, tiff.*, aperio.*...), the same as "
                   "`tilestream info` prints.")
      .def_prop_ro("associated_images", [](const SlideHandle& h) { return AssociatedImages(h.get()); },
                   "The associated images (label, macro, thumbnail) as a mapping of name to NumPy array, each "
                   "read when asked for.")
      .def(
          "get_best_level_for_downsample",
          [](const SlideHandle& h, double downsample) { return h.get()->best_level_for_downsample(downsample); },
          "downsample"_a,
          "The level to read for a wanted downsample, as OpenSlide picks it: the smallest level whose downsample "
          "does not exceed it (level 0 for anything at or below 1).")
      .def("read_region", &read_region, "location"_a, "level"_a, "size"_a, nb::kw_only(), "device"_a = nb::none(),
           "out"_a = nb::none(), "threads"_a = 0, "decode"_a = nb::none(),
           nb::sig("def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int], *, "
                   "device: str | None = None, out: numpy.typing.NDArray | None = None, threads: int = 0, "
                   "decode: str | None = None) -> numpy.typing.NDArray | DeviceArray"),
           read_region_doc)
      .def("read_regions", &read_regions, "locations"_a, "size"_a, "level"_a, nb::kw_only(), "device"_a = nb::none(),
           "threads"_a = 0, "decode"_a = nb::none(),
           nb::sig("def read_regions(self, locations: collections.abc.Sequence[tuple[int, int]] | numpy.typing.NDArray, "
                   "size: tuple[int, int], level: int, *, device: str | None = None, threads: int = 0, "
                   "decode: str | None = None) -> numpy.typing.NDArray | DeviceArray"),
           read_regions_doc)
      .def("_read_region_rgba", &read_region_rgba, "location"_a, "level"_a, "size"_a, "threads"_a = 0,
           "read_region as OpenSlide renders it: (height, width, 4) uint8 RGBA, alpha 255 inside the level and "
           "0 outside; for tilestream.OpenSlide.")
      .def("_read_level_rect", &read_level_rect, "level"_a, "x"_a, "y"_a, "size"_a, "threads"_a = 0,
           "A (height, width, samples) rectangle addressed in the level's own pixels, zeros outside the level; for "
           "the lazy Zarr view.")
      .def("_level_layout", &level_layout, "level"_a,
           "A level's width, height, tile_width, tile_height (strips: width and RowsPerStrip), tiled, samples and "
           "dtype (a NumPy name); for the lazy Zarr view.")
      .def("close", &SlideHandle::close, "Releases the file; later calls raise UsageError. Reads still running finish.")
      .def("__enter__", [](nb::handle self) { return self; })
      .def("__exit__", [](SlideHandle& h, nb::args) { h.close(); })
      .def("__repr__", [](const SlideHandle& h) {
        return concat("tilestream.Slide('", h.path(), "'", h.closed() ? ", closed" : "", ")");
      });

  m.def(
      "open",
      [](const std::filesystem::path& path, unsigned bilevel_max) {
        nb::gil_scoped_release release;
        return std::make_unique<SlideHandle>(path, slide::OpenOptions{.bilevel_max = bilevel_max});
      },
      "path"_a, nb::kw_only(), "bilevel_max"_a = 1u,
      "Opens a whole-slide image (Aperio SVS, generic TIFF/BigTIFF, NDPI..., or a DICOM whole slide image: its "
      "folder or one of its files) and indexes it. Raises IoError, FormatError or UnsupportedError naming the file. "
      "bilevel_max: what a set bit of a 1-bit image reads as, 1 (uint8 0/1, the default) or 255 (0/255); "
      "MinIsWhite ones are inverted.");
  m.def(
      "open",
      [](const std::vector<std::filesystem::path>& paths, unsigned bilevel_max) {
        std::vector<std::string> names;
        for (const std::filesystem::path& p : paths) names.push_back(p.string());
        nb::gil_scoped_release release;
        return std::make_unique<SlideHandle>(names, slide::OpenOptions{.bilevel_max = bilevel_max});
      },
      "paths"_a, nb::kw_only(), "bilevel_max"_a = 1u,
      "Opens the files of one DICOM whole slide image series, exactly these (a list of paths).");
}

}  // namespace tilestream::python
