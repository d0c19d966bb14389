#include "patch_loader.hpp"

#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "device_array.hpp"
#include "numpy_image.hpp"
#include "slide_handle.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/slide/patch_plan.hpp"
#include "tilestream/slide/patch_stream.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace tilestream::python {
namespace {

using Int64Array = nb::ndarray<nb::numpy, std::int64_t>;

// A new C-contiguous int64 NumPy array of `rows` x `cols` (cols 0: one dimension) owning `values`.
Int64Array int64_array(std::vector<std::int64_t> values, std::size_t rows, std::size_t cols) {
  auto* owned = new std::vector<std::int64_t>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<std::int64_t>*>(p); });
  if (cols == 0) return Int64Array(owned->data(), {rows}, owner);
  return Int64Array(owned->data(), {rows, cols}, owner);
}

std::pair<std::uint64_t, std::uint64_t> positive_pair(std::pair<std::int64_t, std::int64_t> v, const char* name) {
  check<UsageError>(v.first > 0 && v.second > 0, option(name), " (", v.first, ", ", v.second, ") must be positive");
  return {static_cast<std::uint64_t>(v.first), static_cast<std::uint64_t>(v.second)};
}

// The (n, 2) level-0 locations of a grid's patches over a level.
Int64Array patch_grid(const SlideHandle& handle, std::int64_t level, std::pair<std::int64_t, std::int64_t> size,
                      std::pair<std::int64_t, std::int64_t> stride,
                      std::optional<nb::ndarray<const std::uint8_t, nb::ndim<2>, nb::c_contig, nb::device::cpu>> mask,
                      bool cover_edges) {
  const std::shared_ptr<const slide::Slide> s = handle.get();
  check<UsageError>(level >= 0, s->path(), ": ", option("level"), " ", level, " does not exist");
  const auto [width, height] = positive_pair(size, "size");
  const auto [stride_x, stride_y] = positive_pair(stride, "stride");
  slide::PatchMask m;
  if (mask) m = {mask->data(), mask->shape(0), mask->shape(1)};
  std::vector<slide::PatchRef> refs;
  {
    nb::gil_scoped_release release;
    refs = slide::patch_grid(*s, 0, static_cast<std::size_t>(level), {width, height, stride_x, stride_y, cover_edges},
                             mask ? &m : nullptr);
  }
  std::vector<std::int64_t> xy;
  xy.reserve(refs.size() * 2);
  for (const slide::PatchRef& r : refs) {
    xy.push_back(r.x);
    xy.push_back(r.y);
  }
  return int64_array(std::move(xy), refs.size(), 2);
}

Int64Array epoch_order(std::int64_t count, bool shuffle, std::uint64_t seed, std::uint64_t epoch) {
  check<UsageError>(count >= 0, "a count of ", count, " patches");
  const std::vector<std::size_t> order = slide::epoch_order(static_cast<std::size_t>(count), shuffle, seed, epoch);
  return int64_array(std::vector<std::int64_t>(order.begin(), order.end()), order.size(), 0);
}

// One epoch's batches: tilestream._PatchStream(slides, patches, ...), an iterator of
// (images, slide_indices, locations).
class PatchStreamBinding {
 public:
  PatchStreamBinding(const std::vector<SlideHandle*>& handles,
                     nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu> patches,
                     std::pair<std::int64_t, std::int64_t> size, std::int64_t level, std::int64_t batch_size,
                     bool drop_last, std::int64_t prefetch, unsigned threads, std::optional<int> device,
                     std::optional<codec::DecodeMode> decode)
      : device_(device) {
    std::vector<std::shared_ptr<const slide::Slide>> slides;
    for (const SlideHandle* h : handles) {
      check<UsageError>(h != nullptr, "slides must be tilestream.Slide objects");
      slides.push_back(h->get());
    }
    check<UsageError>(patches.shape(1) == 3, option("patches"), " must be (n, 3): slide index, x, y");
    check<UsageError>(level >= 0, option("level"), " ", level, " does not exist");
    check<UsageError>(batch_size > 0, option("batch_size"), " ", batch_size, " must be positive");
    check<UsageError>(prefetch > 0 && prefetch <= 64, option("prefetch"), " ", prefetch, " must be 1 to 64");
    const auto [width, height] = positive_pair(size, "size");
    height_ = height;
    std::vector<slide::PatchRef> refs(patches.shape(0));
    for (std::size_t k = 0; k < refs.size(); ++k) {
      const std::int64_t index = patches(k, 0);
      check<UsageError>(index >= 0 && static_cast<std::uint64_t>(index) < slides.size(), "patch ", k, " names slide ",
                        index, ", but there are ", slides.size(), " slides");
      refs[k] = {static_cast<std::uint32_t>(index), patches(k, 1), patches(k, 2)};
    }
    slide::PatchStreamOptions options;
    options.level = static_cast<std::size_t>(level);
    options.width = width;
    options.height = height;
    options.batch_size = static_cast<std::size_t>(batch_size);
    options.drop_last = drop_last;
    options.prefetch = static_cast<unsigned>(prefetch);
    options.threads = threads;
    slide::PatchStream::Finish finish;
    if (device_) {
      // Batches go straight to GPU memory: each worker reads its batch with a pooled DeviceReader
      // (JPEG tiles decoded by nvJPEG where `decode` allows), with its share of the threads.
      options.host_pixels = false;
      const int cuda = *device_;
      const unsigned batch_threads = slide::threads_per_batch(options);
      const std::size_t level_index = options.level;
      finish = [cuda, batch_threads, level_index, decode, slides, width = width, height = height](slide::PatchBatch& batch) {
        std::vector<SlidePatches> groups;
        for (const slide::SlidePatchGroup& g : slide::group_by_slide(batch.patches)) {
          SlidePatches& group = groups.emplace_back(SlidePatches{slides[g.slide], {}});
          for (const std::size_t k : g.positions) {
            const slide::PatchRef& p = batch.patches[k];
            const slide::LevelRect rect = slide::level_rect(*group.slide, level_index, p.x, p.y, width, height);
            group.corners.push_back({rect.x, rect.y, static_cast<std::uint32_t>(k)});
          }
        }
        batch.attachment = read_patches_to_device(groups, level_index, width, height, batch.patches.size(), cuda,
                                                  batch_threads, decode);
      };
    }
    nb::gil_scoped_release release;
    stream_ = std::make_unique<slide::PatchStream>(std::move(slides), std::move(refs), options, std::move(finish));
  }

