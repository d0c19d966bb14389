// nvJPEG through dlopen: the library, one handle per device (hardware backend where it can be made),
// and per-thread batched decoders; see the header.
#include "tilestream/codec/nvjpeg.hpp"

#include <cuda_runtime_api.h>

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#if TILESTREAM_HAVE_NVJPEG_H
#include <nvjpeg.h>
#endif

#include "codec/nvjpeg_planes.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/shared_library.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::codec::nvjpeg {
namespace {

constexpr const char* cpu_decoder = "CPU (libjpeg-turbo)";

std::string cpu_hint() { return concat(" (use ", option("decode"), " cpu)"); }

// The CPU, for `mode` (auto or cpu), because of `why`; gpu throws `why` instead.
ResolvedDecode on_cpu(DecodeMode mode, const std::string& why) {
  check<UnsupportedError>(mode != DecodeMode::gpu, "GPU JPEG decoding is not available: ", why, cpu_hint());
  return {false, false, cpu_decoder, mode == DecodeMode::cpu ? std::string("decode cpu was asked for") : why, false, mode};
}

}  // namespace

#if !TILESTREAM_HAVE_NVJPEG_H

namespace {
const char* const built_without =
    "tilestream was built without nvjpeg.h (rebuild with the CUDA toolkit's nvJPEG headers or the "
    "nvidia-nvjpeg wheel in .venv)";
}

ResolvedDecode resolve_device_decode(DecodeMode mode, int) {
  if (mode == DecodeMode::cpu) return on_cpu(mode, "");
  return on_cpu(mode, built_without);
}

struct BatchDecoder::Impl {};
BatchDecoder::BatchDecoder(int, const ResolvedDecode&) {
  throw UnsupportedError(concat("GPU JPEG decoding is not available: ", built_without, cpu_hint()));
}
BatchDecoder::~BatchDecoder() = default;
BatchDecoder::BatchDecoder(BatchDecoder&&) noexcept = default;
BatchDecoder& BatchDecoder::operator=(BatchDecoder&&) noexcept = default;
std::string BatchDecoder::decode(std::size_t, std::span<const std::span<const std::byte>>,
                                 std::span<const std::uint32_t>, const TileFormat&, std::byte*, const cuda::Stream&) {
  throw UnsupportedError(built_without);
}

#else

