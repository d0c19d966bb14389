// CRC-32C (Castagnoli), as Zarr v3's "crc32c" codec and shard indexes use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tilestream::zarr {

// CRC-32C of `bytes` (reflected, init and final xor 0xFFFFFFFF): "123456789" -> 0xE3069283.
// Uses the SSE4.2 crc32 instruction when the CPU has it, else a slicing-by-8 table.
std::uint32_t crc32c(std::span<const std::byte> bytes);
// The table-driven path alone (tests compare it with the dispatched one).
std::uint32_t crc32c_portable(std::span<const std::byte> bytes);

}  // namespace tilestream::zarr
