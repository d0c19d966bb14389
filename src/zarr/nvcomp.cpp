// nvCOMP reached through dlopen: the library, loaded once per process, and its batched low-level
// compressors (zstd, LZ4, gzip). nvcomp.h types stay in this file; built without nvcomp.h
// (TILESTREAM_HAVE_NVCOMP_H unset), every entry point throws UnsupportedError.
#include "zarr/nvcomp.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

#if TILESTREAM_HAVE_NVCOMP_H
#include <nvcomp.h>
#endif

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::zarr::nvcomp {
namespace {

constexpr const char* install_hint = "pip install nvidia-libnvcomp-cu13 or set TILESTREAM_NVCOMP_LIBRARY";

[[maybe_unused]] std::string built_without_header() {
  return concat("tilestream was built without nvcomp.h, so GPU chunk compression (nvCOMP) is not "
                "available; rebuild with the nvidia-libnvcomp-cu13 wheel in .venv (scripts/install-deps.sh) "
                "or nvCOMP in the CUDA toolkit");
}

}  // namespace

const char* algorithm_name(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::zstd:
      return "zstd";
    case Algorithm::lz4:
      return "lz4";
    case Algorithm::gzip:
      return "gzip";
  }
  return "?";
}

#if TILESTREAM_HAVE_NVCOMP_H

static_assert(sizeof(nvcompStatus_t) == sizeof(std::int32_t), "statuses travel as int32 arrays");

// The entry points tilestream calls, typed by nvcomp.h.
struct Library::Functions {
  decltype(&nvcompGetProperties) get_properties = nullptr;
  decltype(&nvcompGetStatusString) status_string = nullptr;
  decltype(&nvcompBatchedZstdCompressGetRequiredAlignments) zstd_alignments = nullptr;
  decltype(&nvcompBatchedZstdCompressGetTempSize) zstd_temp_size = nullptr;
  decltype(&nvcompBatchedZstdCompressGetMaxOutputChunkSize) zstd_max_output = nullptr;
  decltype(&nvcompBatchedZstdCompressAsync) zstd_compress = nullptr;
  decltype(&nvcompBatchedLZ4CompressGetRequiredAlignments) lz4_alignments = nullptr;
  decltype(&nvcompBatchedLZ4CompressGetTempSize) lz4_temp_size = nullptr;
  decltype(&nvcompBatchedLZ4CompressGetMaxOutputChunkSize) lz4_max_output = nullptr;
  decltype(&nvcompBatchedLZ4CompressAsync) lz4_compress = nullptr;
  decltype(&nvcompBatchedGzipCompressGetRequiredAlignments) gzip_alignments = nullptr;
  decltype(&nvcompBatchedGzipCompressGetTempSize) gzip_temp_size = nullptr;
  decltype(&nvcompBatchedGzipCompressGetMaxOutputChunkSize) gzip_max_output = nullptr;
  decltype(&nvcompBatchedGzipCompressAsync) gzip_compress = nullptr;
};

