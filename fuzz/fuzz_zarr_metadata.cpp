// libFuzzer target over the Zarr metadata that `convert --resume` reads back: the bytes become the
// stored documents of an in-memory store (.zgroup, .zattrs, .zarray, zarr.json of the root and of
// arrays "0" and "1"), then the real resume check runs against the conversion of a small slide
// (convert::check_resume_metadata, as pipeline::prepare_output calls it), and the same documents are parsed the
// way a reader opens a store (ArrayReader: parse_array_metadata, a block and a region; the group's
// attributes). Only tilestream::Error may escape.
//
// Input: byte 0 chooses one of `conversions()`; the rest is split at NUL bytes into documents, the
// k-th stored under keys[k] (an empty piece: no such key). JSON text holds no raw NUL.
//
// Seeds: run the binary with TILESTREAM_FUZZ_WRITE_SEEDS=DIR; it writes, for each conversion, the
// documents that conversion stores (so the check passes and mutations start from a valid store).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

#include "tilestream/convert/prepare.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/tiff/writer.hpp"
#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/store.hpp"

namespace {

using tilestream::convert::ConvertOptions;
using tilestream::convert::PreparedConversion;

constexpr std::array<const char*, 9> keys = {"zarr.json",   "0/zarr.json", "1/zarr.json",
                                             ".zgroup",     ".zattrs",     "0/.zarray",
                                             "0/.zattrs",   "1/.zarray",   "1/.zattrs"};

// Decoded bytes a reader may allocate for one input: more is skipped (a spec that asks for more is
// the parser's business to refuse, or not, but it must not make the fuzzer run out of memory).
constexpr std::uint64_t max_block_bytes = std::uint64_t{1} << 20;

// A two-level 40 x 36 RGB slide, in memory under a fixed name (the OME attributes carry it).
const tilestream::slide::Slide& small_slide() {
  static const std::vector<std::byte> bytes = [] {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                      ("tilestream-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "slide.tif").string();
    {
      tilestream::tiff::TiffWriter writer(path, {});
      const auto fill = [](std::uint64_t x0, std::uint64_t y0, std::uint32_t, std::uint32_t,
                           std::span<std::byte> pixels) {
        for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::byte>(x0 + y0 + i);
      };
      tilestream::tiff::PageSpec page;
      page.width = 40;
      page.height = 36;
      page.tile_width = page.tile_height = 16;
      writer.add_page(page, fill);
      page.width = 20;
      page.height = 18;
      page.subfile_type = 1;
      writer.add_page(page, fill);
      writer.finish();
    }
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove_all(dir);
    std::vector<std::byte> result(text.size());
    std::transform(text.begin(), text.end(), result.begin(), [](char c) { return static_cast<std::byte>(c); });
    return result;
  }();
  static const tilestream::slide::Slide slide =
      tilestream::slide::Slide::open(std::make_shared<tilestream::io::MemorySource>(bytes, "fuzz-slide.tif"));
  return slide;
}

struct Conversion {
  ConvertOptions options;
  PreparedConversion prepared;
};

const std::vector<Conversion>& conversions() {
  static const std::vector<Conversion> all = [] {
    std::vector<ConvertOptions> options(6);
    options[0].zarr_version = 2;
    options[0].chunk = 16;
    options[1].zarr_version = 2;
    options[1].chunk = 16;
    options[1].ome = true;
    options[1].compressors = tilestream::zarr::parse_codec_option("zstd:5");
    options[2].chunk = 16;
    options[3].chunk = 16;
    options[3].shard = 32;
    options[3].compressors = tilestream::zarr::parse_codec_option("gzip");
    options[4].chunk = 16;
    options[4].ome = true;
    options[4].dtype = tilestream::DType::float32;
    options[5].zarr_version = 2;
    options[5].chunk = 16;
    options[5].separator = '.';
    options[5].compressors = tilestream::zarr::parse_codec_option("zlib:1");
    std::vector<Conversion> result;
    for (ConvertOptions& o : options) {
      o.resume = true;
      PreparedConversion prepared = tilestream::convert::prepare_conversion(small_slide(), o);
      result.push_back({std::move(o), std::move(prepared)});
    }
    return result;
  }();
  return all;
}

// What the reader side does with the same documents.
void read_back(const tilestream::zarr::Store& store, const std::string& path) {
  try {
    const tilestream::zarr::ArrayReader reader(store, path);
    const tilestream::zarr::ArraySpec& spec = reader.spec();
    std::uint64_t elements = tilestream::bytes_per_sample(spec.dtype);
    for (const std::uint64_t side : spec.block_shape()) {
      if (side > max_block_bytes || (elements *= side) > max_block_bytes) return;
    }
    const std::vector<std::uint64_t> first(spec.shape.size(), 0);
    const std::vector<std::byte> block = reader.read_block(first);
    if (block.size() != elements) __builtin_trap();  // a block is always whole
    std::vector<std::uint64_t> extent;
    for (const std::uint64_t side : spec.shape) extent.push_back(std::min<std::uint64_t>(side, 3));
    (void)reader.read_region(first, extent);
  } catch (const tilestream::Error&) {
  }
}

void write_seeds(const char* dir) {
  std::filesystem::create_directories(dir);
  for (std::size_t c = 0; c < conversions().size(); ++c) {
    const Conversion& conversion = conversions()[c];
    tilestream::zarr::MemoryStore store;
    for (std::size_t i = 0; i < conversion.prepared.plan.size(); ++i)
      tilestream::zarr::ArrayWriter(store, conversion.prepared.plan[i].path, conversion.prepared.specs[i]);
    tilestream::zarr::write_group(store, "", conversion.options.zarr_version, conversion.prepared.group_attributes);
    std::string input(1, static_cast<char>(c));
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (k > 0) input += '\0';
      if (const auto value = store.get(keys[k]))
        input.append(reinterpret_cast<const char*>(value->data()), value->size());
    }
    std::ofstream(std::filesystem::path(dir) / ("conversion-" + std::to_string(c)), std::ios::binary)
        << input;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("TILESTREAM_FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  (void)conversions();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Conversion& conversion = conversions()[data[0] % conversions().size()];
  tilestream::zarr::MemoryStore store;
  const std::span<const std::byte> documents(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  std::size_t start = 0;
  for (std::size_t k = 0; k < keys.size() && start <= documents.size(); ++k) {
    const auto rest = documents.subspan(start);
    const std::size_t length =
        static_cast<std::size_t>(std::find(rest.begin(), rest.end(), std::byte{0}) - rest.begin());
    if (length > 0) store.put(keys[k], rest.first(length));
    start += length + 1;
  }
  try {
    tilestream::convert::check_resume_metadata(store, conversion.prepared, conversion.options.zarr_version);
  } catch (const tilestream::Error&) {
  }
  read_back(store, "0");
  read_back(store, "1");
  try {
    (void)tilestream::zarr::read_group_attributes(store, "");
  } catch (const tilestream::Error&) {
  }
  return 0;
}
