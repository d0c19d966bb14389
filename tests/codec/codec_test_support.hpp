// Helpers shared by the codec tests: layouts, deterministic pixel patterns, hex, error assertions.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::codec::test {

inline TileLayout make_layout(std::uint32_t width, std::uint32_t rows, std::uint32_t samples,
                              DType dtype = DType::uint8, std::uint16_t predictor = 1, bool big_endian = false) {
  TileLayout layout;
  layout.width = width;
  layout.rows = rows;
  layout.samples = samples;
  layout.dtype = dtype;
  layout.predictor = predictor;
  layout.big_endian = big_endian;
  layout.photometric = samples == 3 ? photometric::rgb : photometric::min_is_black;
  return layout;
}

// Pixels with structure (runs and gradients, so every codec has something to find) and noise,
// covering the full range of the sample type so that predictor sums wrap around.
inline std::vector<std::byte> test_pixels(const TileLayout& layout, std::uint32_t seed = 1) {
  std::vector<std::byte> out(layout.decoded_bytes());
  std::uint32_t x = seed;
  const std::size_t bps = bytes_per_sample(layout.dtype);
  for (std::size_t i = 0; i < out.size() / bps; ++i) {
    x = x * 1664525u + 1013904223u;
    const std::size_t pixel = i / layout.samples;
    unsigned value = (pixel % 7 < 3) ? 0xffffu : static_cast<unsigned>(pixel * 37 + (x >> 24));
    if (pixel % 11 == 0) value = x >> 16;
    for (std::size_t b = 0; b < bps; ++b) {
      out[i * bps + b] = static_cast<std::byte>(value >> (8 * b));  // host order is little-endian here
    }
  }
  return out;
}

// Incompressible bytes.
inline std::vector<std::byte> lcg_noise(std::size_t count, std::uint32_t seed) {
  std::vector<std::byte> out(count);
  std::uint32_t x = seed;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

// A smooth 8-bit image: what JPEG is made for.
inline std::vector<std::byte> gradient_pixels(std::uint32_t width, std::uint32_t rows, std::uint32_t samples) {
  std::vector<std::byte> out(static_cast<std::size_t>(width) * rows * samples);
  for (std::uint32_t y = 0; y < rows; ++y) {
    for (std::uint32_t x = 0; x < width; ++x) {
      for (std::uint32_t s = 0; s < samples; ++s) {
        const unsigned v = 10 + x * 150 / (width - 1) + y * 60 / (rows - 1) + s * 15;  // at most 250: no wrap, no edges
        out[(static_cast<std::size_t>(y) * width + x) * samples + s] = static_cast<std::byte>(v);
      }
    }
  }
  return out;
}

inline std::vector<std::byte> from_hex(std::string_view hex) {
  std::vector<std::byte> out;
  auto nibble = [](char c) { return static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline std::vector<std::byte> to_bytes(std::string_view text) {
  std::vector<std::byte> out;
  for (char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

// Runs f and checks that it throws exactly E (not another member of the family) with a message
// containing `substring`; returns the message.
template <class E, class F>
std::string expect_error(F&& f, std::string_view substring) {
  try {
    f();
  } catch (const E& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(substring), std::string::npos) << "message: " << message;
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw; expected a message with '" << substring << "'";
  return {};
}

inline std::vector<std::byte> decode(std::uint16_t compression, std::span<const std::byte> src,
                                     const TileLayout& layout) {
  std::vector<std::byte> out(layout.decoded_bytes());
  decode_tile(compression, src, layout, out);
  return out;
}

}  // namespace tilestream::codec::test