  std::size_t length() const { return stream_ ? stream_->batch_count() : 0; }

  nb::tuple next() {
    check<UsageError>(stream_ != nullptr, "the patch stream is closed");
    std::optional<slide::PatchBatch> batch;
    {
      nb::gil_scoped_release release;
      batch = stream_->next();
    }
    if (!batch) throw nb::stop_iteration();
    const std::size_t n = batch->patches.size();
    std::vector<std::int64_t> slides(n), locations(2 * n);
    for (std::size_t k = 0; k < n; ++k) {
      slides[k] = batch->patches[k].slide;
      locations[2 * k] = batch->patches[k].x;
      locations[2 * k + 1] = batch->patches[k].y;
    }
    nb::object images = device_ ? device_batch_array(std::static_pointer_cast<DeviceBatch>(batch->attachment), n)
                                : nb::cast(to_numpy_batch(std::move(batch->pixels), n, height_));
    return nb::make_tuple(images, int64_array(std::move(slides), n, 0), int64_array(std::move(locations), n, 2));
  }

  // Stops the workers (after the batches they are reading) and frees the batches read ahead.
  void close() {
    std::unique_ptr<slide::PatchStream> stream = std::move(stream_);
    nb::gil_scoped_release release;
    stream.reset();
  }

 private:
  std::optional<int> device_;
  std::uint64_t height_ = 0;
  std::unique_ptr<slide::PatchStream> stream_;
};

}  // namespace

void bind_patch_loader(nb::module_& m) {
  m.def("_patch_grid", &patch_grid, "slide"_a, "level"_a, "size"_a, "stride"_a, "mask"_a = nb::none(),
        "cover_edges"_a = false,
        "The (n, 2) int64 level-0 locations of a grid of patches over a level, row by row (slide/patch_plan); a "
        "patch is kept where the 2-D uint8 mask covering the whole slide is nonzero at its centre.");
  m.def("_epoch_order", &epoch_order, "count"_a, "shuffle"_a, "seed"_a, "epoch"_a,
        "The order an epoch visits `count` patches: 0..count-1, or a permutation fixed by (seed, epoch) on every "
        "platform.");
  nb::class_<PatchStreamBinding>(m, "_PatchStream",
                                 "One epoch's batches, read ahead on worker threads; tilestream.PatchLoader makes "
                                 "them.")
      .def(
          "__init__",
          [](PatchStreamBinding* self, const std::vector<SlideHandle*>& slides,
             nb::ndarray<const std::int64_t, nb::ndim<2>, nb::c_contig, nb::device::cpu> patches,
             std::pair<std::int64_t, std::int64_t> size, std::int64_t level, std::int64_t batch_size, bool drop_last,
             std::int64_t prefetch, unsigned threads, const std::optional<std::string>& device,
             const std::optional<std::string>& decode) {
            const std::optional<int> cuda = cuda_device(device);
            new (self) PatchStreamBinding(slides, patches, size, level, batch_size, drop_last, prefetch, threads, cuda,
                                          decode_mode(decode, cuda.has_value()));
          },
          "slides"_a, "patches"_a, "size"_a, "level"_a, "batch_size"_a, "drop_last"_a, "prefetch"_a, "threads"_a,
          "device"_a = nb::none(), "decode"_a = nb::none())
      .def("__len__", &PatchStreamBinding::length)
      .def("__iter__", [](nb::handle self) { return self; })
      .def("__next__", &PatchStreamBinding::next)
      .def("close", &PatchStreamBinding::close);
}

}  // namespace tilestream::python