namespace {

// The entry points tilestream calls, typed by nvjpeg.h.
struct Functions {
  decltype(&nvjpegGetProperty) get_property = nullptr;
  decltype(&nvjpegCreateEx) create_ex = nullptr;
  decltype(&nvjpegCreateExV2) create_ex_v2 = nullptr;  // absent from older libraries: then create_ex
  decltype(&nvjpegGetHardwareDecoderInfo) hardware_info = nullptr;
  decltype(&nvjpegJpegStateCreate) state_create = nullptr;
  decltype(&nvjpegJpegStateDestroy) state_destroy = nullptr;
  decltype(&nvjpegDecodeBatchedInitialize) batched_initialize = nullptr;
  decltype(&nvjpegDecodeBatched) batched = nullptr;
};

const char* status_name(nvjpegStatus_t status) {
  switch (status) {
    case NVJPEG_STATUS_SUCCESS: return "NVJPEG_STATUS_SUCCESS";
    case NVJPEG_STATUS_NOT_INITIALIZED: return "NVJPEG_STATUS_NOT_INITIALIZED";
    case NVJPEG_STATUS_INVALID_PARAMETER: return "NVJPEG_STATUS_INVALID_PARAMETER";
    case NVJPEG_STATUS_BAD_JPEG: return "NVJPEG_STATUS_BAD_JPEG";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "NVJPEG_STATUS_JPEG_NOT_SUPPORTED";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "NVJPEG_STATUS_ALLOCATOR_FAILURE";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "NVJPEG_STATUS_EXECUTION_FAILED";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "NVJPEG_STATUS_ARCH_MISMATCH";
    case NVJPEG_STATUS_INTERNAL_ERROR: return "NVJPEG_STATUS_INTERNAL_ERROR";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "NVJPEG_STATUS_INCOMPLETE_BITSTREAM";
    default: return "unknown nvJPEG status";
  }
}

std::string describe(nvjpegStatus_t status) { return concat(status_name(status), " (", static_cast<int>(status), ")"); }

// libnvjpeg, opened once for the process and never closed (handles made from it live as long).
struct Library {
  std::string file;
  std::string version;
  Functions f;
};

Library open_library(const std::string& file) {
  const SharedLibrary handle(file, "an nvJPEG library");
  Library library;
  library.file = file;
  Functions& f = library.f;
  handle.resolve("nvjpegGetProperty", f.get_property);
  handle.resolve("nvjpegCreateEx", f.create_ex);
  f.create_ex_v2 = reinterpret_cast<decltype(&nvjpegCreateExV2)>(handle.find("nvjpegCreateExV2"));
  handle.resolve("nvjpegGetHardwareDecoderInfo", f.hardware_info);
  handle.resolve("nvjpegJpegStateCreate", f.state_create);
  handle.resolve("nvjpegJpegStateDestroy", f.state_destroy);
  handle.resolve("nvjpegDecodeBatchedInitialize", f.batched_initialize);
  handle.resolve("nvjpegDecodeBatched", f.batched);
  int major = 0, minor = 0, patch = 0;
  if (f.get_property(MAJOR_VERSION, &major) == NVJPEG_STATUS_SUCCESS &&
      f.get_property(MINOR_VERSION, &minor) == NVJPEG_STATUS_SUCCESS &&
      f.get_property(PATCH_LEVEL, &patch) == NVJPEG_STATUS_SUCCESS) {
    library.version = concat(major, ".", minor, ".", patch);
  }
  return library;
}

// The library, or why it is missing (the first attempt decides for the process).
const Library& library() {
  return load_once<Library>([] {
    return open_first<Library>(default_settings().nvjpeg_library, "TILESTREAM_NVJPEG_LIBRARY",
                               {"libnvjpeg.so.13", "libnvjpeg.so"}, "nvJPEG",
                               "install the CUDA toolkit's nvJPEG, or pip install nvidia-nvjpeg and set "
                               "TILESTREAM_NVJPEG_LIBRARY to its libnvjpeg.so.13",
                               open_library);
  });
}

// One handle per device, made on first use and kept for the life of the process: destroying it at
// exit could run after the CUDA runtime has torn down its contexts.
struct DeviceHandle {
  nvjpegHandle_t handle = nullptr;
  bool hardware = false;
  bool interpolated = false;  // NVJPEG_FLAGS_UPSAMPLING_WITH_INTERPOLATION took
  std::string decoder;
  std::string detail;
  std::string error;  // why no handle could be made
};

// A handle of `backend`, upsampling chroma by interpolation (as libjpeg's "fancy upsampling" does,
// which keeps 4:2:2 and 4:2:0 within a few levels of libjpeg at colour edges) where nvJPEG offers it.
// nvJPEG's buffers, stream-ordered. Its default allocators are cudaMalloc / cudaFree and cudaHostAlloc /
// cudaFreeHost; the frees wait for the whole device, so every state that grows its buffers (a batch
// larger than its last) stalled every other stream's work: tiled GPU conversions, where 16 workers
// decode small batches at once, ran several times slower than one reader (bench/results/decode_2026-12-04.md).
// Device buffers come from the device's stream-ordered pool instead; pinned buffers are kept for reuse
// once the work of the stream they were freed on has finished (pinning pages is slow, and the total is
// bounded by what nvJPEG held at most).
int device_malloc(void*, void** pointer, std::size_t size, cudaStream_t stream) {
  return cudaMallocAsync(pointer, size, stream) == cudaSuccess ? 0 : 1;
}
int device_free(void*, void* pointer, std::size_t, cudaStream_t stream) {
  return cudaFreeAsync(pointer, stream) == cudaSuccess ? 0 : 1;
}

class PinnedCache {
 public:
  int allocate(void** pointer, std::size_t size) {
    {
      const std::lock_guard lock(mutex_);
      // The smallest free block that holds `size` (and wastes at most as much again) whose stream is done.
      auto best = free_.end();
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->size < size || it->size > 2 * size + (64u << 10)) continue;
        if (best != free_.end() && best->size <= it->size) continue;
        if (cudaEventQuery(it->freed) != cudaSuccess) continue;
        best = it;
      }
      if (best != free_.end()) {
        *pointer = best->pointer;
        (void)cudaEventDestroy(best->freed);
        sizes_[best->pointer] = best->size;
        free_.erase(best);
        return 0;
      }
    }
    if (cudaHostAlloc(pointer, size, cudaHostAllocDefault) != cudaSuccess) return 1;
    const std::lock_guard lock(mutex_);
    sizes_[*pointer] = size;
    return 0;
  }
  int release(void* pointer, cudaStream_t stream) {
    cudaEvent_t freed = nullptr;
    if (cudaEventCreateWithFlags(&freed, cudaEventDisableTiming) != cudaSuccess) return 1;
    if (cudaEventRecord(freed, stream) != cudaSuccess) {
      (void)cudaEventDestroy(freed);
      return 1;
    }
    const std::lock_guard lock(mutex_);
    const auto found = sizes_.find(pointer);
    if (found == sizes_.end()) {
      (void)cudaEventDestroy(freed);
      return 1;
    }
    free_.push_back({pointer, found->second, freed});
    sizes_.erase(found);
    return 0;
  }

 private:
  struct Block {
    void* pointer = nullptr;
    std::size_t size = 0;
    cudaEvent_t freed = nullptr;  // recorded on the stream it was freed on
  };
  std::mutex mutex_;
  std::vector<Block> free_;
  std::map<void*, std::size_t> sizes_;  // blocks handed out, by address
};

