#include "device_array.hpp"

#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>

#include "tilestream/core/device_name.hpp"
#include "tilestream/core/error.hpp"

#if TILESTREAM_WITH_CUDA
#include <cuda_runtime.h>

#include <map>
#include <tuple>
#include <mutex>
#include <utility>
#include <vector>

#include "numpy_image.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/memory_budget.hpp"
#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/device_level0_region.hpp"
#include "tilestream/slide/device_reader.hpp"
#endif

namespace nb = nanobind;
using namespace nb::literals;

namespace tilestream::python {

std::optional<codec::DecodeMode> decode_mode(const std::optional<std::string>& decode, bool to_device) {
  if (!decode) return std::nullopt;
  const codec::DecodeMode mode = codec::parse_decode_mode(*decode);
  check<UsageError>(to_device || mode != codec::DecodeMode::gpu, option("decode"),
                    " gpu decodes into GPU memory: it needs ", option("device"), " cuda");
  return mode;
}

std::optional<int> cuda_device(const std::optional<std::string>& device) {
  if (!device) return std::nullopt;
  const int n = parse_device_name(*device);
  return n < 0 ? std::nullopt : std::optional<int>(n);
}

#if TILESTREAM_WITH_CUDA
namespace {

// Device readers for the process, by (device, threads): a read takes one (or makes one) and gives it
// back, so concurrent reads use separate readers (a reader serves one read at a time). Never freed:
// readers hold pinned memory and streams that must not be torn down after the CUDA runtime at exit.
class ReaderPool {
 public:
  static ReaderPool& instance() {
    static ReaderPool* pool = new ReaderPool;
    return *pool;
  }
  std::unique_ptr<slide::DeviceReader> take(int device, unsigned threads, std::optional<codec::DecodeMode> decode) {
    const Key key{device, threads, decode ? static_cast<int>(*decode) : -1};
    {
      const std::lock_guard lock(mutex_);
      auto& idle = idle_[key];
      if (!idle.empty()) {
        auto reader = std::move(idle.back());
        idle.pop_back();
        return reader;
      }
    }
    slide::DeviceReaderOptions options;
    options.device = device;
    options.threads = threads;
    options.decode = decode;
    return std::make_unique<slide::DeviceReader>(options);
  }
  void give_back(int device, unsigned threads, std::optional<codec::DecodeMode> decode,
                 std::unique_ptr<slide::DeviceReader> reader) {
    const std::lock_guard lock(mutex_);
    idle_[Key{device, threads, decode ? static_cast<int>(*decode) : -1}].push_back(std::move(reader));
  }

 private:
  using Key = std::tuple<int, unsigned, int>;  // device, threads, decode mode (-1: the default)
  std::mutex mutex_;
  std::map<Key, std::vector<std::unique_ptr<slide::DeviceReader>>> idle_;
};

// NumPy's type string of a sample type, for __cuda_array_interface__.
const char* typestr(DType dtype) {
  switch (dtype) {
    case DType::uint8: return "|u1";
    case DType::int8: return "|i1";
    case DType::uint16: return "<u2";
    case DType::int16: return "<i2";
    case DType::float32: return "<f4";
    case DType::uint32: return "<u4";
    case DType::int32: return "<i4";
    case DType::float16: return "<f2";
  }
  return "|u1";
}

constexpr const char* dltensor_name = "dltensor";

// What one __dlpack__ export keeps alive: the image (shared with the DeviceArray and other exports)
// and the arrays its DLTensor points at.
struct DlpackExport {
  std::shared_ptr<const cuda::DeviceImage> image;
  std::int64_t shape[4] = {};
  std::int64_t strides[4] = {};  // in elements, C order
  cuda::DLManagedTensor tensor{};
};

void delete_export(cuda::DLManagedTensor* tensor) { delete static_cast<DlpackExport*>(tensor->manager_ctx); }

// A capsule no consumer took (still named "dltensor") owns its tensor; a consumer renames it.
void delete_unused_capsule(PyObject* capsule) noexcept {
  if (PyCapsule_IsValid(capsule, dltensor_name) == 0) return;
  auto* tensor = static_cast<cuda::DLManagedTensor*>(PyCapsule_GetPointer(capsule, dltensor_name));
  if (tensor != nullptr && tensor->deleter != nullptr) tensor->deleter(tensor);
}

class DeviceArray {
 public:
  // `batch` > 0: the image holds that many images of height / batch rows, and the array is
  // (batch, rows, width, samples); else (height, width, samples).
  explicit DeviceArray(cuda::DeviceImage image, std::size_t batch = 0)
      : image_(std::make_shared<const cuda::DeviceImage>(std::move(image))), batch_(batch) {}

