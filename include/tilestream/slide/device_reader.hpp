// Reading slide levels and regions straight into device memory (the device twin of Slide::read_region)
// with a reusable reader: its threads' CUDA streams, pinned staging buffers and device tile buffers are
// made once and serve every read.
// Two paths, and the report says which ran and through which io mode:
//  - raw tiles (uncompressed, interleaved, native byte order, every tile stored whole): tiles are
//    grouped into tasks of neighbouring tiles (slide/tile_read_plan.hpp); each thread reads a task
//    with the io backend (posix: pread into pinned memory; direct: O_DIRECT into pinned memory; gds:
//    cuFile into device memory), copies it to its device tile buffer on its own stream and queues the
//    place_tiles kernel, while it reads its next task into its second buffer;
//  - nvJPEG decode on the GPU (JPEG tiles, 8-bit, 1 or 3 samples, when the run's decode mode is auto
//    or gpu and nvJPEG loads, codec/nvjpeg.hpp): each thread reads batches of neighbouring tiles with
//    pread (O_DIRECT with io direct; gds reads with pread too, since nvJPEG takes its streams from
//    host memory) into pinned memory, joins each with the JPEGTables into a complete stream, and queues the
//    batch on nvJPEG (its CUDA backend, or the hardware decoder) into its device tile buffer and the
//    place_tiles kernel, while it prepares its next batch in its second slot. Tiles nvJPEG cannot
//    decode as libjpeg would (progressive, 12-bit, odd sampling: codec/jpeg_stream.hpp), and whole
//    batches nvJPEG refuses, are decoded on that thread's CPU and uploaded; the report counts them.
//    Pixels differ from the CPU decoder's by the IDCT's and upsampling's rounding (a few levels);
//  - nvJPEG2000 decode on the GPU (JPEG 2000 tiles, 8- or 16-bit unsigned, 1 to 4 samples, Aperio's
//    YCbCr and RGB included, codec/nvjpeg2k.hpp): the same lanes, batches and placement, each lane
//    decoding its batch's codestreams one call each; codestreams nvJPEG2000 would not decode to the
//    CPU's layout (other component sizes or precisions) go to the CPU. Lossless (5/3) tiles give the
//    CPU's bytes; lossy (9/7) ones differ by the wavelet's rounding;
//  - CPU decode + upload (anything else: compressed, predictor, big-endian 16-bit, strips, planar,
//    sparse or short tiles): bands of tile rows are decoded on CPU threads straight into pinned
//    memory and uploaded, the next band decoding while the last one travels. Compressed tiles are read
//    with pread (posix) whatever the io mode, and the report says so.
// The raw and CPU paths give the CPU path's pixels byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "tilestream/codec/decode_mode.hpp"
#include "tilestream/codec/nvjpeg.hpp"
#include "tilestream/cuda/device_image.hpp"
#include "tilestream/io/device_range_reader.hpp"
#include "tilestream/io/io_mode.hpp"
#include "tilestream/slide/place_patches.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {

// How decode auto shares a patch batch between nvJPEG and CPU threads (DeviceReaderOptions::patch_split).
enum class PatchSplit { tiles, patches };

struct DeviceReaderOptions {
  unsigned threads = 0;              // reading (and decoding) threads, one stream each; 0: settings default
  int device = 0;                    // the CUDA device images land on
  std::optional<io::IoMode> io;      // nullopt: io::default_io_mode() (TILESTREAM_IO, else auto)
  // The run's io mode already resolved (io::resolve_device_io), so that the readers of one run (the
  // device backend's workers) share one decision; it overrides `io`.
  std::optional<io::ResolvedIo> resolved_io;
  std::size_t task_bytes = 0;        // bytes one read task moves; 0: settings default (8 MiB)
  // Where JPEG tiles are decoded; nullopt: codec::default_decode_mode() (TILESTREAM_DECODE, else auto).
  std::optional<codec::DecodeMode> decode;
  // The run's decode decision already made (codec::nvjpeg::resolve_device_decode), shared by the
  // readers of one run; it overrides `decode`.
  std::optional<codec::nvjpeg::ResolvedDecode> resolved_decode;
  // Tiles one nvJPEG batch decodes at most (0: as many as fit in 64 MiB decoded, at most 256), and
  // threads that run batches (0: the reader's threads, at most 4).
  std::size_t jpeg_batch_tiles = 0;
  unsigned jpeg_lanes = 0;
  // Under decode auto, the share (0 to 1) of a patch batch's JPEG tiles (read_patches) that the
  // reader's threads beyond its nvJPEG lanes decode on the CPU while nvJPEG decodes the rest: a fixed
  // set of the level's tiles (slide/place_patches.hpp, cpu_share_tile), so that a tile's pixels do not
  // depend on the batch. nullopt: TILESTREAM_PATCH_CPU_SHARE, else default_patch_cpu_share where the
  // reader has threads beyond its lanes, else 0. Whole-level and region reads leave every tile to
  // nvJPEG (they are about the GPU's rate and the host CPU time it saves).
  std::optional<double> patch_cpu_share;
  // How that share is drawn (nullopt: TILESTREAM_PATCH_SPLIT, else tiles). tiles: a fixed set of the
  // level's tiles, each decoded whole on the CPU, uploaded and placed by the kernel beside nvJPEG's.
  // patches: a fixed set of patch positions (cpu_share_patch), each read by the CPU path, which decodes
  // only the windows of the tiles a patch covers, and uploaded; nvJPEG decodes the other patches' tiles.
  std::optional<PatchSplit> patch_split;
  // Keep device memory freed by earlier images in the device's stream-ordered pool instead of giving
  // it back to the driver, so the next read of the same size allocates in microseconds. Process-wide
  // (it sets the release threshold of the device's default memory pool).
  bool keep_freed_device_memory = true;
};