PinnedCache& pinned_cache() {
  static PinnedCache* cache = new PinnedCache;  // never destroyed: nvJPEG handles live to the exit
  return *cache;
}
int pinned_malloc(void*, void** pointer, std::size_t size, cudaStream_t) { return pinned_cache().allocate(pointer, size); }
int pinned_free(void*, void* pointer, std::size_t, cudaStream_t stream) { return pinned_cache().release(pointer, stream); }

nvjpegStatus_t create_handle(const Library& lib, nvjpegBackend_t backend, unsigned flags, nvjpegHandle_t* handle) {
  if (lib.f.create_ex_v2 != nullptr) {
    nvjpegDevAllocatorV2_t device{device_malloc, device_free, nullptr};
    nvjpegPinnedAllocatorV2_t pinned{pinned_malloc, pinned_free, nullptr};
    return lib.f.create_ex_v2(backend, &device, &pinned, flags, handle);
  }
  return lib.f.create_ex(backend, nullptr, nullptr, flags, handle);
}

nvjpegStatus_t create(const Library& lib, nvjpegBackend_t backend, DeviceHandle& out) {
  out.handle = nullptr;
  nvjpegStatus_t status = create_handle(lib, backend, NVJPEG_FLAGS_UPSAMPLING_WITH_INTERPOLATION, &out.handle);
  out.interpolated = status == NVJPEG_STATUS_SUCCESS;
  if (status != NVJPEG_STATUS_SUCCESS) {
    out.handle = nullptr;
    status = create_handle(lib, backend, 0, &out.handle);
  }
  return status;
}

DeviceHandle make_handle(int device) {
  DeviceHandle out;
  const Library* lib = nullptr;
  try {
    lib = &library();
  } catch (const UnsupportedError& e) {
    out.error = e.what();
    return out;
  }
  if (cuda::device_count() == 0) {
    out.error = concat("no CUDA device (", cuda::no_device_reason(), ")");
    return out;
  }
  const cuda::DeviceGuard guard(device);
  const std::string& wanted = default_settings().nvjpeg_backend;
  const std::string where = concat(lib->file, lib->version.empty() ? "" : concat(" ", lib->version));
  std::string hardware_status;
  // The CUDA backend unless the hardware decoder is asked for: on the H200 (2026-12-03,
  // bench/results/nvjpeg_2026-12-03.md) it decoded the seed-size slide faster (0.081 s against 0.118 s
  // at best), and the hardware decoder's batches failed with NVJPEG_STATUS_ALLOCATOR_FAILURE when
  // several threads decoded at once (those tiles then went to the CPU).
  if (wanted == "hardware") {
    const nvjpegStatus_t status = create(*lib, NVJPEG_BACKEND_HARDWARE, out);
    if (status == NVJPEG_STATUS_SUCCESS) {
      unsigned engines = 0, cores = 0;
      const bool known = lib->f.hardware_info(out.handle, &engines, &cores) == NVJPEG_STATUS_SUCCESS;
      out.hardware = true;
      out.decoder = "nvJPEG hardware decoder";
      out.detail = concat(where, ": the GPU's hardware JPEG decoder",
                          known ? concat(" (", engines, " engines x ", cores, " cores)") : std::string(),
                          out.interpolated ? ", chroma upsampled by interpolation" : "");
      return out;
    }
    out.handle = nullptr;
    hardware_status = concat("no hardware JPEG decoder (", describe(status), ")");
    if (wanted == "hardware") {
      out.error = concat("TILESTREAM_NVJPEG_BACKEND=hardware, but ", hardware_status);
      return out;
    }
  }
  const nvjpegStatus_t status = create(*lib, NVJPEG_BACKEND_GPU_HYBRID, out);
  if (status != NVJPEG_STATUS_SUCCESS) {
    out.handle = nullptr;
    out.error = concat(where, ": nvjpegCreateEx failed: ", describe(status));
    return out;
  }
  out.decoder = "nvJPEG CUDA backend";
  out.detail = concat(where, ": GPU-assisted Huffman decoding and CUDA IDCT",
                      out.interpolated ? ", chroma upsampled by interpolation" : "",
                      wanted == "cuda" ? " (TILESTREAM_NVJPEG_BACKEND=cuda)"
                                       : " (the default; TILESTREAM_NVJPEG_BACKEND=hardware picks the hardware decoder)");
  return out;
}