namespace {

// The whole of dlerror(), which also clears it.
std::string dl_error() {
  const char* message = ::dlerror();
  return message != nullptr ? message : "unknown dlerror";
}

template <class Function>
void resolve(void* handle, const std::string& file, const char* symbol, Function& function) {
  (void)::dlerror();
  void* address = ::dlsym(handle, symbol);
  check<UnsupportedError>(address != nullptr, file, " has no ", symbol, " (", dl_error(),
                          "): not an nvCOMP library, or one too old (nvcomp.h is ", NVCOMP_VER_MAJOR, ".",
                          NVCOMP_VER_MINOR, ")");
  function = reinterpret_cast<Function>(address);
}

#define TILESTREAM_NVCOMP_RESOLVE(field, name) resolve(handle_, file_, #name, f.field)

Library load_library() {
  if (const std::string& file = default_settings().nvcomp_library; !file.empty()) {
    try {
      return Library(file);
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(concat("TILESTREAM_NVCOMP_LIBRARY=", file, ": ", e.what()));
    }
  }
  const std::string file = default_library_file();
  try {
    return Library(file);
  } catch (const UnsupportedError& e) {
    throw UnsupportedError(concat("GPU chunk compression needs nvCOMP: ", e.what(), "; ", install_hint));
  }
}

// The library or why it is missing, decided once.
struct Loaded {
  std::optional<Library> library;
  std::string error;
};

const Loaded& process_library() {
  static const Loaded loaded = [] {
    Loaded result;
    try {
      result.library.emplace(load_library());
    } catch (const Error& e) {
      result.error = e.what();
    }
    return result;
  }();
  return loaded;
}

const Library::Functions& api() { return library().functions(); }

nvcompBatchedZstdCompressOpts_t zstd_options() { return nvcompBatchedZstdCompressDefaultOpts; }
nvcompBatchedLZ4CompressOpts_t lz4_options() { return nvcompBatchedLZ4CompressDefaultOpts; }
nvcompBatchedGzipCompressOpts_t gzip_options(const Compressor& compressor) {
  nvcompBatchedGzipCompressOpts_t options = nvcompBatchedGzipCompressDefaultOpts;
  options.algorithm = compressor.gzip_algorithm;
  return options;
}

void check_status(nvcompStatus_t status, const char* call, const Compressor& compressor) {
  check<CodecError>(status == nvcompSuccess, call, " (nvCOMP ", algorithm_name(compressor.algorithm),
                    ") failed: ", status_name(static_cast<std::int32_t>(status)));
}

}  // namespace

std::string default_library_file() { return concat("libnvcomp.so.", NVCOMP_VER_MAJOR); }

