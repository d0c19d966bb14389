// End-to-end conversion of synthetic and real slides, read back through zarr::ArrayReader and
// compared with the slide's pixels: Zarr v2/v3, sharded, codecs, layouts, chunks that leave
// 1-pixel edges, OME pyramids with built levels; resume after a partial store equals one run byte
// for byte; refusal of non-empty outputs and of resuming with other options.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>

#include "support/downsample2x.hpp"
#include "tilestream/convert/plan.hpp"
#include "support/temp_path.hpp"
#include "support/testdata.hpp"
#include "tilestream/convert/convert.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/synth/synth.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::convert {
namespace {

namespace fs = std::filesystem;
using tilestream::testing::temp_path;

// A lossless synthetic slide, 1001 x 701 with 256 tiles: levels 1001x701, 501x351, 251x176.
std::string synthetic_slide(std::uint64_t width = 1001, std::uint64_t height = 701) {
  const std::string path = temp_path("slide.tif");
  synth::SynthOptions options;
  options.width = width;
  options.height = height;
  options.tile = 256;
  options.compression = codec::compression::deflate;
  options.threads = 2;
  synth::write_synthetic_slide(path, options);
  return path;
}

// The array at `path` as an interleaved (y, x, c) image.
std::vector<std::byte> read_array_yxc(const zarr::Store& store, const std::string& path, Layout layout,
                                      std::uint64_t* width = nullptr, std::uint64_t* height = nullptr) {
  const zarr::ArrayReader reader(store, path);
  const auto& shape = reader.spec().shape;
  const std::vector<std::uint64_t> origin(3, 0);
  std::vector<std::byte> data = reader.read_region(origin, shape);
  const AxisOrder axes = axis_order(layout);
  const std::uint64_t h = shape[axes.y], w = shape[axes.x], c = shape[axes.c];
  if (width) *width = w;
  if (height) *height = h;
  if (layout == Layout::yxc) return data;
  const std::size_t size = bytes_per_sample(reader.spec().dtype);
  std::vector<std::byte> out(data.size());
  for (std::uint64_t s = 0; s < c; ++s)
    for (std::uint64_t i = 0; i < h * w; ++i)
      std::memcpy(out.data() + (i * c + s) * size, data.data() + (s * h * w + i) * size, size);
  return out;
}

void expect_same_pixels(const std::vector<std::byte>& got, const HostImage& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size_bytes()) << what;
  if (std::memcmp(got.data(), want.data(), got.size()) != 0) {
    std::size_t i = 0;
    while (got[i] == want.data()[i]) ++i;
    FAIL() << what << ": first difference at byte " << i;
  }
}