  std::vector<std::int64_t> dims() const {
    const auto height = static_cast<std::int64_t>(image_->height()), width = static_cast<std::int64_t>(image_->width());
    if (batch_ == 0) return {height, width, image_->samples()};
    const auto n = static_cast<std::int64_t>(batch_);
    return {n, height / n, width, image_->samples()};
  }
  nb::tuple shape() const {
    nb::list out;
    for (const std::int64_t d : dims()) out.append(d);
    return nb::tuple(out);
  }
  std::string dtype() const { return to_string(image_->dtype()); }
  int device() const { return image_->device(); }
  std::uintptr_t data_ptr() const { return reinterpret_cast<std::uintptr_t>(image_->data()); }

  nb::object dlpack(const nb::object& /*stream*/, const nb::object& /*max_version*/, const nb::object& dl_device,
                    const nb::object& copy) const {
    // The pixels were finished before this array existed (read_rect_to_device), so any consumer
    // stream may use them at once: nothing to order on `stream`. `max_version`: the unversioned
    // capsule, which every consumer accepts.
    if (!dl_device.is_none()) {
      const auto wanted = nb::cast<std::pair<int, int>>(dl_device);
      if (wanted != std::pair<int, int>{cuda::kDLCUDA, device()})
        throw nb::buffer_error("tilestream.DeviceArray: the array lives on the CUDA device it was read to");
    }
    if (!copy.is_none() && nb::cast<bool>(copy))
      throw nb::buffer_error("tilestream.DeviceArray: __dlpack__ shares the memory and does not copy");
    auto context = std::make_unique<DlpackExport>();
    context->image = image_;
    const std::vector<std::int64_t> d = dims();
    const auto ndim = static_cast<int>(d.size());
    std::int64_t step = 1;  // rows are packed (DeviceImage), so the strides are C order's
    for (int k = ndim - 1; k >= 0; --k) {
      context->shape[k] = d[static_cast<std::size_t>(k)];
      context->strides[k] = step;
      step *= d[static_cast<std::size_t>(k)];
    }
    cuda::DLTensor& t = context->tensor.dl_tensor;
    t.data = const_cast<std::byte*>(image_->data());  // DLPack has no const; consumers may write
    t.device = {cuda::kDLCUDA, device()};
    t.ndim = ndim;
    t.dtype = cuda::to_dlpack_dtype(image_->dtype());
    t.shape = context->shape;
    t.strides = context->strides;
    context->tensor.manager_ctx = context.get();
    context->tensor.deleter = delete_export;
    PyObject* capsule = PyCapsule_New(&context->tensor, dltensor_name, delete_unused_capsule);
    if (capsule == nullptr) throw nb::python_error();
    context.release();  // the capsule, then its consumer, owns it
    return nb::steal(capsule);
  }

  nb::tuple dlpack_device() const { return nb::make_tuple(static_cast<int>(cuda::kDLCUDA), device()); }

  nb::dict cuda_array_interface() const {
    nb::dict d;
    d["shape"] = shape();
    d["typestr"] = typestr(image_->dtype());
    d["data"] = nb::make_tuple(data_ptr(), false);
    d["version"] = 3;
    d["strides"] = nb::none();  // C order: rows are packed
    d["stream"] = nb::none();  // finished pixels: no synchronisation needed
    return d;
  }

  NumpyArray get() const {
    HostImage host;
    {
      nb::gil_scoped_release release;
      const cuda::DeviceGuard guard(device());
      const cuda::Stream stream;
      host = image_->to_host(stream);
    }
    if (batch_ == 0) return to_numpy(std::move(host));
    return to_numpy_batch(std::move(host), batch_, static_cast<std::size_t>(image_->height()) / batch_);
  }

