// A checksum of pixel bytes, printed by the CLI so that runs on different paths (CPU, GPU) and machines
// can be compared at a glance. Not cryptographic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tilestream {

// FNV-1a, 64 bit, over the bytes in order.
constexpr std::uint64_t fnv1a64(std::span<const std::byte> bytes, std::uint64_t hash = 0xcbf29ce484222325ull) {
  for (const std::byte b : bytes) {
    hash ^= static_cast<std::uint64_t>(b);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

}  // namespace tilestream