const DeviceHandle& device_handle(int device) {
  static std::mutex mutex;
  static std::map<int, DeviceHandle> handles;
  const std::lock_guard lock(mutex);
  auto found = handles.find(device);
  if (found == handles.end()) found = handles.emplace(device, make_handle(device)).first;
  return found->second;
}

nvjpegOutputFormat_t output_format(const TileFormat& format) {
  if (format.samples == 1) return NVJPEG_OUTPUT_Y;
  return format.rgb_components ? NVJPEG_OUTPUT_UNCHANGED : NVJPEG_OUTPUT_RGBI;
}

}  // namespace

ResolvedDecode resolve_device_decode(DecodeMode mode, int device) {
  if (mode == DecodeMode::cpu) return on_cpu(mode, "");
  const DeviceHandle& h = device_handle(device);
  if (h.handle == nullptr) return on_cpu(mode, h.error);
  return {true, h.hardware, h.decoder, h.detail, mode == DecodeMode::automatic, mode};
}

struct BatchDecoder::Impl {
  struct State {
    nvjpegJpegState_t state = nullptr;
    int batch = 0;  // the batch size and format it was initialised for
    nvjpegOutputFormat_t format = NVJPEG_OUTPUT_UNCHANGED;
    std::vector<const unsigned char*> data;
    std::vector<std::size_t> lengths;
    std::vector<nvjpegImage_t> images;
    cuda::DeviceBuffer planes;  // unchanged RGB components, three planes per stream
    cuda::DeviceBuffer tiles;   // the streams' tile numbers, for the interleaving kernel
    bool warm = false;          // a batch has been decoded with it
  };
  int device = 0;
  const Functions* f = nullptr;
  nvjpegHandle_t handle = nullptr;
  std::array<State, 2> states;
  bool hardware = false;  // the hardware decoder: first batches one at a time (decode_batch)

  ~Impl() {
    if (f == nullptr) return;
    const cuda::DeviceGuard guard(device);
    for (State& s : states)
      if (s.state != nullptr) (void)f->state_destroy(s.state);
  }
};

namespace {

// Under the hardware decoder a state's first batches run one at a time across the process: nvJPEG
// allocates its buffers then, and first batches of several threads at once failed with
// NVJPEG_STATUS_ALLOCATOR_FAILURE on the H200's hardware decoder (2026-12-03). The CUDA backend's
// ran together without failing, and serialising them cost a pyramid's conversion seconds.
std::mutex& first_batch_mutex() {
  static std::mutex mutex;
  return mutex;
}

nvjpegStatus_t decode_batch(BatchDecoder::Impl& m, BatchDecoder::Impl::State& s, const cuda::Stream& stream) {
  std::unique_lock<std::mutex> lock;
  if (!s.warm && m.hardware) lock = std::unique_lock(first_batch_mutex());
  const nvjpegStatus_t status =
      m.f->batched(m.handle, s.state, s.data.data(), s.lengths.data(), s.images.data(), stream.get());
  if (status == NVJPEG_STATUS_SUCCESS && !s.warm) {
    // Its allocations are made once the work it queued has run.
    cuda::check_cuda(cudaStreamSynchronize(stream.get()), "cudaStreamSynchronize(first nvJPEG batch)");
    s.warm = true;
  }
  return status;
}

}  // namespace

BatchDecoder::BatchDecoder(int device, const ResolvedDecode& decode) {
  check<UnsupportedError>(decode.gpu, "GPU JPEG decoding was not chosen for this run: ", decode.detail);
  const DeviceHandle& h = device_handle(device);
  check<UnsupportedError>(h.handle != nullptr, "GPU JPEG decoding is not available: ", h.error, cpu_hint());
  impl_ = std::make_unique<Impl>();
  impl_->device = device;
  impl_->hardware = h.hardware;
  impl_->f = &library().f;
  impl_->handle = h.handle;
  const cuda::DeviceGuard guard(device);
  for (Impl::State& s : impl_->states) {
    const nvjpegStatus_t status = impl_->f->state_create(h.handle, &s.state);
    check<CudaError>(status == NVJPEG_STATUS_SUCCESS, "nvjpegJpegStateCreate failed: ", describe(status));
  }
}

