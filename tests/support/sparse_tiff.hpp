// A BigTIFF whose one level is as large as a test wants (hundreds of gigabytes) in a file of a few
// kilobytes: every tile is sparse (TileByteCounts 0, read as zeros, as libtiff and tifffile do), so the
// index is valid and only an allocation for the whole level is large. Header-only, so that the CPU and
// GPU test binaries can both use it. For tests of the memory checks; never read such a level whole.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tilestream::testing {

// Writes an uncompressed, interleaved, little-endian BigTIFF of width x height x samples uint8 in
// tiles of tile x tile pixels, every tile sparse. samples: 1 (min-is-black) or 3 (RGB).
inline void write_sparse_tiff(const std::string& path, std::uint64_t width, std::uint64_t height,
                              std::uint16_t samples, std::uint32_t tile) {
  const std::uint64_t tiles = ((width + tile - 1) / tile) * ((height + tile - 1) / tile);
  struct Entry {
    std::uint16_t tag, type;
    std::uint64_t count, value;  // value: inline (left-justified) or offset
  };
  constexpr std::uint16_t short_ = 3, long_ = 4, long8 = 16;
  constexpr std::uint64_t ifd_offset = 16;
  constexpr std::uint64_t entry_count = 11;
  const std::uint64_t array_offset = ifd_offset + 8 + entry_count * 20 + 8;  // after the IFD
  // Inline SHORTs pack left-justified, little-endian: 8,8,8 for BitsPerSample.
  const std::uint64_t bits = samples == 1 ? 8 : (8ull | (8ull << 16) | (8ull << 32));
  const Entry entries[entry_count] = {
      {256, long8, 1, width},                       // ImageWidth
      {257, long8, 1, height},                      // ImageLength
      {258, short_, samples, bits},                 // BitsPerSample
      {259, short_, 1, 1},                          // Compression: none
      {262, short_, 1, samples == 1 ? 1u : 2u},     // Photometric
      {277, short_, 1, samples},                    // SamplesPerPixel
      {284, short_, 1, 1},                          // PlanarConfiguration: interleaved
      {322, long_, 1, tile},                        // TileWidth
      {323, long_, 1, tile},                        // TileLength
      {324, long8, tiles, tiles == 1 ? 0 : array_offset},  // TileOffsets: all 0
      {325, long8, tiles, tiles == 1 ? 0 : array_offset},  // TileByteCounts: all 0 (the same zeros)
  };
  std::vector<unsigned char> bytes;
  const auto put = [&](std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) bytes.push_back(static_cast<unsigned char>(value >> (8 * i)));
  };
  put('I' | ('I' << 8), 2);
  put(43, 2);
  put(8, 2);
  put(0, 2);
  put(ifd_offset, 8);
  put(entry_count, 8);
  for (const Entry& e : entries) {
    put(e.tag, 2);
    put(e.type, 2);
    put(e.count, 8);
    put(e.value, 8);
  }
  put(0, 8);                          // no next IFD
  bytes.resize(bytes.size() + tiles * 8, 0);  // the zeros both arrays point at
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace tilestream::testing
