// libFuzzer target over the Zarr chunk decoders we read: every compressor of the registry (zstd,
// gzip, zlib, blosc when built, crc32c), chains of them, transpose, and v3 sharding_indexed shards
// (index at the end or the start, with and without its crc32c). Byte 0 chooses one of `specs()`;
// the rest are the stored chunk (or shard) bytes, decoded with BlockEncoder::decode_block as
// ArrayReader does. Only tilestream::Error may escape.
//
// Seeds: run the binary with TILESTREAM_FUZZ_WRITE_SEEDS=DIR; it writes one valid encoded block per
// spec (a patterned block, encoded with BlockEncoder::encode_block).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"

namespace {

using tilestream::DType;
using tilestream::zarr::ArraySpec;
using tilestream::zarr::BlockEncoder;
using tilestream::zarr::CompressorSpec;

CompressorSpec codec(const char* name, const char* blosc_cname = "", int blosc_shuffle = 1) {
  CompressorSpec c;
  c.name = name;
  if (c.name == "blosc") c.settings = {{"cname", *blosc_cname ? blosc_cname : "lz4"}, {"shuffle", blosc_shuffle}};
  return c;
}

ArraySpec v2(DType dtype, std::vector<CompressorSpec> compressors) {
  ArraySpec s;
  s.zarr_format = 2;
  s.shape = {3, 20, 24};
  s.chunk_shape = {3, 8, 8};
  s.dtype = dtype;
  s.compressors = std::move(compressors);
  s.key_encoding = tilestream::zarr::ChunkKeyEncoding::v2_encoding;
  return s;
}

ArraySpec v3(DType dtype, std::vector<CompressorSpec> compressors, std::vector<int> transpose = {}) {
  ArraySpec s;
  s.shape = {20, 24, 3};
  s.chunk_shape = {8, 8, 3};
  s.dtype = dtype;
  s.compressors = std::move(compressors);
  s.transpose_order = std::move(transpose);
  return s;
}

ArraySpec sharded(std::vector<CompressorSpec> compressors, bool index_at_end, bool index_crc32c) {
  ArraySpec s = v3(DType::uint8, std::move(compressors));
  s.shard_shape = {16, 16, 3};
  s.shard_index_at_end = index_at_end;
  s.shard_index_crc32c = index_crc32c;
  s.fill_value = 7;
  return s;
}

const std::vector<BlockEncoder>& encoders() {
  static const std::vector<BlockEncoder> all = [] {
    std::vector<ArraySpec> specs = {
        v2(DType::uint8, {}),
        v2(DType::uint8, {codec("zstd")}),
        v2(DType::uint16, {codec("gzip")}),
        v2(DType::uint8, {codec("zlib")}),
        v3(DType::uint16, {}),
        v3(DType::uint8, {codec("zstd")}),
        v3(DType::int16, {codec("gzip")}),
        v3(DType::uint8, {codec("crc32c")}),
        v3(DType::uint8, {codec("gzip"), codec("crc32c")}),
        v3(DType::float32, {codec("zstd"), codec("crc32c")}, {2, 0, 1}),
        sharded({}, true, true),
        sharded({}, false, true),
        sharded({}, true, false),
        sharded({codec("zstd"), codec("crc32c")}, true, true),
        sharded({codec("gzip")}, false, false),
#if TILESTREAM_WITH_BLOSC
        v2(DType::uint16, {codec("blosc", "lz4", 1)}),
        v2(DType::uint8, {codec("blosc", "zstd", 2)}),
        v3(DType::uint8, {codec("blosc", "blosclz", 0)}),
        v3(DType::int16, {codec("blosc", "zlib", 1), codec("crc32c")}),
        sharded({codec("blosc", "lz4hc", 2)}, true, true),
#endif
    };
    std::vector<BlockEncoder> result;
    for (ArraySpec& s : specs) result.emplace_back(std::move(s));
    return result;
  }();
  return all;
}

void write_seeds(const char* dir) {
  std::filesystem::create_directories(dir);
  for (std::size_t i = 0; i < encoders().size(); ++i) {
    const BlockEncoder& encoder = encoders()[i];
    std::vector<std::byte> block(encoder.block_bytes());
    for (std::size_t k = 0; k < block.size(); ++k) block[k] = static_cast<std::byte>((k * 7 + k / 64) & 0xFF);
    const std::vector<std::byte> stored = encoder.encode_block(block);
    std::ofstream out(std::filesystem::path(dir) / ("spec-" + std::to_string(i)), std::ios::binary);
    out.put(static_cast<char>(i));
    out.write(reinterpret_cast<const char*>(stored.data()), static_cast<std::streamsize>(stored.size()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("TILESTREAM_FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  (void)encoders();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::vector<BlockEncoder>& all = encoders();
  const BlockEncoder& encoder = all[data[0] % all.size()];
  // A copy, so that ASan sees reads past the end of the stored bytes.
  const std::vector<std::byte> stored(reinterpret_cast<const std::byte*>(data) + 1,
                                      reinterpret_cast<const std::byte*>(data) + size);
  try {
    const std::vector<std::byte> block = encoder.decode_block(stored);
    if (block.size() != encoder.block_bytes()) __builtin_trap();  // decode_block promises a full block
  } catch (const tilestream::Error&) {
  }
  return 0;
}
