// The host side of GPU chunk encoding: which compressors the GPU encodes, and the gzip, zlib and
// blosc1 frames around nvCOMP's streams (see device_frames.hpp). Built with or without CUDA.
#include "zarr/device_frames.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/device_encoder.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr::device {
namespace {

// blosc's own settings, as src/zarr/blosc_codec.cpp writes them into CompressorSpec::settings:
// "cname" (default lz4) and "shuffle" (0 none, 1 byte, 2 bit, -1 auto; default 1).
std::string blosc_cname(const CompressorSpec& spec) { return spec.settings.value("cname", std::string("lz4")); }
int blosc_shuffle(const CompressorSpec& spec) { return spec.settings.value("shuffle", 1); }

// numcodecs' AUTOSHUFFLE (-1): bit shuffle for 1-byte items, else byte shuffle.
int resolved_shuffle(int shuffle, std::size_t typesize) {
  if (shuffle >= 0) return shuffle;
  return typesize == 1 ? 2 : 1;
}

constexpr int blosc_version_format = 2;  // BLOSC_VERSION_FORMAT
constexpr int blosc_lz4_format = 1;      // BLOSC_LZ4_FORMAT (lz4 and lz4hc)
constexpr int blosc_zlib_format = 3;     // BLOSC_ZLIB_FORMAT
constexpr int blosc_zstd_format = 4;     // BLOSC_ZSTD_FORMAT
constexpr int blosc_codec_version = 1;   // BLOSC_{LZ4,ZLIB,ZSTD}_VERSION_FORMAT
constexpr std::uint8_t blosc_do_shuffle = 0x1;
constexpr std::uint8_t blosc_memcpyed_flag = 0x2;
constexpr std::uint8_t blosc_dont_split = 0x10;

void put_le32(std::byte* out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFF);
}

std::uint32_t get_le32(std::span<const std::byte> bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(bytes[at + i]) << (8 * i);
  return value;
}

std::string blosc_reason(const CompressorSpec& spec, std::size_t typesize) {
  const std::string cname = blosc_cname(spec);
  if (cname != "lz4" && cname != "lz4hc" && cname != "zstd" && cname != "zlib")
    return concat("blosc with ", cname, ": nvCOMP has no ", cname, " compressor (lz4, lz4hc, zstd and zlib run on the GPU)");
  if (typesize == 0 || typesize > 255) return concat("blosc with typesize ", typesize, " (blosc1 takes 1..255)");
  const int shuffle = resolved_shuffle(blosc_shuffle(spec), typesize);
  if (shuffle == 2)
    return blosc_shuffle(spec) < 0 ? "blosc with bitshuffle (AUTOSHUFFLE of 1-byte samples)" : "blosc with bitshuffle";
  if (shuffle != 0 && shuffle != 1) return concat("blosc with shuffle ", shuffle);
  return {};
}

}  // namespace

int gzip_algorithm_for_level(int level) {
  if (level <= 0) return 0;
  if (level <= 2) return 1;
  if (level <= 5) return 2;
  if (level <= 8) return 4;
  return 5;
}

std::string unsupported_reason(const CompressorSpec& spec, std::size_t typesize) {
  const CompressorCodec* codec = find_compressor(spec.name);
#if !TILESTREAM_WITH_BLOSC
  if (spec.name == "blosc") return "blosc support was not built (libblosc not found at build time)";
#endif
  if (codec == nullptr) return concat("unknown Zarr codec \"", spec.name, "\"");
  if (spec.name == "zstd" || spec.name == "gzip" || spec.name == "zlib") return {};
  if (spec.name == "crc32c") return "crc32c is a checksum codec, not a compressor: the CPU appends it";
  if (spec.name == "blosc") return blosc_reason(spec, typesize);
  return concat("codec \"", spec.name, "\" has no GPU encoder");
}

