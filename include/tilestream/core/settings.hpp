// Process-wide defaults, read once from the environment; explicit arguments override them. Every
// TILESTREAM_* variable is read here and nowhere else.
#pragma once

#include <cstddef>
#include <string>

namespace tilestream {

struct Settings {
  unsigned threads;  // TILESTREAM_THREADS, else std::thread::hardware_concurrency()
  // Bytes one io task moves (a coalesced read of neighbouring tiles, one staging buffer):
  // TILESTREAM_TASK_BYTES, else 8 MiB. Large enough for full-speed reads, small enough that many
  // tasks keep every thread busy.
  std::size_t task_bytes;
  // Bytes of tiles a streaming (tiled) pipeline may hold at once: TILESTREAM_MEMORY (a size as
  // parse_byte_size reads it), else 1 GiB.
  std::size_t memory_bytes;
  // Bytes of one band of output rows streamed out of device memory (the GPU pipeline keeps two of
  // them pinned per worker): TILESTREAM_BAND_BYTES (a size as parse_byte_size reads it), else 1 MiB.
  // Large enough for pwrite to run at full speed, small enough that pinning them costs little: on the
  // device machine 1 MiB ran sobel chunk 2048 faster than 2 or 4 MiB, global and tiled
  // (bench/results/process_2026-11-26_runs.md).
  std::size_t band_bytes;
  // The io mode of reads into and writes from device memory when a run names none: TILESTREAM_IO as
  // written ("" when unset); io::default_io_mode() parses it through the io mode table.
  std::string io;
  // The cuFile library to dlopen instead of libcufile.so.0: TILESTREAM_CUFILE_LIBRARY ("" when unset).
  std::string cufile_library;
  // Where JPEG tiles bound for the GPU are decoded when a run names no mode: TILESTREAM_DECODE as
  // written ("" when unset); codec::default_decode_mode() parses it through the decode mode table.
  std::string decode;
  // Where chunks computed on the GPU are compressed when a run names no mode: TILESTREAM_ENCODE as
  // written ("" when unset); zarr::default_encode_mode() parses it through the encode mode table.
  std::string encode;
  // The nvJPEG library to dlopen instead of libnvjpeg.so.13: TILESTREAM_NVJPEG_LIBRARY ("" when unset).
  std::string nvjpeg_library;
  // The nvJPEG2000 library to dlopen instead of libnvjpeg2k.so.0: TILESTREAM_NVJPEG2K_LIBRARY ("" when unset).
  std::string nvjpeg2k_library;
  // nvJPEG's backend: TILESTREAM_NVJPEG_BACKEND, "hardware" or "cuda" ("" when unset: the CUDA
  // backend, codec/nvjpeg.hpp says why); for benchmarks and tests of each.
  std::string nvjpeg_backend;
  // nvJPEG batches: TILESTREAM_JPEG_BATCH tiles per batch (0 when unset: as many as fit in 64 MiB
  // decoded, at most 256) and TILESTREAM_JPEG_LANES threads running batches (0 when unset: the
  // reader's threads, at most 4). For tuning on a new GPU.
  unsigned jpeg_batch_tiles = 0;
  unsigned jpeg_lanes = 0;
  // OpenJPEG threads decoding one JPEG 2000 tile: TILESTREAM_J2K_THREADS, else 1. The readers decode
  // many tiles at once already, one per pool thread (codec/jpeg2000.hpp says more).
  unsigned jpeg2000_threads = 1;
  // nvJPEG2000 decode states a GPU decode lane cycles through: TILESTREAM_NVJPEG2K_STATES, 1 to 64
  // (0 when unset: codec/nvjpeg2k.cpp's default). A state is reused once its last decode has run, so
  // this bounds the codestreams a lane has queued; 1 decodes one at a time. For tuning and tests.
  unsigned nvjpeg2k_states = 0;
  // Chunks compressed on the GPU per nvCOMP call: TILESTREAM_ENCODE_BATCH (0 when unset: the CUDA
  // backend's default), and adjacent blocks one tiled GPU worker reads and encodes at once:
  // TILESTREAM_TILED_GROUP (0 when unset: the backend's default). For tuning on a new GPU.
  unsigned encode_batch_blocks = 0;
  unsigned tiled_group = 0;
  // Blocks global mode compresses on the GPU at once over all its writing threads:
  // TILESTREAM_ENCODE_IN_FLIGHT, 1 to 65536 (0 when unset: the backend's default, bounded by free device
  // memory). For tuning on a new GPU.
  unsigned encode_in_flight_blocks = 0;
  // The share of a patch batch's JPEG tiles decoded by CPU threads beside nvJPEG under decode auto:
  // TILESTREAM_PATCH_CPU_SHARE, 0 to 1 (negative when unset: the reader's default).
  double patch_cpu_share = -1;
  // How that share is drawn: TILESTREAM_PATCH_SPLIT, "tiles" (a share of the level's tiles, decoded whole)
  // or "patches" (a share of patch positions, read with the CPU path's tile windows); "" when unset.
  std::string patch_split;
  // The nvCOMP library to dlopen instead of libnvcomp.so.6: TILESTREAM_NVCOMP_LIBRARY ("" when unset).
  std::string nvcomp_library;
};

const Settings& default_settings();

// `requested` when non-zero, else the default thread count.
unsigned resolve_threads(unsigned requested);
// `requested` when non-zero, else the default task size.
std::size_t resolve_task_bytes(std::size_t requested);
// `requested` when non-zero, else the default memory budget.
std::size_t resolve_memory_bytes(std::size_t requested);
// `requested` when non-zero, else the default band size.
std::size_t resolve_band_bytes(std::size_t requested);

// A byte count: digits with an optional binary suffix K, M, G or T (KiB, MiB, ...; case-insensitive,
// an optional trailing "B" or "iB" too): "1048576", "512M", "2G", "64KiB". Throws UsageError naming
// `what` (a flag or variable) for anything else, 0, or more than 2^50.
std::size_t parse_byte_size(const std::string& text, const std::string& what);

}  // namespace tilestream
