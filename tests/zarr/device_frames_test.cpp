// The host side of GPU chunk encoding, without a GPU: which codecs of the table the GPU encodes
// (DeviceChunkEncoder::gpu_unsupported_reason), and the frames put around nvCOMP's streams, fed here
// with what zlib and libzstd produce on the CPU in nvCOMP's place and decoded by the codec table.
#include "zarr/device_frames.hpp"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/device_encoder.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr::device {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::byte> smooth_bytes(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>((i / 7 + (i % 512) / 3) & 0xFF);
  return bytes;
}

std::vector<std::byte> random_bytes(std::size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> bytes(size);
  for (auto& b : bytes) b = static_cast<std::byte>(rng() & 0xFF);
  return bytes;
}

CompressorSpec blosc_spec(const std::string& cname, int shuffle, int level = 5) {
  CompressorSpec spec = named_compressor("blosc");
  spec.level = level;
  spec.settings = {{"cname", cname}, {"shuffle", shuffle}};
  return spec;
}

std::vector<std::byte> decode(const CompressorSpec& spec, std::span<const std::byte> bytes, std::size_t max_size) {
  return find_compressor(spec.name)->decode(spec, bytes, max_size);
}

TEST(DeviceCodecTable, EveryCodecIsSupportedOrSaysWhyNot) {
  std::set<std::string> supported;
  for (const CompressorCodec* codec : compressor_codecs()) {
    const std::string reason = DeviceChunkEncoder::gpu_unsupported_reason(named_compressor(std::string(codec->name)), 2);
    if (reason.empty()) {
      supported.insert(std::string(codec->name));
    } else {
      EXPECT_TRUE(contains(reason, std::string(codec->name))) << codec->name << ": " << reason;
    }
  }
  std::set<std::string> expected{"zstd", "gzip", "zlib"};
  if (TILESTREAM_WITH_BLOSC) expected.insert("blosc");
  EXPECT_EQ(supported, expected);
}

TEST(DeviceCodecTable, ReasonsNameTheSetting) {
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(crc32c_spec()), "crc32c"));
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(named_compressor("lzma")), "lzma"));
  for (int level : {-1, 0, 1, 6, 9}) {
    CompressorSpec spec = named_compressor("gzip");
    spec.level = level;
    EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(spec), "") << level;
  }
#if TILESTREAM_WITH_BLOSC
  EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("lz4", 1), 2), "");
  EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("lz4hc", 0), 1), "");
  EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("zstd", 1), 1), "");
  EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("zlib", 1, 0), 8), "");
  EXPECT_EQ(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("zstd", -1), 2), "");  // auto: byte shuffle
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("zstd", 2), 2), "blosc with bitshuffle"));
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("lz4", -1), 1), "bitshuffle"));
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("blosclz", 1), 2), "blosclz"));
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(blosc_spec("lz4", 1), 300), "typesize"));
  EXPECT_THROW(device_chunk_format(blosc_spec("zstd", 2), 2), UnsupportedError);
#else
  EXPECT_TRUE(contains(DeviceChunkEncoder::gpu_unsupported_reason(named_compressor("blosc")), "blosc"));
#endif
}

TEST(DeviceCodecTable, LevelsMapToNvcompAlgorithms) {
  const std::vector<int> expected{0, 1, 1, 2, 2, 2, 4, 4, 4, 5};
  for (int level = 0; level <= 9; ++level) EXPECT_EQ(gzip_algorithm_for_level(level), expected[level]) << level;
  CompressorSpec gzip = named_compressor("gzip");  // default level 6
  EXPECT_EQ(device_chunk_format(gzip, 1).gzip_algorithm, 4);
  EXPECT_EQ(device_chunk_format(gzip, 1).segment, SegmentFormat::gzip_member);
  EXPECT_EQ(device_chunk_format(named_compressor("zlib"), 1).segment, SegmentFormat::zlib_stream);
  EXPECT_EQ(device_chunk_format(named_compressor("zstd"), 1).segment, SegmentFormat::zstd_frame);
  EXPECT_FALSE(device_chunk_format(named_compressor("zstd"), 1).blosc);
}