BatchDecoder::~BatchDecoder() = default;
BatchDecoder::BatchDecoder(BatchDecoder&&) noexcept = default;
BatchDecoder& BatchDecoder::operator=(BatchDecoder&&) noexcept = default;

std::string BatchDecoder::decode(std::size_t slot, std::span<const std::span<const std::byte>> streams,
                                 std::span<const std::uint32_t> tiles, const TileFormat& format, std::byte* out,
                                 const cuda::Stream& stream) {
  check<UsageError>(slot < impl_->states.size(), "BatchDecoder::decode: slot ", slot, " of 2");
  check<UsageError>(streams.size() == tiles.size(), "BatchDecoder::decode: ", streams.size(), " streams for ",
                    tiles.size(), " tiles");
  check<UsageError>(format.samples == 1 || format.samples == 3, "BatchDecoder::decode: ", format.samples,
                    " samples per pixel (1 or 3)");
  if (streams.empty()) return {};
  Impl& m = *impl_;
  Impl::State& s = m.states[slot];
  const int count = static_cast<int>(streams.size());
  const nvjpegOutputFormat_t wanted = output_format(format);
  if (s.batch != count || s.format != wanted) {
    const nvjpegStatus_t status = m.f->batched_initialize(m.handle, s.state, count, 1, wanted);
    if (status != NVJPEG_STATUS_SUCCESS) {
      s.batch = 0;
      return concat("nvjpegDecodeBatchedInitialize: ", describe(status));
    }
    s.batch = count;
    s.format = wanted;
  }
  const std::size_t plane = std::size_t{format.width} * format.height;
  if (format.rgb_components && format.samples == 3) {
    const std::size_t bytes = streams.size() * 3 * plane;
    if (s.planes.size() < bytes) {
      s.planes = cuda::DeviceBuffer(bytes, stream);
      s.planes.set_free_stream(cudaStreamLegacy);  // the caller's stream may go before this decoder
    }
    if (s.tiles.size() < tiles.size_bytes()) {
      s.tiles = cuda::DeviceBuffer(tiles.size_bytes(), stream);
      s.tiles.set_free_stream(cudaStreamLegacy);
    }
  }
  s.data.resize(streams.size());
  s.lengths.resize(streams.size());
  s.images.assign(streams.size(), nvjpegImage_t{});
  for (std::size_t j = 0; j < streams.size(); ++j) {
    s.data[j] = reinterpret_cast<const unsigned char*>(streams[j].data());
    s.lengths[j] = streams[j].size();
    nvjpegImage_t& image = s.images[j];
    if (wanted == NVJPEG_OUTPUT_UNCHANGED) {
      for (std::size_t c = 0; c < 3; ++c) {
        image.channel[c] = reinterpret_cast<unsigned char*>(s.planes.data() + (3 * j + c) * plane);
        image.pitch[c] = format.width;
      }
    } else {
      image.channel[0] = reinterpret_cast<unsigned char*>(out + std::size_t{tiles[j]} * format.bytes());
      image.pitch[0] = std::size_t{format.width} * format.samples;
    }
  }
  const cuda::DeviceGuard guard(m.device);
  nvjpegStatus_t status = decode_batch(m, s, stream);
  if (status == NVJPEG_STATUS_ALLOCATOR_FAILURE) {
    // Once more after re-initialising the state, as a first batch (alone on the handle).
    s.warm = false;
    status = m.f->batched_initialize(m.handle, s.state, count, 1, wanted);
    if (status == NVJPEG_STATUS_SUCCESS) status = decode_batch(m, s, stream);
  }
  if (status != NVJPEG_STATUS_SUCCESS) {
    s.batch = 0;  // re-initialised before its next use, as nvJPEG asks after a failed batch
    return concat("nvjpegDecodeBatched: ", describe(status));
  }
  if (wanted == NVJPEG_OUTPUT_UNCHANGED) {
    cuda::check_cuda(cudaMemcpyAsync(s.tiles.data(), tiles.data(), tiles.size_bytes(), cudaMemcpyHostToDevice,
                                     stream.get()),
                     "cudaMemcpyAsync(tile numbers to device)");
    interleave_rgb_planes(s.planes.data(), reinterpret_cast<const std::uint32_t*>(s.tiles.data()), tiles.size(),
                          plane, out, stream.get());
  }
  return {};
}

#endif  // TILESTREAM_HAVE_NVJPEG_H

}  // namespace tilestream::codec::nvjpeg
