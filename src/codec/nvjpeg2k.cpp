// nvJPEG2000 through dlopen: the library, one handle per device and per-thread batch decoders; see the
// header.
#include "tilestream/codec/nvjpeg2k.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#if TILESTREAM_HAVE_NVJPEG2K_H
#include <nvjpeg2k.h>
#endif

#include "codec/nvjpeg2k_pixels.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/core/shared_library.hpp"
#include "tilestream/cuda/device.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"

namespace tilestream::codec::nvjpeg2k {
namespace {

constexpr const char* cpu_decoder = "CPU (OpenJPEG)";

std::string cpu_hint() { return concat(" (use ", option("decode"), " cpu)"); }

ResolvedDecode on_cpu(DecodeMode mode, const std::string& why) {
  check<UnsupportedError>(mode != DecodeMode::gpu, "GPU JPEG 2000 decoding is not available: ", why, cpu_hint());
  return {false, false, cpu_decoder, mode == DecodeMode::cpu ? std::string("decode cpu was asked for") : why, false, mode};
}

}  // namespace

#if !TILESTREAM_HAVE_NVJPEG2K_H

namespace {
const char* const built_without =
    "tilestream was built without nvjpeg2k.h (rebuild with the nvidia-nvjpeg2k-cu13 wheel in .venv, which "
    "scripts/install-deps.sh installs)";
}

ResolvedDecode resolve_device_decode(DecodeMode mode, int) {
  return on_cpu(mode, mode == DecodeMode::cpu ? std::string() : std::string(built_without));
}

struct BatchDecoder::Impl {};
BatchDecoder::BatchDecoder(int, const ResolvedDecode&) {
  throw UnsupportedError(concat("GPU JPEG 2000 decoding is not available: ", built_without, cpu_hint()));
}
BatchDecoder::~BatchDecoder() = default;
BatchDecoder::BatchDecoder(BatchDecoder&&) noexcept = default;
BatchDecoder& BatchDecoder::operator=(BatchDecoder&&) noexcept = default;
Refused BatchDecoder::decode(std::size_t, std::span<const std::span<const std::byte>>, std::span<const std::uint32_t>,
                             const TileFormat&, std::byte*, const cuda::Stream&) {
  throw UnsupportedError(built_without);
}

#else

namespace {

// The entry points tilestream calls, typed by nvjpeg2k.h.
struct Functions {
  decltype(&nvjpeg2kGetProperty) get_property = nullptr;
  decltype(&nvjpeg2kCreateV2) create_v2 = nullptr;
  decltype(&nvjpeg2kDecodeStateCreate) state_create = nullptr;
  decltype(&nvjpeg2kDecodeStateDestroy) state_destroy = nullptr;
  decltype(&nvjpeg2kStreamCreate) stream_create = nullptr;
  decltype(&nvjpeg2kStreamDestroy) stream_destroy = nullptr;
  decltype(&nvjpeg2kStreamParse) parse = nullptr;
  decltype(&nvjpeg2kStreamGetImageInfo) image_info = nullptr;
  decltype(&nvjpeg2kStreamGetImageComponentInfo) component_info = nullptr;
  decltype(&nvjpeg2kDecode) decode = nullptr;
};

const char* status_name(nvjpeg2kStatus_t status) {
  switch (status) {
    case NVJPEG2K_STATUS_SUCCESS: return "NVJPEG2K_STATUS_SUCCESS";
    case NVJPEG2K_STATUS_NOT_INITIALIZED: return "NVJPEG2K_STATUS_NOT_INITIALIZED";
    case NVJPEG2K_STATUS_INVALID_PARAMETER: return "NVJPEG2K_STATUS_INVALID_PARAMETER";
    case NVJPEG2K_STATUS_BAD_JPEG: return "NVJPEG2K_STATUS_BAD_JPEG";
    case NVJPEG2K_STATUS_JPEG_NOT_SUPPORTED: return "NVJPEG2K_STATUS_JPEG_NOT_SUPPORTED";
    case NVJPEG2K_STATUS_ALLOCATOR_FAILURE: return "NVJPEG2K_STATUS_ALLOCATOR_FAILURE";
    case NVJPEG2K_STATUS_EXECUTION_FAILED: return "NVJPEG2K_STATUS_EXECUTION_FAILED";
    case NVJPEG2K_STATUS_ARCH_MISMATCH: return "NVJPEG2K_STATUS_ARCH_MISMATCH";
    case NVJPEG2K_STATUS_INTERNAL_ERROR: return "NVJPEG2K_STATUS_INTERNAL_ERROR";
    case NVJPEG2K_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "NVJPEG2K_STATUS_IMPLEMENTATION_NOT_SUPPORTED";
    default: return "unknown nvJPEG2000 status";
  }
}

std::string describe(nvjpeg2kStatus_t status) {
  return concat(status_name(status), " (", static_cast<int>(status), ")");
}

// libnvjpeg2k, opened once for the process and never closed (handles made from it live as long).
struct Library {
  std::string file;
  std::string version;
  Functions f;
};

Library open_library(const std::string& file) {
  const SharedLibrary handle(file, "an nvJPEG2000 library");
  Library library;
  library.file = file;
  Functions& f = library.f;
  handle.resolve("nvjpeg2kGetProperty", f.get_property);
  handle.resolve("nvjpeg2kCreateV2", f.create_v2);
  handle.resolve("nvjpeg2kDecodeStateCreate", f.state_create);
  handle.resolve("nvjpeg2kDecodeStateDestroy", f.state_destroy);
  handle.resolve("nvjpeg2kStreamCreate", f.stream_create);
  handle.resolve("nvjpeg2kStreamDestroy", f.stream_destroy);
  handle.resolve("nvjpeg2kStreamParse", f.parse);
  handle.resolve("nvjpeg2kStreamGetImageInfo", f.image_info);
  handle.resolve("nvjpeg2kStreamGetImageComponentInfo", f.component_info);
  handle.resolve("nvjpeg2kDecode", f.decode);
  int major = 0, minor = 0, patch = 0;
  if (f.get_property(MAJOR_VERSION, &major) == NVJPEG2K_STATUS_SUCCESS &&
      f.get_property(MINOR_VERSION, &minor) == NVJPEG2K_STATUS_SUCCESS &&
      f.get_property(PATCH_LEVEL, &patch) == NVJPEG2K_STATUS_SUCCESS) {
    library.version = concat(major, ".", minor, ".", patch);
  }
  return library;
}

// The library, or why it is missing (the first attempt decides for the process).
const Library& library() {
  return load_once<Library>([] {
    return open_first<Library>(default_settings().nvjpeg2k_library, "TILESTREAM_NVJPEG2K_LIBRARY",
                               {"libnvjpeg2k.so.0", "libnvjpeg2k.so"}, "nvJPEG2000",
                               "pip install nvidia-nvjpeg2k-cu13 and set TILESTREAM_NVJPEG2K_LIBRARY to its "
                               "libnvjpeg2k.so.0",
                               open_library);
  });
}

// nvJPEG2000's buffers: device memory from the device's stream-ordered pool (a plain cudaFree waits
// for the whole device, stalling every other lane's work), pinned memory as nvJPEG2000 asks for it
// (it keeps its buffers in its decode states, which live as long as their lane).
int device_malloc(void*, void** pointer, std::size_t size, cudaStream_t stream) {
  return cudaMallocAsync(pointer, size, stream) == cudaSuccess ? 0 : 1;
}
int device_free(void*, void* pointer, std::size_t, cudaStream_t stream) {
  return cudaFreeAsync(pointer, stream) == cudaSuccess ? 0 : 1;
}
int pinned_malloc(void*, void** pointer, std::size_t size, cudaStream_t) {
  return cudaHostAlloc(pointer, size, cudaHostAllocDefault) == cudaSuccess ? 0 : 1;
}
int pinned_free(void*, void* pointer, std::size_t, cudaStream_t) { return cudaFreeHost(pointer) == cudaSuccess ? 0 : 1; }

// One handle per device, made on first use and kept for the life of the process (destroying it at
// exit could run after the CUDA runtime has torn down its contexts).
struct DeviceHandle {
  nvjpeg2kHandle_t handle = nullptr;
  std::string detail;
  std::string error;  // why no handle could be made
};

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
  nvjpeg2kDeviceAllocatorV2_t device_allocator{device_malloc, device_free, nullptr};
  nvjpeg2kPinnedAllocatorV2_t pinned_allocator{pinned_malloc, pinned_free, nullptr};
  const nvjpeg2kStatus_t status =
      lib->f.create_v2(NVJPEG2K_BACKEND_DEFAULT, &device_allocator, &pinned_allocator, &out.handle);
  if (status != NVJPEG2K_STATUS_SUCCESS) {
    out.handle = nullptr;
    out.error = concat(lib->file, ": nvjpeg2kCreateV2 failed: ", describe(status));
    return out;
  }
  out.detail = concat(lib->file, lib->version.empty() ? "" : concat(" ", lib->version),
                      ": one codestream per call, lanes of threads in parallel");
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

// The subsampling step of a component of `size` pixels for a tile of `full` pixels: the CPU decoder
// reads component pixel x / step for tile pixel x, where the step divides the tile (1, 2 or 4; 0 when
// none fits, and the CPU decoder names the mismatch).
std::uint32_t component_step(std::uint32_t full, std::uint32_t size) {
  for (const std::uint32_t step : {1u, 2u, 4u}) {
    if (std::uint64_t{size} * step == full) return step;
  }
  return 0;
}

}  // namespace

ResolvedDecode resolve_device_decode(DecodeMode mode, int device) {
  if (mode == DecodeMode::cpu) return on_cpu(mode, "");
  const DeviceHandle& h = device_handle(device);
  if (h.handle == nullptr) return on_cpu(mode, h.error);
  return {true, false, "nvJPEG2000", h.detail, mode == DecodeMode::automatic, mode};
}

// Decode states a lane cycles through when TILESTREAM_NVJPEG2K_STATES is unset. A first version queued
// a batch's codestreams back to back on one state, their image descriptors on the stack, and most
// tiles came out wrong on the H200 (2026-12-04); each state now takes its next codestream only once the
// GPU has run its last one (its event), and the descriptors live until the slot is reused, and the
// tiles equal the CPU's. Several states let the thread parse and queue ahead while the GPU decodes.
constexpr unsigned default_states = 4;

struct BatchDecoder::Impl {
  // What one batch slot keeps until the caller reuses it: everything nvJPEG2000 may still read.
  struct Slot {
    std::vector<nvjpeg2kStream_t> streams;  // one per codestream of a batch: parsed, then decoded
    std::vector<std::array<void*, 4>> data;  // each decode's component pointers and pitches
    std::vector<std::array<std::size_t, 4>> pitches;
    cuda::DeviceBuffer planes;               // the batch's decoded components
    cuda::DeviceBuffer tiles;                // tile numbers of the decoded streams, for the kernel
    std::vector<std::uint32_t> tile_numbers;  // their host copy
  };
  struct State {
    nvjpeg2kDecodeState_t state = nullptr;
    cuda::Event done;  // recorded after its last decode
    bool pending = false;
  };
  int device = 0;
  const Functions* f = nullptr;
  nvjpeg2kHandle_t handle = nullptr;
  std::array<Slot, 2> slots;
  std::vector<State> states;
  std::size_t next_state = 0;