// A gzip member of `bytes` as zlib writes it, with a file name in its header when `name` is given.
std::vector<std::byte> gzip_member(std::span<const std::byte> bytes, const char* name = nullptr) {
  z_stream stream{};
  EXPECT_EQ(deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  gz_header header{};
  std::string file_name = name != nullptr ? name : "";
  if (name != nullptr) {
    header.name = reinterpret_cast<Bytef*>(file_name.data());
    EXPECT_EQ(deflateSetHeader(&stream, &header), Z_OK);
  }
  std::vector<std::byte> out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 64);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

std::uint32_t adler(std::span<const std::byte> bytes) {
  return static_cast<std::uint32_t>(
      adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

TEST(DeviceFrames, GzipMemberIsCheckedAndTurnedIntoZlib) {
  for (const std::size_t size : {std::size_t{1}, std::size_t{1000}, std::size_t{300000}}) {
    const std::vector<std::byte> data = smooth_bytes(size);
    for (const char* name : {static_cast<const char*>(nullptr), "chunk.bin"}) {
      const std::vector<std::byte> member = gzip_member(data, name);
      EXPECT_EQ(checked_gzip_header(member, size), name == nullptr ? 10u : 10u + std::strlen(name) + 1);
      EXPECT_EQ(decode(named_compressor("gzip"), member, size), data);
      for (int level : {0, 1, 6, 9}) {
        const std::vector<std::byte> zlib = zlib_from_gzip(member, size, adler(data), level);
        EXPECT_EQ((static_cast<unsigned>(zlib[0]) * 256 + static_cast<unsigned>(zlib[1])) % 31, 0u);
        EXPECT_EQ(decode(named_compressor("zlib"), zlib, size), data) << size << " level " << level;
        // zlib's own reader checks the Adler-32.
        std::vector<std::byte> out(size);
        uLongf out_size = static_cast<uLongf>(size);
        EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(out.data()), &out_size,
                             reinterpret_cast<const Bytef*>(zlib.data()), static_cast<uLong>(zlib.size())),
                  Z_OK);
        EXPECT_EQ(out, data);
      }
    }
  }
}

TEST(DeviceFrames, GzipOutputThatIsNotOneMemberOfTheChunkIsRefused) {
  const std::vector<std::byte> data = smooth_bytes(5000);
  std::vector<std::byte> two = gzip_member(std::span(data).first(2000));
  const std::vector<std::byte> second = gzip_member(std::span(data).subspan(2000));
  two.insert(two.end(), second.begin(), second.end());
  EXPECT_THROW(checked_gzip_header(two, data.size()), CodecError);
  EXPECT_THROW(zlib_from_gzip(two, data.size(), adler(data), 6), CodecError);
  std::vector<std::byte> not_gzip = gzip_member(data);
  not_gzip[0] = std::byte{0x78};
  EXPECT_THROW(checked_gzip_header(not_gzip, data.size()), CodecError);
  EXPECT_THROW(checked_gzip_header(std::span(not_gzip).first(12), data.size()), CodecError);
}

#if TILESTREAM_WITH_BLOSC

// blosc's byte shuffle of one block (c-blosc's shuffle_generic), as the GPU kernel does it.
std::vector<std::byte> shuffled(std::span<const std::byte> block, std::size_t typesize) {
  std::vector<std::byte> out(block.begin(), block.end());
  const std::size_t samples = block.size() / typesize;
  for (std::size_t j = 0; j < typesize; ++j)
    for (std::size_t i = 0; i < samples; ++i) out[j * samples + i] = block[i * typesize + j];
  return out;
}

std::vector<std::byte> zstd_frame(std::span<const std::byte> bytes) {
  std::vector<std::byte> out(ZSTD_compressBound(bytes.size()));
  const std::size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// What the encoder does with a blosc chunk, zstd on the CPU in nvCOMP's place: shuffle each block,
// compress it, keep it as it is when it does not shrink, frame.
std::vector<std::byte> blosc_chunk(const ChunkFormat& format, std::span<const std::byte> data) {
  if (blosc_memcpyed(format, data.size())) return blosc_memcpyed_frame(format, data);
  const std::size_t blocksize = blosc_blocksize(format, data.size());
  std::vector<std::vector<std::byte>> streams;
  for (std::size_t b = 0; b < blosc_block_count(format, data.size()); ++b) {
    const std::span<const std::byte> block = data.subspan(b * blocksize, std::min(blocksize, data.size() - b * blocksize));
    const std::vector<std::byte> input =
        format.byte_shuffle ? shuffled(block, format.typesize) : std::vector<std::byte>(block.begin(), block.end());
    std::vector<std::byte> stream = zstd_frame(input);
    streams.push_back(stream.size() >= input.size() ? input : stream);
  }
  std::vector<std::span<const std::byte>> spans(streams.begin(), streams.end());
  return blosc_frame(format, data.size(), spans);
}

struct BloscCase {
  int shuffle;
  std::size_t typesize;
  int level;
  std::size_t size;
  bool random;
};

TEST(DeviceFrames, BloscFramesDecodeWithTheBloscCodec) {
  const std::vector<BloscCase> cases{
      {1, 4, 5, (std::size_t{600} << 10) + 3, false},  // blocks, a short last block, a tail past the samples
      {1, 2, 5, std::size_t{256} << 10, false},         // exactly one block
      {0, 1, 5, std::size_t{700} << 10, false},
      {1, 8, 9, 1000, false},
      {1, 4, 5, (std::size_t{300} << 10) + 1, true},   // blocks stored as they are
      {0, 2, 5, 127, false},                            // under blosc's minimum: memcpyed
      {1, 2, 0, 5000, false},                           // clevel 0: memcpyed
      {1, 2, 5, 128, false},
  };
  for (const BloscCase& c : cases) {
    const CompressorSpec spec = blosc_spec("zstd", c.shuffle, c.level);
    const ChunkFormat format = device_chunk_format(spec, c.typesize);
    const std::vector<std::byte> data = c.random ? random_bytes(c.size, 5) : smooth_bytes(c.size);
    const std::vector<std::byte> frame = blosc_chunk(format, data);
    EXPECT_EQ(decode(spec, frame, data.size()), data)
        << "shuffle " << c.shuffle << " typesize " << c.typesize << " level " << c.level << " size " << c.size;
    if (!c.random && c.size > 4096 && c.level > 0) {
      EXPECT_LT(frame.size(), data.size() / 2) << c.size;
    }
  }
}

TEST(DeviceFrames, BloscRefusesAStreamLongerThanItsBlock) {
  const ChunkFormat format = device_chunk_format(blosc_spec("zstd", 0), 1);
  const std::vector<std::byte> data = smooth_bytes(1000);
  const std::vector<std::byte> too_long(1001);
  const std::vector<std::span<const std::byte>> streams{too_long};
  EXPECT_THROW(blosc_frame(format, data.size(), streams), CodecError);
}

#endif  // TILESTREAM_WITH_BLOSC

}  // namespace
}  // namespace tilestream::zarr::device
