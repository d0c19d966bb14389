// Helpers for the Zarr tests: unique temporary directories, test arrays, blocks cut from them.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/box_copy.hpp"

namespace tilestream::zarr::test {

// A fresh directory under the system temp dir, removed when the object dies. Unique per test and
// per process (ctest runs tests in parallel).
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "tilestream-zarr-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Distinct, dtype-appropriate values for every element of an array of `count` samples.
inline std::vector<std::byte> test_array(DType dtype, std::uint64_t count) {
  std::vector<std::byte> bytes(count * bytes_per_sample(dtype));
  for (std::uint64_t i = 0; i < count; ++i) {
    switch (dtype) {
      case DType::uint8:
      case DType::int8:
        bytes[i] = static_cast<std::byte>((i * 13 + 7) % 251);
        break;
      case DType::uint16:
      case DType::int16:
      case DType::float16: {  // float16: finite and NaN bit patterns alike
        const auto v = static_cast<std::uint16_t>((i * 7919 + 3) % 65521);
        std::memcpy(bytes.data() + 2 * i, &v, 2);
        break;
      }
      case DType::float32: {
        const float v = static_cast<float>(i) * 0.5f - 3.25f;
        std::memcpy(bytes.data() + 4 * i, &v, 4);
        break;
      }
      case DType::uint32:
      case DType::int32: {
        const auto v = static_cast<std::uint32_t>(i * 2654435761u + 11);
        std::memcpy(bytes.data() + 4 * i, &v, 4);
        break;
      }
    }
  }
  return bytes;
}

// Block `coords` of `array` (shape spec.shape), padded with fill_value past the array's edge.
inline std::vector<std::byte> cut_block(const BlockEncoder& encoder, std::span<const std::byte> array,
                                        std::span<const std::uint64_t> coords) {
  const ArraySpec& spec = encoder.spec();
  const std::vector<std::uint64_t>& block = spec.block_shape();
  std::vector<std::byte> out = encoder.fill_block();
  std::vector<std::uint64_t> origin(block.size()), extent(block.size()), zero(block.size(), 0);
  for (std::size_t d = 0; d < block.size(); ++d) {
    origin[d] = coords[d] * block[d];
    extent[d] = std::min(block[d], spec.shape[d] - origin[d]);
  }
  copy_box(array.data(), spec.shape, origin, out.data(), block, zero, extent, bytes_per_sample(spec.dtype));
  return out;
}

// Calls f(coords) for every block of the grid, in C order.
template <class F>
void for_each_block(const ArraySpec& spec, F&& f) {
  const std::vector<std::uint64_t> grid = spec.grid_shape();
  std::vector<std::uint64_t> coords(grid.size(), 0);
  for (;;) {
    f(std::span<const std::uint64_t>(coords));
    std::size_t d = grid.size();
    for (;;) {
      if (d == 0) return;
      --d;
      if (++coords[d] < grid[d]) break;
      coords[d] = 0;
    }
  }
}

// Writes the whole `array` through an ArrayWriter.
inline void write_array(Store& store, const std::string& path, const ArraySpec& spec,
                        std::span<const std::byte> array) {
  const ArrayWriter writer(store, path, spec);
  for_each_block(spec, [&](std::span<const std::uint64_t> coords) {
    writer.write_block(coords, cut_block(writer.encoder(), array, coords));
  });
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
inline std::string as_string(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Runs f, expects an exception of type E whose message contains every one of `parts`.
template <class E, class F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception thrown";
  } catch (const E& e) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message '" << e.what() << "' lacks '" << part << "'";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

}  // namespace tilestream::zarr::test
