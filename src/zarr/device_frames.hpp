// The host side of GPU chunk encoding (zarr::DeviceChunkEncoder), built with or without CUDA: which
// Zarr compressors the GPU can encode and how (device_chunk_format), and the frames put around the
// streams nvCOMP produces so that the CPU codecs decode them: a gzip member checked, a gzip member
// turned into a zlib stream, blosc1 frames. Pure functions of bytes, so CPU tests cover them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tilestream/zarr/array.hpp"

namespace tilestream::zarr::device {

// What nvCOMP produces for one piece of a chunk (the whole chunk, or one blosc block).
enum class SegmentFormat {
  zstd_frame,   // a zstd frame (nvcompBatchedZstd)
  lz4_block,    // a raw LZ4 block (nvcompBatchedLZ4), blosc's lz4 stream
  gzip_member,  // a gzip member: header, deflate, CRC-32, ISIZE (nvcompBatchedGzip)
  zlib_stream,  // a zlib stream, made from a gzip member (its deflate) and an Adler-32 from the GPU
};

// How the GPU encodes the chunks of one compressor; from device_chunk_format.
struct ChunkFormat {
  bool blosc = false;  // false: the chunk is one segment, and the segment's bytes are the chunk's
  SegmentFormat segment = SegmentFormat::zstd_frame;
  int gzip_algorithm = 1;  // nvCOMP's gzip "algorithm" (gzip_member, zlib_stream)
  int zlib_level = 6;      // the zlib header's FLEVEL comes from it (informational for decoders)
  // blosc only
  std::size_t typesize = 1;
  int blosc_compformat = 0;    // the header's compressor format: 1 lz4, 3 zlib, 4 zstd
  bool byte_shuffle = false;   // the header's byte-shuffle flag; the GPU shuffles each block by typesize
  bool memcpyed = false;       // clevel 0: every chunk stored uncompressed, as blosc does
  std::size_t blocksize = 0;   // the nominal block; a chunk smaller than it is one block
};

// Why the GPU cannot produce `spec`'s bytes ("crc32c is a checksum...", "blosc with bitshuffle"), or
// "" when it can. `typesize` is the array's bytes per sample (blosc's shuffle and its AUTOSHUFFLE).
std::string unsupported_reason(const CompressorSpec& spec, std::size_t typesize);
// The format for `spec`; throws UnsupportedError with unsupported_reason when there is one.
ChunkFormat device_chunk_format(const CompressorSpec& spec, std::size_t typesize);

// nvCOMP's gzip algorithm (0..5) used for a gzip or zlib level (0..9): 0 -> 0 (entropy only, nvCOMP has
// no stored mode), 1-2 -> 1, 3-5 -> 2, 6-8 -> 4 ("beats zlib level 6"), 9 -> 5.
int gzip_algorithm_for_level(int level);

// --- gzip and zlib ------------------------------------------------------------------------------------

// The length of the gzip member header at the start of `member` (10 bytes plus FEXTRA, FNAME, FCOMMENT
// and FHCRC when flagged). Throws CodecError unless `member` is one gzip member of deflate data whose
// ISIZE is `uncompressed_bytes` mod 2^32 (which also catches output split into several members).
std::size_t checked_gzip_header(std::span<const std::byte> member, std::size_t uncompressed_bytes);
// The zlib stream of the deflate data in `member` (checked as above): a zlib header for `level`,
// the deflate bytes, and `adler32` (of the uncompressed bytes) big-endian.
std::vector<std::byte> zlib_from_gzip(std::span<const std::byte> member, std::size_t uncompressed_bytes,
                                      std::uint32_t adler32, int level);

// --- blosc1 -------------------------------------------------------------------------------------------

inline constexpr std::size_t blosc_header_bytes = 16;
// blosc stores buffers smaller than this uncompressed (MIN_BUFFERSIZE in c-blosc); so do we.
inline constexpr std::size_t blosc_min_buffer = 128;
// The largest buffer a blosc1 frame holds (BLOSC_MAX_BUFFERSIZE).
inline constexpr std::size_t blosc_max_buffer = 0x7FFFFFFF - blosc_header_bytes;

// Whether a chunk of `bytes` is stored uncompressed (memcpyed flag): clevel 0, or smaller than
// blosc_min_buffer.
bool blosc_memcpyed(const ChunkFormat& format, std::size_t bytes);
// The block size written for a chunk of `bytes` (> 0): the nominal block, or `bytes` when smaller.
std::size_t blosc_blocksize(const ChunkFormat& format, std::size_t bytes);
// The number of blocks of a chunk of `bytes`, the last one shorter when blocksize does not divide it.
std::size_t blosc_block_count(const ChunkFormat& format, std::size_t bytes);

// A memcpyed blosc1 frame: the header and `raw` (the chunk's bytes, unshuffled).
std::vector<std::byte> blosc_memcpyed_frame(const ChunkFormat& format, std::span<const std::byte> raw);
// A compressed blosc1 frame of a chunk of `bytes`, its blocks not split by typesize (the header's
// "don't split" flag): `streams[b]` is block b's stored stream, the compressor's output for it or,
// when exactly as long as the block, the block's (shuffled) bytes stored as they are.
std::vector<std::byte> blosc_frame(const ChunkFormat& format, std::size_t bytes,
                                   std::span<const std::span<const std::byte>> streams);

}  // namespace tilestream::zarr::device