struct DeviceReadReport {
  std::string path;            // raw_tiles_path or cpu_decode_path
  io::IoMode io = io::IoMode::posix;  // the io mode that read the file
  std::string io_detail;       // how the mode was chosen and how it ran (compat mode...)
  std::uint64_t bytes_read = 0;  // bytes read from the file (raw path) or pixels decoded (decode path)
  std::size_t tasks = 0;       // read tasks (raw path) or bands (decode path)
  double seconds = 0;          // wall time from the call to finished pixels on the device
  // Of `seconds`: allocating the output image and growing the reader's buffers and nvJPEG lanes for
  // this read (large on a reader's first read of a size, then near zero).
  double allocate_seconds = 0;
  codec::DecodeReport decode;  // who decoded the compressed tiles, and the tiles each decoder took
};

// What CPU threads take of a patch batch by default: on the H200 (2026-12-03) nvJPEG's CUDA backend
// decoded about 100,000 tiles of 256 x 256 a second and a CPU thread about 2,700, so the 12 threads a
// 16-thread reader leaves beside its 4 lanes keep pace with nvJPEG at about a fifth of the tiles.
inline constexpr double default_patch_cpu_share = 0.2;

inline constexpr const char* raw_tiles_path = "raw tiles placed on GPU";
inline constexpr const char* cpu_decode_path = "CPU decode + upload";
inline constexpr const char* gpu_decode_path = "nvJPEG decode on GPU";
inline constexpr const char* gpu_j2k_decode_path = "nvJPEG2000 decode on GPU";

// How the nvJPEG path batches: its threads running batches (the options' or settings' count, else the
// reader's `threads`, at most 4), and the tiles per batch for `tiles` tiles of `tile_bytes` decoded
// bytes (the options' or settings' count, else as many as fit in 64 MiB, at most 256; fewer
// where that leaves a lane without a batch). The reader and bench/nvjpeg_ceiling.cpp batch alike.
unsigned jpeg_lanes(const DeviceReaderOptions& options, unsigned threads);
std::size_t jpeg_batch_tiles(const DeviceReaderOptions& options, unsigned lanes, std::size_t tiles,
                             std::size_t tile_bytes);

// Why the tiles of `image` cannot take the GPU decode path ("LZW tiles, not JPEG or JPEG 2000",
// "strips"...), or empty when they can (JPEG tiles by nvJPEG, JPEG 2000 tiles by nvJPEG2000; single
// tiles may still fall back to the CPU).
std::string gpu_decode_unsupported_reason(const tiff::ImageInfo& image);

// Whether `image` qualifies for the raw-tile path at all (a region may still take the decode path
// when one of its tiles is sparse or short).
bool raw_tiles_possible(const tiff::ImageInfo& image);

class DeviceReader {
 public:
  // Resolves the io mode (UnsupportedError when gds or direct was asked for and cannot run here),
  // creates one stream and two staging slots per thread on options.device. Throws UsageError when
  // there is no such device, CudaError when memory cannot be had.
  explicit DeviceReader(const DeviceReaderOptions& options = {});
  ~DeviceReader();
  DeviceReader(DeviceReader&&) noexcept;
  DeviceReader& operator=(DeviceReader&&) noexcept;

  // The rectangle [x, x+width) x [y, y+height) of `level` as a (height, width, samples) device image.
  // Same errors as Slide::read_region (UsageError for regions outside the level, IoError naming file,
  // offset and length), ResourceError (before allocating) when the image exceeds the device memory
  // available (cuda/memory_budget.hpp), plus CudaError. The image frees on the device's legacy default
  // stream, so it outlives the reader. One read at a time: a reader is not shared between threads.
  cuda::DeviceImage read_region(const Slide& slide, std::size_t level, std::uint64_t x, std::uint64_t y,
                                std::uint64_t width, std::uint64_t height,
                                DeviceReadReport* report = nullptr);
  cuda::DeviceImage read_level(const Slide& slide, std::size_t level, DeviceReadReport* report = nullptr);
  // A batch of patches of `level`, each `width` x `height`, into their places in `out` (patches stacked:
  // patch k is rows [k * height, (k + 1) * height); the level's samples and sample type; rows unpadded;
  // on the reader's device). A patch may stick out of the level: its pixels there are 0. Each tile the
  // patches touch is read and decoded once: by nvJPEG as read_region decodes them (the same pixels;
  // under decode auto, the patch CPU share of the tiles by CPU threads at the same time, libjpeg's
  // pixels), else by the CPU decode path (CPU threads into pinned memory, then copied). Patches of `out` no
  // corner names are left as they are. Finished when it returns. UsageError for a wrong `out`, an index
  // past it or an empty size; the read's errors as read_region's.
  void read_patches(const Slide& slide, std::size_t level, std::span<const PatchCorner> patches, std::uint64_t width,
                    std::uint64_t height, cuda::DeviceImage& out, DeviceReadReport* report = nullptr);

  io::IoMode io_mode() const;         // the resolved mode for raw tiles (never automatic)
  const codec::nvjpeg::ResolvedDecode& decode() const;  // the resolved decode mode
  const std::string& io_detail() const;
  unsigned threads() const;
  int device() const;
  double setup_seconds() const;       // what the constructor took (streams, pinned and device buffers)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off read with a reader made for it (setup included in the report's time).
cuda::DeviceImage read_region_to_device(const Slide& slide, std::size_t level, std::uint64_t x,
                                        std::uint64_t y, std::uint64_t width, std::uint64_t height,
                                        const DeviceReaderOptions& options = {},
                                        DeviceReadReport* report = nullptr);

}  // namespace tilestream::slide