Library::Library(std::string file) : file_(std::move(file)), functions_(std::make_unique<Functions>()) {
  // RTLD_NODELETE: nvCOMP's device state and exit handlers may outlive any owner of the handle.
  handle_ = ::dlopen(file_.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  check<UnsupportedError>(handle_ != nullptr, file_, " not found (dlopen: ", dl_error(), ")");
  try {
    Functions& f = *functions_;
    TILESTREAM_NVCOMP_RESOLVE(get_properties, nvcompGetProperties);
    TILESTREAM_NVCOMP_RESOLVE(status_string, nvcompGetStatusString);
    TILESTREAM_NVCOMP_RESOLVE(zstd_alignments, nvcompBatchedZstdCompressGetRequiredAlignments);
    TILESTREAM_NVCOMP_RESOLVE(zstd_temp_size, nvcompBatchedZstdCompressGetTempSize);
    TILESTREAM_NVCOMP_RESOLVE(zstd_max_output, nvcompBatchedZstdCompressGetMaxOutputChunkSize);
    TILESTREAM_NVCOMP_RESOLVE(zstd_compress, nvcompBatchedZstdCompressAsync);
    TILESTREAM_NVCOMP_RESOLVE(lz4_alignments, nvcompBatchedLZ4CompressGetRequiredAlignments);
    TILESTREAM_NVCOMP_RESOLVE(lz4_temp_size, nvcompBatchedLZ4CompressGetTempSize);
    TILESTREAM_NVCOMP_RESOLVE(lz4_max_output, nvcompBatchedLZ4CompressGetMaxOutputChunkSize);
    TILESTREAM_NVCOMP_RESOLVE(lz4_compress, nvcompBatchedLZ4CompressAsync);
    TILESTREAM_NVCOMP_RESOLVE(gzip_alignments, nvcompBatchedGzipCompressGetRequiredAlignments);
    TILESTREAM_NVCOMP_RESOLVE(gzip_temp_size, nvcompBatchedGzipCompressGetTempSize);
    TILESTREAM_NVCOMP_RESOLVE(gzip_max_output, nvcompBatchedGzipCompressGetMaxOutputChunkSize);
    TILESTREAM_NVCOMP_RESOLVE(gzip_compress, nvcompBatchedGzipCompressAsync);
    // The batched C API changes between major versions (5.0 changed CompressAsync's arguments):
    // calling another major's entry points through these types would be undefined.
    nvcompProperties_t properties{};
    const nvcompStatus_t status = f.get_properties(&properties);
    check<UnsupportedError>(status == nvcompSuccess, file_, ": nvcompGetProperties failed (status ",
                            static_cast<int>(status), ")");
    check<UnsupportedError>(NVCOMP_MAJOR_FROM_SEMVER(properties.version) == NVCOMP_VER_MAJOR, file_,
                            " is nvCOMP ", NVCOMP_MAJOR_FROM_SEMVER(properties.version), ".",
                            NVCOMP_MINOR_FROM_SEMVER(properties.version), ", but tilestream was built with nvcomp.h ",
                            NVCOMP_VER_MAJOR, ".", NVCOMP_VER_MINOR, " (the C API differs between major versions)");
  } catch (...) {
    ::dlclose(handle_);
    handle_ = nullptr;
    throw;
  }
}

#undef TILESTREAM_NVCOMP_RESOLVE

std::string Library::version() const {
  nvcompProperties_t properties{};
  if (functions_->get_properties(&properties) != nvcompSuccess) return "unknown";
  return concat(NVCOMP_MAJOR_FROM_SEMVER(properties.version), ".", NVCOMP_MINOR_FROM_SEMVER(properties.version),
                ".", NVCOMP_PATCH_FROM_SEMVER(properties.version));
}

const Library& library() {
  const Loaded& loaded = process_library();
  if (!loaded.library) throw UnsupportedError(loaded.error);
  return *loaded.library;
}

std::size_t max_chunk_bytes(const Compressor& compressor) {
  switch (compressor.algorithm) {
    case Algorithm::zstd:
      // The constant allows 2 GiB, nvcompBatchedZstdCompressAsync's documentation 16 MB.
      return std::min<std::size_t>(nvcompZstdCompressionMaxAllowedChunkSize, std::size_t{1} << 24);
    case Algorithm::lz4:
      return nvcompLZ4CompressionMaxAllowedChunkSize;
    case Algorithm::gzip:
      // ISIZE and zlib's (and so our CPU decoder's) limit: 4 GiB.
      return std::min<std::size_t>(nvcompGzipCompressionMaxAllowedChunkSize, UINT_MAX);
  }
  return 0;
}

Alignments alignments(const Compressor& compressor) {
  const Library::Functions& f = api();
  nvcompAlignmentRequirements_t requirements{};
  nvcompStatus_t status = nvcompSuccess;
  switch (compressor.algorithm) {
    case Algorithm::zstd:
      status = f.zstd_alignments(zstd_options(), &requirements);
      break;
    case Algorithm::lz4:
      status = f.lz4_alignments(lz4_options(), &requirements);
      break;
    case Algorithm::gzip:
      status = f.gzip_alignments(gzip_options(compressor), &requirements);
      break;
  }
  check_status(status, "nvcompBatched*CompressGetRequiredAlignments", compressor);
  return {std::max<std::size_t>(requirements.input, 1), std::max<std::size_t>(requirements.output, 1),
          std::max<std::size_t>(requirements.temp, 1)};
}

std::size_t max_output_bytes(const Compressor& compressor, std::size_t max_chunk) {
  const Library::Functions& f = api();
  std::size_t bytes = 0;
  nvcompStatus_t status = nvcompSuccess;
  switch (compressor.algorithm) {
    case Algorithm::zstd:
      status = f.zstd_max_output(max_chunk, zstd_options(), &bytes);
      break;
    case Algorithm::lz4:
      status = f.lz4_max_output(max_chunk, lz4_options(), &bytes);
      break;
    case Algorithm::gzip:
      status = f.gzip_max_output(max_chunk, gzip_options(compressor), &bytes);
      break;
  }
  check_status(status, "nvcompBatched*CompressGetMaxOutputChunkSize", compressor);
  return bytes;
}

std::size_t temp_bytes(const Compressor& compressor, std::size_t chunks, std::size_t max_chunk,
                       std::size_t total_bytes, cudaStream_t stream) {
  const Library::Functions& f = api();
  std::size_t bytes = 0;
  nvcompStatus_t status = nvcompSuccess;
  switch (compressor.algorithm) {
    case Algorithm::zstd:
      status = f.zstd_temp_size(chunks, max_chunk, zstd_options(), &bytes, total_bytes, stream);
      break;
    case Algorithm::lz4:
      status = f.lz4_temp_size(chunks, max_chunk, lz4_options(), &bytes, total_bytes, stream);
      break;
    case Algorithm::gzip:
      status = f.gzip_temp_size(chunks, max_chunk, gzip_options(compressor), &bytes, total_bytes, stream);
      break;
  }
  check_status(status, "nvcompBatched*CompressGetTempSize", compressor);
  return bytes;
}

void compress_async(const Compressor& compressor, const Batch& batch, void* temp, std::size_t temp_size,
                    cudaStream_t stream) {
  const Library::Functions& f = api();
  auto* statuses = reinterpret_cast<nvcompStatus_t*>(batch.statuses);
  nvcompStatus_t status = nvcompSuccess;
  switch (compressor.algorithm) {
    case Algorithm::zstd:
      status = f.zstd_compress(batch.inputs, batch.input_bytes, batch.max_chunk_bytes, batch.chunks, temp,
                               temp_size, batch.outputs, batch.output_bytes, zstd_options(), statuses, stream);
      break;
    case Algorithm::lz4:
      status = f.lz4_compress(batch.inputs, batch.input_bytes, batch.max_chunk_bytes, batch.chunks, temp,
                              temp_size, batch.outputs, batch.output_bytes, lz4_options(), statuses, stream);
      break;
    case Algorithm::gzip:
      status = f.gzip_compress(batch.inputs, batch.input_bytes, batch.max_chunk_bytes, batch.chunks, temp,
                               temp_size, batch.outputs, batch.output_bytes, gzip_options(compressor),
                               statuses, stream);
      break;
  }
  check_status(status, "nvcompBatched*CompressAsync", compressor);
}

std::string status_name(std::int32_t status) {
  const Loaded& loaded = process_library();
  const char* text = loaded.library ? loaded.library->functions().status_string(static_cast<nvcompStatus_t>(status))
                                    : nullptr;
  return concat(text != nullptr ? text : "nvCOMP status", " (", status, ")");
}

#else  // !TILESTREAM_HAVE_NVCOMP_H

struct Library::Functions {};

std::string default_library_file() { return "libnvcomp.so"; }

Library::Library(std::string file) : file_(std::move(file)) {
  throw UnsupportedError(concat(built_without_header(), " (asked to load ", file_, ")"));
}

std::string Library::version() const { throw UnsupportedError(built_without_header()); }

const Library& library() {
  if (const std::string& file = default_settings().nvcomp_library; !file.empty()) {
    throw UnsupportedError(concat(built_without_header(), " (TILESTREAM_NVCOMP_LIBRARY=", file, " not loaded)"));
  }
  throw UnsupportedError(built_without_header());
}

std::size_t max_chunk_bytes(const Compressor&) { throw UnsupportedError(built_without_header()); }
Alignments alignments(const Compressor&) { throw UnsupportedError(built_without_header()); }
std::size_t max_output_bytes(const Compressor&, std::size_t) { throw UnsupportedError(built_without_header()); }
std::size_t temp_bytes(const Compressor&, std::size_t, std::size_t, std::size_t, cudaStream_t) {
  throw UnsupportedError(built_without_header());
}
void compress_async(const Compressor&, const Batch&, void*, std::size_t, cudaStream_t) {
  throw UnsupportedError(built_without_header());
}
std::string status_name(std::int32_t status) { return concat("nvCOMP status ", status); }

#endif  // TILESTREAM_HAVE_NVCOMP_H

Library::~Library() {
  if (handle_ != nullptr) ::dlclose(handle_);
}

Library::Library(Library&& other) noexcept
    : file_(std::move(other.file_)),
      handle_(std::exchange(other.handle_, nullptr)),
      functions_(std::move(other.functions_)) {}

Library& Library::operator=(Library&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) ::dlclose(handle_);
    file_ = std::move(other.file_);
    handle_ = std::exchange(other.handle_, nullptr);
    functions_ = std::move(other.functions_);
  }
  return *this;
}

bool available(std::string* why_not) noexcept {
  try {
    library();
    return true;
  } catch (const std::exception& e) {
    if (why_not != nullptr) *why_not = e.what();
    return false;
  }
}

}  // namespace tilestream::zarr::nvcomp