  ~Impl() {
    if (f == nullptr) return;
    const cuda::DeviceGuard guard(device);
    for (State& s : states) {
      if (s.pending) (void)cudaEventSynchronize(s.done.get());
      if (s.state != nullptr) (void)f->state_destroy(s.state);
    }
    for (Slot& s : slots)
      for (nvjpeg2kStream_t stream : s.streams) (void)f->stream_destroy(stream);
  }
};

BatchDecoder::BatchDecoder(int device, const ResolvedDecode& decode) {
  check<UnsupportedError>(decode.gpu, "GPU JPEG 2000 decoding was not chosen for this run: ", decode.detail);
  const DeviceHandle& h = device_handle(device);
  check<UnsupportedError>(h.handle != nullptr, "GPU JPEG 2000 decoding is not available: ", h.error, cpu_hint());
  impl_ = std::make_unique<Impl>();
  impl_->device = device;
  impl_->f = &library().f;
  impl_->handle = h.handle;
  const cuda::DeviceGuard guard(device);
  const unsigned states = default_settings().nvjpeg2k_states != 0 ? default_settings().nvjpeg2k_states : default_states;
  impl_->states.resize(states);
  for (Impl::State& s : impl_->states) {
    const nvjpeg2kStatus_t status = impl_->f->state_create(h.handle, &s.state);
    check<CudaError>(status == NVJPEG2K_STATUS_SUCCESS, "nvjpeg2kDecodeStateCreate failed: ", describe(status));
  }
}

BatchDecoder::~BatchDecoder() = default;
BatchDecoder::BatchDecoder(BatchDecoder&&) noexcept = default;
BatchDecoder& BatchDecoder::operator=(BatchDecoder&&) noexcept = default;

Refused BatchDecoder::decode(std::size_t slot, std::span<const std::span<const std::byte>> streams,
                             std::span<const std::uint32_t> tiles, const TileFormat& format, std::byte* out,
                             const cuda::Stream& stream) {
  check<UsageError>(slot < impl_->slots.size(), "nvjpeg2k::BatchDecoder::decode: slot ", slot, " of 2");
  check<UsageError>(streams.size() == tiles.size(), "nvjpeg2k::BatchDecoder::decode: ", streams.size(),
                    " streams for ", tiles.size(), " tiles");
  check<UsageError>(format.samples >= 1 && format.samples <= 4 &&
                        (format.dtype == DType::uint8 || format.dtype == DType::uint16) &&
                        (!format.aperio_ycbcr || (format.samples == 3 && format.dtype == DType::uint8)),
                    "nvjpeg2k::BatchDecoder::decode: ", format.samples, " ", to_string(format.dtype), " samples",
                    format.aperio_ycbcr ? " as Aperio YCbCr" : "", " (1 to 4 of uint8 or uint16; YCbCr: 3 uint8)");
  Refused refused;
  if (streams.empty()) return refused;
  Impl& m = *impl_;
  Impl::Slot& s = m.slots[slot];
  const cuda::DeviceGuard guard(m.device);

  PlaneLayout layout;
  layout.width = format.width;
  layout.height = format.height;
  layout.samples = format.samples;
  layout.sample_bytes = static_cast<std::uint32_t>(bytes_per_sample(format.dtype));
  layout.aperio_ycbcr = format.aperio_ycbcr;
  const std::size_t pitch = std::size_t{format.width} * layout.sample_bytes;
  const std::size_t plane_bytes = pitch * format.height;
  layout.stream_bytes = plane_bytes * format.samples;
  for (std::uint32_t c = 0; c < format.samples; ++c) {
    layout.offset[c] = c * plane_bytes;
    layout.pitch[c] = pitch;
  }
  if (s.planes.size() < streams.size() * layout.stream_bytes) {
    s.planes = cuda::DeviceBuffer(streams.size() * layout.stream_bytes, stream);
    s.planes.set_free_stream(cudaStreamLegacy);  // the caller's stream may go before this decoder
  }
  if (s.tiles.size() < tiles.size_bytes()) {
    s.tiles = cuda::DeviceBuffer(tiles.size_bytes(), stream);
    s.tiles.set_free_stream(cudaStreamLegacy);
  }
  while (s.streams.size() < streams.size()) {
    nvjpeg2kStream_t handle = nullptr;
    const nvjpeg2kStatus_t status = m.f->stream_create(&handle);
    check<CudaError>(status == NVJPEG2K_STATUS_SUCCESS, "nvjpeg2kStreamCreate failed: ", describe(status));
    s.streams.push_back(handle);
  }

  const unsigned precision = 8 * layout.sample_bytes;
  bool steps_known = false;
  auto refuse = [&](std::size_t j, const std::string& why) {
    refused.streams.push_back(static_cast<std::uint32_t>(j));
    if (refused.reason.empty()) refused.reason = why;
  };
  s.tile_numbers.clear();
  s.data.resize(streams.size());
  s.pitches.resize(streams.size());
  for (std::size_t j = 0; j < streams.size(); ++j) {
    nvjpeg2kStream_t parsed = s.streams[j];
    nvjpeg2kStatus_t status = m.f->parse(m.handle, reinterpret_cast<const unsigned char*>(streams[j].data()),
                                         streams[j].size(), 0, 0, parsed);
    if (status != NVJPEG2K_STATUS_SUCCESS) {
      refuse(j, concat("nvjpeg2kStreamParse: ", describe(status)));
      continue;
    }
    nvjpeg2kImageInfo_t info{};
    status = m.f->image_info(parsed, &info);
    if (status != NVJPEG2K_STATUS_SUCCESS) {
      refuse(j, concat("nvjpeg2kStreamGetImageInfo: ", describe(status)));
      continue;
    }
    if (info.num_components != format.samples || info.image_width != format.width ||
        info.image_height != format.height) {
      refuse(j, concat("a ", info.image_width, " x ", info.image_height, " codestream of ", info.num_components,
                       " components for a ", format.width, " x ", format.height, " tile of ", format.samples,
                       " samples"));
      continue;
    }
    std::array<std::uint32_t, 4> step_x{}, step_y{};
    std::string why;
    for (std::uint32_t c = 0; c < format.samples && why.empty(); ++c) {
      nvjpeg2kImageComponentInfo_t component{};
      status = m.f->component_info(parsed, &component, c);
      if (status != NVJPEG2K_STATUS_SUCCESS) {
        why = concat("nvjpeg2kStreamGetImageComponentInfo: ", describe(status));
      } else if (component.precision != precision || component.sgn != 0) {
        why = concat("component ", c, " has ", unsigned{component.precision}, "-bit ",
                     component.sgn != 0 ? "signed" : "unsigned", " samples, not ", precision, "-bit unsigned");
      } else {
        step_x[c] = component_step(format.width, component.component_width);
        step_y[c] = component_step(format.height, component.component_height);
        if (step_x[c] == 0 || step_y[c] == 0) {
          why = concat("component ", c, " is ", component.component_width, " x ", component.component_height,
                       ", not the tile divided by 1, 2 or 4");
        }
      }
    }
    if (why.empty() && steps_known) {
      for (std::uint32_t c = 0; c < format.samples; ++c) {
        if (step_x[c] != layout.step_x[c] || step_y[c] != layout.step_y[c]) {
          why = "component subsampling differs from the batch's first tile";
        }
      }
    }
    if (!why.empty()) {
      refuse(j, why);
      continue;
    }
    const std::size_t k = s.tile_numbers.size();  // the stream's planes in the batch's buffer
    std::array<void*, 4>& data = s.data[j];
    std::array<std::size_t, 4>& pitches = s.pitches[j];
    for (std::uint32_t c = 0; c < format.samples; ++c) {
      data[c] = s.planes.data() + k * layout.stream_bytes + layout.offset[c];
      pitches[c] = pitch;
    }
    nvjpeg2kImage_t image{data.data(), pitches.data(), format.dtype == DType::uint16 ? NVJPEG2K_UINT16 : NVJPEG2K_UINT8,
                          format.samples};
    Impl::State& state = m.states[m.next_state++ % m.states.size()];
    if (state.pending) state.done.synchronize();
    state.pending = false;
    status = m.f->decode(m.handle, state.state, parsed, &image, stream.get());
    if (status == NVJPEG2K_STATUS_SUCCESS) {
      state.done.record(stream);
      state.pending = true;
    }
    if (status != NVJPEG2K_STATUS_SUCCESS) {
      refuse(j, concat("nvjpeg2kDecode: ", describe(status)));
      continue;
    }
    if (!steps_known) {
      std::copy(step_x.begin(), step_x.end(), layout.step_x);
      std::copy(step_y.begin(), step_y.end(), layout.step_y);
      steps_known = true;
    }
    s.tile_numbers.push_back(tiles[j]);
  }
  if (!s.tile_numbers.empty()) {
    cuda::check_cuda(cudaMemcpyAsync(s.tiles.data(), s.tile_numbers.data(),
                                     s.tile_numbers.size() * sizeof(std::uint32_t), cudaMemcpyHostToDevice,
                                     stream.get()),
                     "cudaMemcpyAsync(tile numbers to device)");
    interleave_planes(s.planes.data(), layout, reinterpret_cast<const std::uint32_t*>(s.tiles.data()),
                      s.tile_numbers.size(), out, stream.get());
  }
  return refused;
}

#endif  // TILESTREAM_HAVE_NVJPEG2K_H

}  // namespace tilestream::codec::nvjpeg2k