ChunkFormat device_chunk_format(const CompressorSpec& spec, std::size_t typesize) {
  const std::string reason = unsupported_reason(spec, typesize);
  check<UnsupportedError>(reason.empty(), "GPU chunk encoding: ", reason);
  const CompressorCodec& codec = *find_compressor(spec.name);
  const int level = effective_level(codec, spec);
  ChunkFormat format;
  format.typesize = typesize;
  if (spec.name == "zstd") {
    format.segment = SegmentFormat::zstd_frame;
  } else if (spec.name == "gzip" || spec.name == "zlib") {
    format.segment = spec.name == "gzip" ? SegmentFormat::gzip_member : SegmentFormat::zlib_stream;
    format.gzip_algorithm = gzip_algorithm_for_level(level);
    format.zlib_level = level;
  } else {  // blosc, as unsupported_reason allows it
    format.blosc = true;
    const std::string cname = blosc_cname(spec);
    format.memcpyed = level == 0;
    format.byte_shuffle = resolved_shuffle(blosc_shuffle(spec), typesize) == 1;
    if (cname == "zstd") {
      format.segment = SegmentFormat::zstd_frame;
      format.blosc_compformat = blosc_zstd_format;
      format.blocksize = std::size_t{256} << 10;
    } else if (cname == "zlib") {
      format.segment = SegmentFormat::zlib_stream;
      format.blosc_compformat = blosc_zlib_format;
      format.gzip_algorithm = gzip_algorithm_for_level(level);
      format.zlib_level = level;
      format.blocksize = std::size_t{256} << 10;
    } else {  // lz4, lz4hc: one stream format
      format.segment = SegmentFormat::lz4_block;
      format.blosc_compformat = blosc_lz4_format;
      format.blocksize = std::size_t{128} << 10;
    }
  }
  return format;
}

std::size_t checked_gzip_header(std::span<const std::byte> member, std::size_t uncompressed_bytes) {
  auto byte = [&](std::size_t at) { return static_cast<std::uint8_t>(member[at]); };
  check<CodecError>(member.size() >= 18 && byte(0) == 0x1F && byte(1) == 0x8B && byte(2) == 8,
                    "nvCOMP gzip output is not a gzip member of deflate data (", member.size(), " bytes)");
  const std::uint8_t flags = byte(3);
  std::size_t at = 10;
  const std::size_t end = member.size() - 8;  // the trailer: CRC-32, ISIZE
  if (flags & 0x04) {                          // FEXTRA
    check<CodecError>(at + 2 <= end, "nvCOMP gzip output: truncated FEXTRA");
    at += 2 + (static_cast<std::size_t>(byte(at)) | static_cast<std::size_t>(byte(at + 1)) << 8);
  }
  for (const std::uint8_t flag : {std::uint8_t{0x08}, std::uint8_t{0x10}}) {  // FNAME, FCOMMENT
    if (!(flags & flag)) continue;
    while (at < end && byte(at) != 0) ++at;
    ++at;
  }
  if (flags & 0x02) at += 2;  // FHCRC
  check<CodecError>(at <= end, "nvCOMP gzip output: the header runs past the data (", member.size(), " bytes)");
  const std::uint32_t isize = get_le32(member, member.size() - 4);
  check<CodecError>(isize == static_cast<std::uint32_t>(uncompressed_bytes),
                    "nvCOMP gzip output is not one gzip member of the chunk: ISIZE ", isize, ", expected ",
                    static_cast<std::uint32_t>(uncompressed_bytes), " (", uncompressed_bytes, " bytes)");
  return at;
}

std::vector<std::byte> zlib_from_gzip(std::span<const std::byte> member, std::size_t uncompressed_bytes,
                                      std::uint32_t adler32, int level) {
  const std::size_t header = checked_gzip_header(member, uncompressed_bytes);
  const std::span<const std::byte> deflate = member.subspan(header, member.size() - 8 - header);
  // CMF: deflate with a 32 KiB window; FLG: FLEVEL as zlib sets it for `level`, FCHECK making the
  // pair a multiple of 31.
  constexpr unsigned cmf = 0x78;
  const unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
  unsigned flg = flevel << 6;
  flg += 31 - (cmf * 256 + flg) % 31;
  std::vector<std::byte> out(2 + deflate.size() + 4);
  out[0] = static_cast<std::byte>(cmf);
  out[1] = static_cast<std::byte>(flg);
  std::memcpy(out.data() + 2, deflate.data(), deflate.size());
  for (int i = 0; i < 4; ++i)
    out[2 + deflate.size() + static_cast<std::size_t>(i)] = static_cast<std::byte>((adler32 >> (24 - 8 * i)) & 0xFF);
  return out;
}