std::map<std::string, std::string> all_files(const std::string& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    files[fs::relative(entry.path(), root).string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return files;
}

struct Case {
  const char* name;
  int version;
  std::uint64_t chunk, shard;
  const char* codec;
  Layout layout;
  bool ome;
  char separator;
};

class ConvertCase : public ::testing::TestWithParam<Case> {};

TEST_P(ConvertCase, ArraysReadBackAsTheSlidePixels) {
  const Case c = GetParam();
  const std::string slide_path = synthetic_slide();
  const slide::Slide slide = slide::Slide::open(slide_path);
  ConvertOptions options;
  options.zarr_version = c.version;
  options.chunk = c.chunk;
  options.shard = c.shard;
  options.compressors = zarr::parse_codec_option(c.codec);
  options.layout = c.layout;
  options.ome = c.ome;
  options.separator = c.separator;
  options.threads = 3;
  const std::string out = temp_path("out.zarr");
  fs::remove_all(out);
  Progress last;
  const ConvertResult result = convert_slide(slide, out, options, [&](const Progress& p) { last = p; });
  EXPECT_EQ(last.blocks_done, last.blocks_total);
  EXPECT_EQ(result.progress.blocks_done, result.progress.blocks_total);
  EXPECT_EQ(result.progress.blocks_skipped, 0u);
  EXPECT_GT(result.progress.bytes_written, 0u);

  const zarr::FileStore store(out);
  const Layout layout = effective_layout(options);
  std::vector<LevelShape> levels;
  for (std::size_t n = 0; n < slide.level_count(); ++n)
    levels.push_back({slide.level(n).image.width, slide.level(n).image.height, slide.level(n).downsample});
  const auto plan = plan_datasets(levels, options);
  ASSERT_EQ(result.array_paths.size(), plan.size());
  std::vector<std::byte> previous;
  std::uint64_t prev_w = 0, prev_h = 0;
  for (const DatasetPlan& d : plan) {
    SCOPED_TRACE("dataset " + d.path);
    std::uint64_t w = 0, h = 0;
    const auto got = read_array_yxc(store, d.path, layout, &w, &h);
    ASSERT_EQ(w, d.width);
    ASSERT_EQ(h, d.height);
    if (d.slide_level) {
      expect_same_pixels(got, slide.read_level(*d.slide_level), "level " + std::to_string(*d.slide_level));
    } else {
      const std::vector<std::byte> want = testing::downsample2x_of(previous, prev_h, prev_w, 3, DType::uint8);
      ASSERT_TRUE(got == want) << "built dataset differs from 2x downsampling of the one before";
    }
    previous = got;
    prev_w = w;
    prev_h = h;
  }
  const nlohmann::json attrs = zarr::read_group_attributes(store, "");
  if (c.ome) {
    const nlohmann::json& ms = c.version == 2 ? attrs.at("multiscales") : attrs.at("ome").at("multiscales");
    EXPECT_EQ(ms.at(0).at("datasets").size(), plan.size());
  } else {
    EXPECT_FALSE(attrs.contains("multiscales"));
  }
}

const Case cases[] = {
    {"v2_zstd_yxc", 2, 256, 0, "zstd", Layout::yxc, false, '/'},
    {"v2_none_dot_edges1", 2, 100, 0, "none", Layout::yxc, false, '.'},
    {"v2_gzip_cyx", 2, 200, 0, "gzip:3", Layout::cyx, false, '/'},
    {"v3_zstd_cyx", 3, 250, 0, "zstd:5", Layout::cyx, false, '/'},
    {"v3_sharded", 3, 100, 300, "zstd", Layout::yxc, false, '/'},
    {"v3_sharded_cyx_gzip", 3, 64, 512, "gzip", Layout::cyx, false, '/'},
    {"v3_ome_sharded", 3, 128, 256, "zstd", Layout::cyx, true, '/'},
    {"v2_ome", 2, 100, 0, "zstd", Layout::cyx, true, '/'},
    {"v3_ome_small_chunks", 3, 50, 0, "none", Layout::cyx, true, '/'},
#if TILESTREAM_WITH_BLOSC
    {"v3_blosc", 3, 256, 0, "blosc:zstd:3", Layout::yxc, false, '/'},
    {"v2_blosc_ome", 2, 256, 0, "blosc", Layout::cyx, true, '/'},
#endif
};
INSTANTIATE_TEST_SUITE_P(Cases, ConvertCase, ::testing::ValuesIn(cases),
                         [](const auto& info) { return std::string(info.param.name); });

// Resume after a partial store: blocks deleted, root metadata missing, temporary files left over.
TEST(Convert, ResumeEqualsOneRunByteForByte) {
  const slide::Slide slide = slide::Slide::open(synthetic_slide());
  for (const int shard : {0, 256}) {
    SCOPED_TRACE(shard);
    ConvertOptions options;
    options.chunk = 128;
    options.shard = static_cast<std::uint64_t>(shard);
    options.ome = true;
    options.threads = 2;
    const std::string one = temp_path("one.zarr"), two = temp_path("two.zarr");
    fs::remove_all(one);
    fs::remove_all(two);
    const auto full = convert_slide(slide, one, options);
    convert_slide(slide, two, options);
    // Damage: drop every third block file and the root metadata, leave temporaries behind.
    std::size_t dropped = 0, index = 0;
    for (const auto& [key, bytes] : all_files(two)) {
      if (key == "zarr.json")
        fs::remove(fs::path(two) / key);
      else if (key.find("zarr.json") == std::string::npos && index++ % 3 == 0) {
        fs::remove(fs::path(two) / key);
        std::ofstream(fs::path(two) / (key + ".0123456789abcdef.partial")) << "half";  // our leftovers' form
        ++dropped;
      }
    }
    ASSERT_GT(dropped, 0u);
    EXPECT_THROW(convert_slide(slide, two, options), UsageError);  // not empty, no --resume
    options.resume = true;
    const auto resumed = convert_slide(slide, two, options);
    EXPECT_EQ(resumed.progress.blocks_total, full.progress.blocks_total);
    EXPECT_EQ(resumed.progress.blocks_skipped, full.progress.blocks_total - dropped);
    const auto a = all_files(one), b = all_files(two);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [key, bytes] : a) {
      ASSERT_TRUE(b.count(key)) << key;
      EXPECT_TRUE(b.at(key) == bytes) << key << " differs";
    }
    // Resuming a complete store writes nothing new.
    const auto again = convert_slide(slide, two, options);
    EXPECT_EQ(again.progress.blocks_skipped, again.progress.blocks_total);
  }
}

