// Zarr v3 "crc32c" codec: appends the little-endian CRC-32C of the bytes; decoding checks and strips it.
#include <iomanip>

#include "tilestream/core/error.hpp"
#include "zarr/compressor.hpp"
#include "zarr/crc32c.hpp"

namespace tilestream::zarr {
namespace {

std::vector<std::byte> encode(const CompressorSpec&, std::size_t, std::span<const std::byte> bytes) {
  std::vector<std::byte> out(bytes.size() + 4);
  std::copy(bytes.begin(), bytes.end(), out.begin());
  const std::uint32_t crc = crc32c(bytes);
  for (int i = 0; i < 4; ++i) out[bytes.size() + i] = static_cast<std::byte>((crc >> (8 * i)) & 0xFF);
  return out;
}

std::vector<std::byte> decode(const CompressorSpec&, std::span<const std::byte> bytes, std::size_t max_size) {
  check<CodecError>(bytes.size() >= 4, "crc32c: ", bytes.size(), " bytes cannot hold a checksum");
  check<CodecError>(bytes.size() - 4 <= max_size, "crc32c: ", bytes.size() - 4, " bytes of data, more than the ",
                    max_size, " expected");
  const std::span<const std::byte> data = bytes.first(bytes.size() - 4);
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= static_cast<std::uint32_t>(bytes[data.size() + i]) << (8 * i);
  const std::uint32_t computed = crc32c(data);
  if (stored != computed) {
    std::ostringstream message;
    message << std::hex << std::setfill('0') << "crc32c checksum mismatch: stored 0x" << std::setw(8)
            << stored << ", computed 0x" << std::setw(8) << computed;
    throw CodecError(message.str());
  }
  return {data.begin(), data.end()};
}

}  // namespace

const CompressorCodec& crc32c_codec() {
  static const CompressorCodec codec{
      .name = "crc32c",
      .in_v2 = false,
      .in_v3 = true,
      .encode = encode,
      .decode = decode,
      .to_v2 = nullptr,
      .to_v3 = [](const CompressorSpec&, std::size_t) { return nlohmann::json(); },
      .from_v2 = nullptr,
      .from_v3 = [](const nlohmann::json&) { return crc32c_spec(); },
      // Not offered by --codec: the checksum comes with sharding (its index) or from metadata read.
      .option_syntax = {},
      .option_forms = {},
      .parse_option = nullptr,
  };
  return codec;
}

}  // namespace tilestream::zarr
