// SHA-256 (FIPS 180-4), for OpenSlide's quickhash-1 property, which is a SHA-256 of tile bytes and
// tag strings. Incremental: feed bytes with update(), read the digest once with hex_digest().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tilestream {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::byte> bytes);
  void update(std::string_view text) { update(std::as_bytes(std::span(text.data(), text.size()))); }
  // The 32-byte digest; finishes the hash (later updates are a usage error and throw UsageError).
  std::array<std::uint8_t, 32> digest();
  // The digest as 64 lower-case hex digits, as g_checksum_get_string() prints it.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t block_used_ = 0;
  std::uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

}  // namespace tilestream