// A run stopped on request (ConvertOptions::stop, Ctrl-C in Python) throws StoppedError, leaves only
// whole blocks, and a resumed run ends equal to one uninterrupted run.
TEST(Convert, StoppedRunResumesToOneRunByteForByte) {
  const slide::Slide slide = slide::Slide::open(synthetic_slide());
  ConvertOptions options;
  options.chunk = 128;
  options.ome = true;
  options.threads = 2;
  const std::string one = temp_path("unstopped.zarr"), two = temp_path("stopped.zarr");
  fs::remove_all(one);
  fs::remove_all(two);
  const auto full = convert_slide(slide, one, options);
  std::atomic<int> asked{0};
  options.stop = [&asked] { return ++asked > 10; };  // ten blocks, then stop
  try {
    convert_slide(slide, two, options);
    FAIL() << "the run did not stop";
  } catch (const StoppedError& e) {
    EXPECT_NE(std::string(e.what()).find("stopped on request"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resume"), std::string::npos) << e.what();
  }
  std::size_t blocks = 0;
  const auto reference = all_files(one);
  for (const auto& [key, bytes] : all_files(two)) {
    EXPECT_EQ(key.find(".partial"), std::string::npos) << key;
    if (key.find("zarr.json") == std::string::npos) {
      ++blocks;
      EXPECT_TRUE(reference.at(key) == bytes) << key << " is not whole";
    }
  }
  EXPECT_GE(blocks, 1U);
  EXPECT_LE(blocks, 10U);
  options.stop = {};
  options.resume = true;
  const auto resumed = convert_slide(slide, two, options);
  EXPECT_EQ(resumed.progress.blocks_skipped, blocks);
  const auto b = all_files(two);
  ASSERT_EQ(reference.size(), b.size());
  for (const auto& [key, bytes] : reference) {
    ASSERT_TRUE(b.count(key)) << key;
    EXPECT_TRUE(b.at(key) == bytes) << key << " differs";
  }
  EXPECT_EQ(full.progress.blocks_total, resumed.progress.blocks_total);
}

TEST(Convert, ResumeWithOtherOptionsIsRefusedOverwriteReplacesOnlyOurStore) {
  const slide::Slide slide = slide::Slide::open(synthetic_slide(600, 400));
  const std::string out = temp_path("out.zarr");
  fs::remove_all(out);
  ConvertOptions options;
  options.chunk = 128;
  convert_slide(slide, out, options);
  ConvertOptions other = options;
  other.resume = true;
  other.chunk = 256;
  try {
    convert_slide(slide, out, other);
    FAIL() << "resume with another chunk size was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("other options"), std::string::npos) << e.what();
  }
  other.zarr_version = 2;
  EXPECT_THROW(convert_slide(slide, out, other), UsageError);
  // Overwrite replaces a store of ours, never a stray file: it refuses, and changes nothing.
  std::ofstream(fs::path(out) / "stray.txt") << "x";
  other = options;
  other.overwrite = true;
  other.chunk = 256;
  try {
    convert_slide(slide, out, other);
    FAIL() << "overwrite of a store holding a stray file was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("stray.txt"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(fs::path(out) / "stray.txt"));
  EXPECT_EQ(zarr::ArrayReader(zarr::FileStore(out), "0").spec().chunk_shape, (std::vector<std::uint64_t>{128, 128, 3}));
  fs::remove(fs::path(out) / "stray.txt");
  convert_slide(slide, out, other);
  const zarr::FileStore store(out);
  EXPECT_EQ(zarr::ArrayReader(store, "0").spec().chunk_shape, (std::vector<std::uint64_t>{256, 256, 3}));
}

TEST(Convert, LevelListWritesOnlyThoseLevels) {
  const slide::Slide slide = slide::Slide::open(synthetic_slide());
  const std::string out = temp_path("out.zarr");
  fs::remove_all(out);
  ConvertOptions options;
  options.levels = {2};
  options.zarr_version = 2;
  const auto result = convert_slide(slide, out, options);
  EXPECT_EQ(result.array_paths, (std::vector<std::string>{"2"}));
  const zarr::FileStore store(out);
  expect_same_pixels(read_array_yxc(store, "2", Layout::yxc), slide.read_level(2), "level 2");
  EXPECT_FALSE(fs::exists(fs::path(out) / "0"));
}

struct RealCase {
  const char* file;
  bool ome;
  int version;
};

class ConvertRealSlide : public ::testing::TestWithParam<RealCase> {};

TEST_P(ConvertRealSlide, StoredLevelsReadBackExactly) {
  const RealCase c = GetParam();
  TILESTREAM_REQUIRE_TESTDATA(path, c.file);
  const slide::Slide slide = slide::Slide::open(path);
  const std::string out = temp_path("real.zarr");
  fs::remove_all(out);
  ConvertOptions options;
  options.ome = c.ome;
  options.zarr_version = c.version;
  options.chunk = 512;
  options.shard = c.version == 3 ? 1024 : 0;
  options.threads = 2;
  const auto result = convert_slide(slide, out, options);
  const zarr::FileStore store(out);
  const Layout layout = effective_layout(options);
  if (c.ome) {
    expect_same_pixels(read_array_yxc(store, "0", layout), slide.read_level(0), "level 0");
    const auto attrs = zarr::read_group_attributes(store, "");
    EXPECT_FALSE(attrs.empty());
  } else {
    ASSERT_EQ(result.array_paths.size(), slide.level_count());
    for (std::size_t n = 0; n < slide.level_count(); ++n)
      expect_same_pixels(read_array_yxc(store, std::to_string(n), layout), slide.read_level(n),
                         "level " + std::to_string(n));
  }
}

INSTANTIATE_TEST_SUITE_P(Slides, ConvertRealSlide,
                         ::testing::Values(RealCase{"aperio/CMU-1-Small-Region.svs", true, 2},
                                           RealCase{"aperio/CMU-1-Small-Region.svs", true, 3},
                                           RealCase{"derived/cmu1-pyramid-lzw.tif", false, 3},
                                           RealCase{"derived/cmu1-pyramid-jpeg-bigtiff.tif", true, 3},
                                           RealCase{"derived/cmu1-bigendian-zip-pred-128.tif", false, 2}));

}  // namespace
}  // namespace tilestream::convert