 private:
  std::shared_ptr<const cuda::DeviceImage> image_;
  std::size_t batch_ = 0;
};

}  // namespace

void bind_device_array(nb::module_& m) {
  nb::class_<DeviceArray>(m, "DeviceArray",
                          "Pixels in GPU memory, (height, width, samples). Zero-copy into CuPy and PyTorch: "
                          "cupy.from_dlpack(a), torch.from_dlpack(a), or anything that reads "
                          "__cuda_array_interface__. The memory is freed when this array and every consumer "
                          "of it are gone.")
      .def_prop_ro("shape", &DeviceArray::shape, "(height, width, samples).")
      .def_prop_ro("dtype", &DeviceArray::dtype, "The sample type's NumPy name (uint8, uint16, float32...).")
      .def_prop_ro("device", &DeviceArray::device, "The CUDA device number.")
      .def_prop_ro("data_ptr", &DeviceArray::data_ptr, "The device address of the first pixel.")
      .def("__dlpack__", &DeviceArray::dlpack, nb::kw_only(), "stream"_a = nb::none(), "max_version"_a = nb::none(),
           "dl_device"_a = nb::none(), "copy"_a = nb::none(),
           "A DLPack capsule sharing the memory (the Python array API's protocol). The pixels are finished, so "
           "any consumer stream may use them at once.")
      .def("__dlpack_device__", &DeviceArray::dlpack_device, "(kDLCUDA, device).")
      .def_prop_ro("__cuda_array_interface__", &DeviceArray::cuda_array_interface,
                   "The CUDA Array Interface (version 3), for Numba, CuPy and others.")
      .def("get", &DeviceArray::get, "A NumPy copy of the pixels in host memory.")
      .def("__repr__", [](const DeviceArray& a) {
        return concat("tilestream.DeviceArray(shape=", nb::cast<std::string>(nb::str(a.shape())), ", dtype=", a.dtype(),
                      ", device=cuda:", a.device(), ")");
      });
}

nb::object read_rect_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t level,
                               const slide::LevelRect& rect, int device, unsigned threads,
                               std::optional<codec::DecodeMode> decode) {
  cuda::DeviceImage image;
  {
    nb::gil_scoped_release release;
    ReaderPool& pool = ReaderPool::instance();
    std::unique_ptr<slide::DeviceReader> reader = pool.take(device, threads, decode);
    image = slide::read_level_rect_to_device(*reader, *slide, level, rect);
    pool.give_back(device, threads, decode, std::move(reader));
  }
  return nb::cast(DeviceArray(std::move(image)));
}

// What a PatchLoader worker thread made of a batch: its pixels in GPU memory, finished.
struct DeviceBatch {
  cuda::DeviceImage image;
};

std::shared_ptr<DeviceBatch> read_patches_to_device(std::span<const SlidePatches> groups, std::size_t level,
                                                    std::uint64_t width, std::uint64_t height, std::size_t count,
                                                    int device, unsigned threads,
                                                    std::optional<codec::DecodeMode> decode) {
  check<UsageError>(!groups.empty() && count > 0, "an empty batch has nothing to put on ", option("device"), " cuda");
  const tiff::ImageInfo& image = groups.front().slide->level(level).image;
  const cuda::DeviceGuard guard(device);
  cuda::check_device_memory({.file = groups.front().slide->path(),
                             .place = concat("level ", level),
                             .what = concat(count, " patches of ", height, " x ", width, " x ", image.samples, " ",
                                            to_string(image.dtype), " on the device"),
                             .bytes = image_bytes(count * height, width, image.samples, image.dtype),
                             .ways_out = {WayOut::region}},
                            device);
  auto out = std::make_shared<DeviceBatch>();
  {
    const cuda::Stream stream;
    out->image = cuda::DeviceImage(count * height, width, image.samples, image.dtype, stream);
    stream.synchronize();  // allocated before the reader's streams use it
    out->image.buffer().set_free_stream(cudaStreamLegacy);  // our stream ends here; the image outlives it
  }
  ReaderPool& pool = ReaderPool::instance();
  std::unique_ptr<slide::DeviceReader> reader = pool.take(device, threads, decode);
  for (const SlidePatches& group : groups)
    reader->read_patches(*group.slide, level, group.corners, width, height, out->image);
  pool.give_back(device, threads, decode, std::move(reader));
  return out;
}

