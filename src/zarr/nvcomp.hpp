// nvCOMP reached through dlopen (private to zarr): the library, loaded once per process, and the
// batched low-level compressors the device chunk encoder calls. nvcomp.h types stay in nvcomp.cpp;
// this header speaks plain sizes, pointers and ints. Built without nvcomp.h (TILESTREAM_HAVE_NVCOMP_H
// unset), every entry point throws UnsupportedError saying so.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tilestream::zarr::nvcomp {

// The file dlopen looks for when TILESTREAM_NVCOMP_LIBRARY is unset: the soname of the nvCOMP major
// version whose nvcomp.h we were built with ("libnvcomp.so.6" for the nvidia-libnvcomp-cu13 wheel
// 6.x; its lib64 folder must be on the loader's path, or the variable names the file).
std::string default_library_file();

// A loaded nvCOMP library and its entry points. Move-only; a moved-from Library may only be destroyed
// or assigned to.
class Library {
 public:
  struct Functions;  // the resolved entry points (defined in nvcomp.cpp, opaque elsewhere)
  // dlopen(file) and dlsym of every entry point tilestream calls; needs no GPU. Throws
  // UnsupportedError naming `file` and dlerror() when it cannot be loaded, lacks an entry point or is
  // another major version than the nvcomp.h we were built with (the C API changes between them), and
  // in builds without nvcomp.h.
  explicit Library(std::string file);
  ~Library();
  Library(Library&& other) noexcept;
  Library& operator=(Library&& other) noexcept;
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const std::string& file() const { return file_; }
  const Functions& functions() const { return *functions_; }
  // nvcompGetProperties' version, as "6.0.0".
  std::string version() const;

 private:
  std::string file_;
  void* handle_ = nullptr;
  std::unique_ptr<Functions> functions_;
};

// The process-wide library: TILESTREAM_NVCOMP_LIBRARY when set, else default_library_file(), loaded by
// the first call (thread-safe) and never unloaded. Throws UnsupportedError saying what is missing and
// what to do ("libnvcomp.so.6 not found (dlopen: ...); pip install nvidia-libnvcomp-cu13 or set
// TILESTREAM_NVCOMP_LIBRARY"), on this call and every later one.
const Library& library();
// Whether library() succeeds; when it does not and `why_not` is given, stores the reason there.
bool available(std::string* why_not = nullptr) noexcept;

// The batched compressors tilestream uses, each producing what its CPU counterpart decodes: a zstd
// frame, a raw LZ4 block (LZ4_decompress_safe's input, as blosc stores it) or a gzip member.
enum class Algorithm { zstd, lz4, gzip };
const char* algorithm_name(Algorithm algorithm);

// One algorithm with its options. `gzip_algorithm` is nvCOMP's gzip "algorithm" (0 entropy only,
// 1 fast (nvCOMP's default), 2 medium, 4 higher ratio, 5 highest ratio); zstd and LZ4 have no levels.
struct Compressor {
  Algorithm algorithm = Algorithm::zstd;
  int gzip_algorithm = 1;
};

struct Alignments {
  std::size_t input = 1;
  std::size_t output = 1;
  std::size_t temp = 1;
};

// The largest chunk one compression call accepts (nvCOMP's documented limit, the smaller of its
// constant and its CompressAsync comment where they differ).
std::size_t max_chunk_bytes(const Compressor& compressor);
// nvcompBatched*CompressGetRequiredAlignments.
Alignments alignments(const Compressor& compressor);
// nvcompBatched*CompressGetMaxOutputChunkSize: the output room each chunk needs.
std::size_t max_output_bytes(const Compressor& compressor, std::size_t max_chunk_bytes);
// nvcompBatched*CompressGetTempSize for `chunks` chunks of at most `max_chunk_bytes`, `total_bytes` in
// all (the current device's answer; nothing is queued on `stream`).
std::size_t temp_bytes(const Compressor& compressor, std::size_t chunks, std::size_t max_chunk_bytes,
                       std::size_t total_bytes, cudaStream_t stream);

// The device arrays of one batched compression (all of `chunks` entries, in device memory):
// inputs and their sizes, output buffers (max_output_bytes each) and the sizes and statuses written.
struct Batch {
  const void* const* inputs = nullptr;
  const std::size_t* input_bytes = nullptr;
  void* const* outputs = nullptr;
  std::size_t* output_bytes = nullptr;
  std::int32_t* statuses = nullptr;  // nvcompStatus_t; 0 is success (status_name reads the others)
  std::size_t chunks = 0;
  std::size_t max_chunk_bytes = 0;
};

// Queues nvcompBatched*CompressAsync on `stream`. Throws CodecError naming the call and status when
// nvCOMP refuses the launch; the per-chunk statuses arrive in batch.statuses.
void compress_async(const Compressor& compressor, const Batch& batch, void* temp, std::size_t temp_bytes,
                    cudaStream_t stream);

// nvcompGetStatusString of a status, with its number.
std::string status_name(std::int32_t status);

}  // namespace tilestream::zarr::nvcomp