bool blosc_memcpyed(const ChunkFormat& format, std::size_t bytes) {
  return format.memcpyed || bytes < blosc_min_buffer;
}

std::size_t blosc_blocksize(const ChunkFormat& format, std::size_t bytes) {
  return std::max<std::size_t>(1, std::min(format.blocksize, bytes));
}

std::size_t blosc_block_count(const ChunkFormat& format, std::size_t bytes) {
  const std::size_t blocksize = blosc_blocksize(format, bytes);
  return (bytes + blocksize - 1) / blocksize;
}

namespace {

std::vector<std::byte> blosc_header(const ChunkFormat& format, std::size_t bytes, std::size_t blocksize,
                                    std::uint8_t flags, std::size_t frame_bytes) {
  check<CodecError>(bytes <= blosc_max_buffer && frame_bytes <= 0x7FFFFFFF, "blosc: a chunk of ", bytes,
                    " bytes exceeds blosc1's 2 GiB limit");
  std::vector<std::byte> out(frame_bytes);
  out[0] = static_cast<std::byte>(blosc_version_format);
  out[1] = static_cast<std::byte>(blosc_codec_version);
  flags |= blosc_dont_split | static_cast<std::uint8_t>(format.blosc_compformat << 5);
  if (format.byte_shuffle) flags |= blosc_do_shuffle;
  out[2] = static_cast<std::byte>(flags);
  out[3] = static_cast<std::byte>(format.typesize);
  put_le32(out.data() + 4, static_cast<std::uint32_t>(bytes));
  put_le32(out.data() + 8, static_cast<std::uint32_t>(blocksize));
  put_le32(out.data() + 12, static_cast<std::uint32_t>(frame_bytes));
  return out;
}

}  // namespace

std::vector<std::byte> blosc_memcpyed_frame(const ChunkFormat& format, std::span<const std::byte> raw) {
  std::vector<std::byte> out = blosc_header(format, raw.size(), std::max<std::size_t>(raw.size(), 1),
                                            blosc_memcpyed_flag, blosc_header_bytes + raw.size());
  if (!raw.empty()) std::memcpy(out.data() + blosc_header_bytes, raw.data(), raw.size());
  return out;
}

std::vector<std::byte> blosc_frame(const ChunkFormat& format, std::size_t bytes,
                                   std::span<const std::span<const std::byte>> streams) {
  const std::size_t blocksize = blosc_blocksize(format, bytes);
  const std::size_t blocks = blosc_block_count(format, bytes);
  check<CodecError>(streams.size() == blocks, "blosc: ", streams.size(), " block streams for ", blocks, " blocks");
  std::size_t frame_bytes = blosc_header_bytes + 4 * blocks;
  for (const std::span<const std::byte> stream : streams) frame_bytes += 4 + stream.size();
  std::vector<std::byte> out = blosc_header(format, bytes, blocksize, 0, frame_bytes);
  std::size_t at = blosc_header_bytes + 4 * blocks;
  for (std::size_t b = 0; b < blocks; ++b) {
    const std::size_t block_bytes = std::min(blocksize, bytes - b * blocksize);
    const std::span<const std::byte> stream = streams[b];
    // A stream as long as its block is read as the block stored as it is: the only way to store one.
    check<CodecError>(stream.size() <= block_bytes, "blosc: block ", b, "'s stream of ", stream.size(),
                      " bytes is longer than the block (", block_bytes, "): store the block instead");
    put_le32(out.data() + blosc_header_bytes + 4 * b, static_cast<std::uint32_t>(at));
    put_le32(out.data() + at, static_cast<std::uint32_t>(stream.size()));
    if (!stream.empty()) std::memcpy(out.data() + at + 4, stream.data(), stream.size());
    at += 4 + stream.size();
  }
  return out;
}

}  // namespace tilestream::zarr::device

namespace tilestream::zarr {

std::string DeviceChunkEncoder::gpu_unsupported_reason(const CompressorSpec& spec, std::size_t typesize) {
  return device::unsupported_reason(spec, typesize);
}

}  // namespace tilestream::zarr