nb::object read_regions_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t level,
                                  std::span<const slide::LevelRect> rects, std::uint64_t width, std::uint64_t height,
                                  int device, unsigned threads, std::optional<codec::DecodeMode> decode) {
  SlidePatches group{std::move(slide), {}};
  group.corners.reserve(rects.size());
  for (std::size_t k = 0; k < rects.size(); ++k)
    group.corners.push_back({rects[k].x, rects[k].y, static_cast<std::uint32_t>(k)});
  std::shared_ptr<DeviceBatch> batch;
  {
    nb::gil_scoped_release release;
    batch = read_patches_to_device({&group, 1}, level, width, height, rects.size(), device, threads, decode);
  }
  return device_batch_array(batch, rects.size());
}

std::shared_ptr<DeviceBatch> copy_batch_to_device(const HostImage& batch, int device) {
  const cuda::DeviceGuard guard(device);
  const cuda::Stream stream;
  auto out = std::make_shared<DeviceBatch>();
  out->image = cuda::DeviceImage(batch.height(), batch.width(), batch.samples(), batch.dtype(), stream);
  cuda::copy_to_device(out->image.buffer(), batch.bytes(), stream);
  stream.synchronize();  // finished for any stream, and before `batch` may go
  out->image.buffer().set_free_stream(cudaStreamLegacy);  // our stream ends here; the image outlives it
  return out;
}

nb::object device_batch_array(const std::shared_ptr<DeviceBatch>& batch, std::size_t n) {
  return nb::cast(DeviceArray(std::move(batch->image), n));
}

nb::object upload_batch(const HostImage& batch, std::size_t n, int device) {
  std::shared_ptr<DeviceBatch> copy;
  {
    nb::gil_scoped_release release;
    copy = copy_batch_to_device(batch, device);
  }
  return device_batch_array(copy, n);
}

#else

// The name exists in every build; without CUDA nothing makes one (read_region(device="cuda") raises).
struct DeviceArrayWithoutCuda {};

void bind_device_array(nb::module_& m) {
  nb::class_<DeviceArrayWithoutCuda>(m, "DeviceArray",
                                     "Pixels in GPU memory; this tilestream was built without CUDA, so none exist.");
}

nb::object read_rect_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t, const slide::LevelRect&, int,
                               unsigned, std::optional<codec::DecodeMode>) {
  throw UsageError(concat(slide->path(), ": ", option("device"), " cuda: this tilestream was built without CUDA"));
}

nb::object upload_batch(const HostImage&, std::size_t, int) {
  throw UsageError(concat(option("device"), " cuda: this tilestream was built without CUDA"));
}

struct DeviceBatch {};

std::shared_ptr<DeviceBatch> read_patches_to_device(std::span<const SlidePatches>, std::size_t, std::uint64_t,
                                                    std::uint64_t, std::size_t, int, unsigned,
                                                    std::optional<codec::DecodeMode>) {
  throw UsageError(concat(option("device"), " cuda: this tilestream was built without CUDA"));
}

nb::object read_regions_to_device(std::shared_ptr<const slide::Slide> slide, std::size_t,
                                  std::span<const slide::LevelRect>, std::uint64_t, std::uint64_t, int, unsigned,
                                  std::optional<codec::DecodeMode>) {
  throw UsageError(concat(slide->path(), ": ", option("device"), " cuda: this tilestream was built without CUDA"));
}

std::shared_ptr<DeviceBatch> copy_batch_to_device(const HostImage&, int) {
  throw UsageError(concat(option("device"), " cuda: this tilestream was built without CUDA"));
}

nb::object device_batch_array(const std::shared_ptr<DeviceBatch>&, std::size_t) {
  throw UsageError(concat(option("device"), " cuda: this tilestream was built without CUDA"));
}

#endif

}  // namespace tilestream::python
