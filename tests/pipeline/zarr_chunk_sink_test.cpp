// The pipeline's chunk sink: the raw path (uncompressed arrays) writes each chunk's file in row
// pieces from packed and from strided pixels, whole or in bands (begin_rows, bands out of order and
// from several threads), padding edge chunks with zeros, and its files equal what the array writer's
// encoder stores for the padded block; the encoded path is read back through the array reader; a
// chunk that cannot be written, or whose bands miss rows, is an error naming its key and leaves no
// file; bands in device memory (a host stand-in for cuFile here) go into a file store's value files and
// equal host bands. These run on every kind of store (FileStore, FileStore with fsync, MemoryStore): the sink
// needs nothing but the Store interface. Failures of files (a file in the way, a folder removed before
// the rename) are FileStore's alone.
#include "pipeline/zarr_chunk_sink.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::pipeline {
namespace {

using tilestream::testing::temp_path;

struct Output {
  ChunkPlan plan;
  std::vector<float> pixels;  // the whole output image, (y, x, c)
  std::size_t row_bytes() const { return plan.output.width * plan.output.pixel_bytes(); }
  const std::byte* at(std::uint64_t y, std::uint64_t x) const {
    return reinterpret_cast<const std::byte*>(pixels.data()) + y * row_bytes() + x * plan.output.pixel_bytes();
  }
};

Output make_output() {
  Output o;
  // Sobel turns 23 x 37 RGB uint8 into float32; chunks of 10 leave 3-row and 7-column edge chunks.
  o.plan = plan_chunks(ops::Chain::parse(std::vector<std::string>{"sobel"}), {23, 37, 3, DType::uint8}, 10);
  o.pixels.resize(23 * 37 * 3);
  for (std::size_t i = 0; i < o.pixels.size(); ++i) o.pixels[i] = static_cast<float>(i) + 0.25f;
  return o;
}

// The chunk's full block: its pixels, zeros beyond the image.
std::vector<std::byte> padded_block(const Output& o, const ChunkTask& task) {
  const std::size_t pixel = o.plan.output.pixel_bytes(), row = o.plan.chunk_width * pixel;
  std::vector<std::byte> block(o.plan.chunk_bytes(), std::byte{0});
  for (std::uint64_t y = 0; y < task.out.height; ++y)
    std::memcpy(block.data() + y * row, o.at(task.out.y + y, task.out.x), task.out.width * pixel);
  return block;
}

zarr::ArraySpec spec_for(const Output& o, int version, const std::string& codec) {
  ProcessOptions options;
  options.zarr_version = version;
  options.compressors = zarr::parse_codec_option(codec);
  return output_array_spec(o.plan, ops::Chain::parse(std::vector<std::string>{"sobel"}), options, "synthetic");
}

// Hands every chunk to `sink`, even ones as a view into the whole image (strided), odd ones packed.
void write_all_chunks(const Output& o, ZarrChunkSink& sink) {
  const std::size_t pixel = o.plan.output.pixel_bytes();
  for (std::size_t n = 0; n < o.plan.tasks.size(); ++n) {
    const ChunkTask& task = o.plan.tasks[n];
    if (n % 2 == 0) {
      sink.write(task, {o.at(task.out.y, task.out.x), o.row_bytes(), task.out});
    } else {
      std::vector<std::byte> packed(task.out.height * task.out.width * pixel);
      for (std::uint64_t y = 0; y < task.out.height; ++y)
        std::memcpy(packed.data() + y * task.out.width * pixel, o.at(task.out.y + y, task.out.x),
                    task.out.width * pixel);
      sink.write(task, {packed.data(), task.out.width * pixel, task.out});
    }
  }
}

// The stores the sink runs on.
struct StoreKind {
  const char* name;
  bool files;  // FileStore (else MemoryStore)
  bool fsync;  // the FileStore's durability policy
};

class ZarrChunkSinkOn : public ::testing::TestWithParam<StoreKind> {
 protected:
  // A new empty store; FileStores under a fresh temporary root, removed at the end.
  zarr::Store& make_store(const std::string& name) {
    if (GetParam().files) {
      const std::string root = temp_path(concat(GetParam().name, "_", name));
      std::filesystem::remove_all(root);
      roots_.push_back(root);
      stores_.push_back(std::make_unique<zarr::FileStore>(root, zarr::FileStore::Options{.fsync = GetParam().fsync}));
    } else {
      stores_.push_back(std::make_unique<zarr::MemoryStore>());
    }
    return *stores_.back();
  }
  // What `store` holds besides its metadata: keys, and partial files left (FileStore).
  std::vector<std::string> entries(const zarr::Store& store) const {
    std::vector<std::string> found;
    if (const auto* memory = dynamic_cast<const zarr::MemoryStore*>(&store)) {
      for (const std::string& key : memory->keys())
        if (key != "zarr.json" && key != ".zarray" && key != ".zattrs") found.push_back(key);
      return found;
    }
    if (!std::filesystem::exists(store.name())) return found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(store.name())) {
      const std::string file = entry.path().filename().string();
      if (entry.is_regular_file() && file != "zarr.json" && file != ".zarray" && file != ".zattrs")
        found.push_back(std::filesystem::relative(entry.path(), store.name()).string());
    }
    return found;
  }
  void TearDown() override {
    for (const std::string& root : roots_) std::filesystem::remove_all(root);
  }

 private:
  std::vector<std::unique_ptr<zarr::Store>> stores_;
  std::vector<std::string> roots_;
};

INSTANTIATE_TEST_SUITE_P(Stores, ZarrChunkSinkOn,
                         ::testing::Values(StoreKind{"File", true, false}, StoreKind{"FileFsync", true, true},
                                           StoreKind{"Memory", false, false}),
                         [](const auto& info) { return std::string(info.param.name); });

// Every layout and block kind the sink serves (convert's and process's arrays): (y, x, c) and (c, y, x),
// chunks and shards that reach past the image, raw and encoded. The array read back holds the image,
// in the layout's axis order, whatever the block; the edge blocks' padding is the fill 0 (what a Zarr
// reader of the raw block file sees).
TEST_P(ZarrChunkSinkOn, EveryLayoutAndBlockReadsBackAsTheImage) {
  const Output o = make_output();  // 23 x 37 x 3 float32
  struct Kind {
    Layout layout;
    std::uint64_t chunk, shard;
    const char* codec;
  };
  for (const Kind k : {Kind{Layout::yxc, 10, 0, "none"}, Kind{Layout::cyx, 10, 0, "none"},
                       Kind{Layout::cyx, 8, 0, "zstd"}, Kind{Layout::yxc, 8, 16, "none"},
                       Kind{Layout::cyx, 8, 32, "zstd"}, Kind{Layout::cyx, 64, 0, "none"}}) {
    const std::string what = concat(k.layout == Layout::cyx ? "cyx" : "yxc", " chunk ", k.chunk, " shard ", k.shard,
                                    " ", k.codec);
    const zarr::ArraySpec spec =
        image_array_spec(23, 37, 3, DType::float32,
                         {.chunk = k.chunk, .shard = k.shard, .compressors = zarr::parse_codec_option(k.codec), .layout = k.layout});
    const AxisOrder axes = axis_order(k.layout);
    const ChunkPlan plan = plan_blocks(ops::Chain(), {23, 37, 3, DType::float32}, spec.block_shape()[axes.y],
                                       spec.block_shape()[axes.x]);
    zarr::Store& store = make_store(concat("layout_", k.chunk, "_", k.shard, "_", k.codec, "_",
                                           k.layout == Layout::cyx ? "cyx" : "yxc", ".zarr"));
    {
      const zarr::ArrayWriter writer(store, "", spec);
      ZarrChunkSink sink(store, writer, plan, k.layout, 2, 0, {});
      EXPECT_EQ(sink.raw(), k.codec == std::string("none") && k.shard == 0 && k.layout == Layout::yxc) << what;
      for (const ChunkTask& task : plan.tasks) sink.write(task, {o.at(task.out.y, task.out.x), o.row_bytes(), task.out});
      sink.flush();
      EXPECT_EQ(sink.snapshot().chunks_done, plan.tasks.size()) << what;
    }
    const zarr::ArrayReader reader(store, "");
    std::vector<std::uint64_t> origin(3, 0), extent = spec.shape;
    const std::vector<std::byte> all = reader.read_region(origin, extent);
    ASSERT_EQ(all.size(), o.pixels.size() * sizeof(float)) << what;
    std::size_t wrong = 0;
    for (std::uint64_t y = 0; y < 23; ++y)
      for (std::uint64_t x = 0; x < 37; ++x)
        for (std::uint64_t c = 0; c < 3; ++c) {
          const std::uint64_t at = k.layout == Layout::cyx ? (c * 23 + y) * 37 + x : (y * 37 + x) * 3 + c;
          float value = 0;
          std::memcpy(&value, all.data() + at * sizeof(float), sizeof(float));
          wrong += value != o.pixels[(y * 37 + x) * 3 + c];
        }
    EXPECT_EQ(wrong, 0u) << what;
    // A block past the image's edge: zeros beyond it.
    std::vector<std::uint64_t> last(3, 0);
    last[axes.y] = plan.grid_rows - 1;
    last[axes.x] = plan.grid_cols - 1;
    const std::vector<std::byte> edge = reader.read_block(last);
    const ChunkTask& corner = plan.tasks.back();
    if (corner.out.height < plan.chunk_height) {
      std::vector<std::uint64_t> below = {0, 0, 0};
      below[axes.y] = plan.chunk_height - 1;  // the block's last row, below the image
      const std::size_t index = k.layout == Layout::cyx ? below[1] * plan.chunk_width : below[0] * plan.chunk_width * 3;
      float value = 1;
      std::memcpy(&value, edge.data() + index * sizeof(float), sizeof(float));
      EXPECT_EQ(value, 0.0f) << what;
    }
  }
}

TEST_P(ZarrChunkSinkOn, RawChunksEqualTheEncodersPaddedBlocks) {
  const Output o = make_output();
  ASSERT_EQ(o.plan.tasks.size(), 12u);
  for (const int version : {2, 3})
    for (const std::size_t piece : {std::size_t{1}, std::size_t{250}, std::size_t{1} << 20}) {
      const std::string what = concat("v", version, ", pieces of ", piece, " bytes");
      zarr::Store& store = make_store(concat("raw_", version, "_", piece, ".zarr"));
      const zarr::ArrayWriter writer(store, "", spec_for(o, version, "none"));
      ZarrChunkSink sink(store, writer, o.plan, Layout::yxc, 3, piece, {});
      ASSERT_TRUE(sink.raw()) << what;
      write_all_chunks(o, sink);
      sink.flush();
      EXPECT_EQ(sink.snapshot().chunks_done, 12u) << what;
      EXPECT_EQ(sink.snapshot().bytes_written, 12u * o.plan.chunk_bytes()) << what;
      for (const ChunkTask& task : o.plan.tasks) {
        const std::uint64_t coords[3] = {task.row, task.col, 0};
        const auto stored = store.get(writer.key(coords));
        ASSERT_TRUE(stored) << what << ": no chunk " << writer.key(coords);
        EXPECT_EQ(*stored, writer.encoder().encode_block(padded_block(o, task)))
            << what << ", chunk " << writer.key(coords);
      }
      EXPECT_EQ(entries(store).size(), 12u) << what << ": the chunks and nothing else (no partial file)";
    }
}

// Hands every chunk over in bands of `band` rows, last band first, two threads taking alternate bands.
void write_all_chunks_in_bands(const Output& o, ZarrChunkSink& sink, std::uint64_t band) {
  for (const ChunkTask& task : o.plan.tasks) {
    const std::unique_ptr<ChunkRows> rows = sink.begin_rows(task);
    std::vector<ops::Box> boxes;
    for (std::uint64_t y = 0; y < task.out.height; y += band)
      boxes.push_back({task.out.y + y, task.out.x, std::min(band, task.out.height - y), task.out.width});
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t b = boxes.size(); b-- > 0;)
          if (b % 2 == static_cast<std::size_t>(t)) rows->write_rows({o.at(boxes[b].y, boxes[b].x), o.row_bytes(), boxes[b]});
      });
    }
    threads.clear();
    rows->finish();
  }
}

TEST_P(ZarrChunkSinkOn, BandsEqualWholeChunks) {
  const Output o = make_output();
  for (const std::string codec : {"none", "zstd"})
    for (const std::uint64_t band : {1u, 3u, 10u}) {
      const std::string what = concat(codec, ", bands of ", band, " rows");
      zarr::Store& whole_store = make_store(concat("whole_", codec, band, ".zarr"));
      zarr::Store& bands_store = make_store(concat("bands_", codec, band, ".zarr"));
      const zarr::ArrayWriter whole_writer(whole_store, "", spec_for(o, 3, codec));
      const zarr::ArrayWriter bands_writer(bands_store, "", spec_for(o, 3, codec));
      ZarrChunkSink whole(whole_store, whole_writer, o.plan, Layout::yxc, 2, 0, {});
      ZarrChunkSink bands(bands_store, bands_writer, o.plan, Layout::yxc, 2, 250, {});
      write_all_chunks(o, whole);
      write_all_chunks_in_bands(o, bands, band);
      whole.flush();
      bands.flush();
      EXPECT_EQ(bands.snapshot().chunks_done, 12u) << what;
      EXPECT_EQ(bands.snapshot().bytes_written, whole.snapshot().bytes_written) << what;
      for (const ChunkTask& task : o.plan.tasks) {
        const std::uint64_t coords[3] = {task.row, task.col, 0};
        const std::string key = bands_writer.key(coords);
        const auto got = bands_store.get(key);
        ASSERT_TRUE(got) << what << ": no chunk " << key;
        EXPECT_EQ(*got, whole_store.get(key).value()) << what << ", chunk " << key;
        if (codec == "none") EXPECT_EQ(*got, padded_block(o, task)) << what << ", chunk " << key;
      }
      EXPECT_EQ(entries(bands_store).size(), 12u) << what;
    }
}

TEST_P(ZarrChunkSinkOn, BandsMissingRowsOrAbandonedStoreNothing) {
  const Output o = make_output();
  for (const std::string codec : {"none", "zstd"}) {
    zarr::Store& store = make_store(concat("missing_", codec, ".zarr"));
    const zarr::ArrayWriter writer(store, "", spec_for(o, 3, codec));
    ZarrChunkSink sink(store, writer, o.plan, Layout::yxc, 2, 0, {});
    const ChunkTask& task = o.plan.tasks[5];  // interior: rows 10 to 20
    {
      const auto rows = sink.begin_rows(task);
      rows->write_rows({o.at(task.out.y, task.out.x), o.row_bytes(), {task.out.y, task.out.x, 4, task.out.width}});
      try {
        rows->finish();
        ADD_FAILURE() << codec << ": finished with 6 rows missing";
      } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("4 of 10 rows written"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("writing chunk c/1/1/0"), std::string::npos) << e.what();
      }
      try {
        rows->write_rows({o.at(0, 0), o.row_bytes(), {0, 0, 2, 5}});
        ADD_FAILURE() << codec << ": took rows of another box";
      } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("rows of another box"), std::string::npos) << e.what();
      }
    }
    {
      const auto abandoned = sink.begin_rows(o.plan.tasks[6]);
      abandoned->write_rows({o.at(10, 20), o.row_bytes(), {10, 20, 10, 10}});
    }
    sink.flush();
    EXPECT_EQ(sink.snapshot().chunks_done, 0u) << codec;
    EXPECT_EQ(entries(store), std::vector<std::string>{}) << codec << ": no chunk and no partial file";
  }
}

// Stands in for cuFile on a machine without a GPU: the "device" pointer is host memory, written with
// pwrite at the offset into the value's file (opened without truncation, as the CUDA backend's writer
// opens it). Counts what it was given.
struct HostFileWriters {
  std::shared_ptr<std::atomic<int>> opened = std::make_shared<std::atomic<int>>(0);
  DeviceFileWriters writers() const {
    return [opened = opened](const std::string& path) -> std::unique_ptr<DeviceFileWriter> {
      struct Writer final : DeviceFileWriter {
        explicit Writer(const std::string& path) : fd(::open(path.c_str(), O_WRONLY)) {
          if (fd < 0) throw IoError(concat("open ", path, " for device writes failed"));
        }
        ~Writer() override { ::close(fd); }
        void write(std::uint64_t offset, const std::byte* device, std::size_t bytes) override {
          if (::pwrite(fd, device, bytes, static_cast<off_t>(offset)) != static_cast<ssize_t>(bytes))
            throw IoError("pwrite failed");
        }
        int fd;
      };
      ++*opened;
      return std::make_unique<Writer>(path);
    };
  }
};

// The rows of `box` (whole chunk rows) packed `chunk_width` pixels wide: the image's pixels, zeros
// beyond its right edge, as a device backend packs a band before writing it from device memory.
std::vector<std::byte> packed_chunk_rows(const Output& o, const ops::Box& box) {
  const std::size_t pixel = o.plan.output.pixel_bytes(), row = o.plan.chunk_width * pixel;
  const std::uint64_t inside = std::min<std::uint64_t>(o.plan.chunk_width, o.plan.output.width - box.x);
  std::vector<std::byte> band(box.height * row, std::byte{0});
  for (std::uint64_t y = 0; y < box.height; ++y) std::memcpy(band.data() + y * row, o.at(box.y + y, box.x), inside * pixel);
  return band;
}

// Raw chunks whose bands come in device memory are written from there into the value's file when the
// store's values are files (FileStore, with and without fsync), and equal the host-band chunks byte
// for byte; a MemoryStore or an encoded array takes host bands only. Misshapen device rows are a
// UsageError naming the chunk, and store nothing.
TEST_P(ZarrChunkSinkOn, DeviceRowsEqualHostRowsWhereTheStoreTakesThem) {
  const Output o = make_output();  // 23 x 37 float32 in chunks of 10: edge chunks 3 rows, 7 columns
  for (const std::string codec : {"none", "zstd"}) {
    const std::string what = concat(GetParam().name, ", ", codec);
    zarr::Store& host_store = make_store(concat("host_rows_", codec, ".zarr"));
    zarr::Store& device_store = make_store(concat("device_rows_", codec, ".zarr"));
    const zarr::ArrayWriter host_writer(host_store, "", spec_for(o, 3, codec));
    const zarr::ArrayWriter device_writer(device_store, "", spec_for(o, 3, codec));
    const HostFileWriters files;
    ZarrChunkSink host(host_store, host_writer, o.plan, Layout::yxc, 2, 0, {});
    ZarrChunkSink device(device_store, device_writer, o.plan, Layout::yxc, 2, 0, {}, files.writers());
    write_all_chunks_in_bands(o, host, 4);
    const bool takes = GetParam().files && codec == "none";
    for (const ChunkTask& task : o.plan.tasks) {
      const std::unique_ptr<ChunkRows> rows = device.begin_rows(task);
      ASSERT_EQ(rows->takes_device_rows(), takes) << what;
      for (std::uint64_t y = 0; y < task.out.height; y += 4) {  // last band first
        const std::uint64_t first = task.out.height - std::min<std::uint64_t>(task.out.height, y + 4);
        const ops::Box box{task.out.y + first, task.out.x, std::min<std::uint64_t>(4, task.out.height - y),
                           task.out.width};
        if (takes) {
          const std::vector<std::byte> band = packed_chunk_rows(o, box);
          rows->write_device_rows({band.data(), o.plan.chunk_width * o.plan.output.pixel_bytes(),
                                   {box.y, box.x, box.height, o.plan.chunk_width}});
        } else {
          rows->write_rows({o.at(box.y, box.x), o.row_bytes(), box});
        }
      }
      rows->finish();
    }
    host.flush();
    device.flush();
    EXPECT_EQ(device.blocks_from_device(), takes ? o.plan.tasks.size() : 0u) << what;
    EXPECT_EQ(*files.opened, takes ? static_cast<int>(o.plan.tasks.size()) : 0) << what;
    for (const ChunkTask& task : o.plan.tasks) {
      const std::uint64_t coords[3] = {task.row, task.col, 0};
      const std::string key = device_writer.key(coords);
      ASSERT_TRUE(device_store.get(key)) << what << ": no chunk " << key;
      EXPECT_EQ(device_store.get(key).value(), host_store.get(key).value()) << what << ", chunk " << key;
    }
    if (!takes) continue;
    // Rows not as wide as the chunk (the image's width of an edge chunk): refused, nothing stored.
    zarr::Store& bad_store = make_store("device_rows_misshapen.zarr");
    const zarr::ArrayWriter bad_writer(bad_store, "", spec_for(o, 3, codec));
    ZarrChunkSink bad(bad_store, bad_writer, o.plan, Layout::yxc, 2, 0, {}, files.writers());
    const ChunkTask& edge = o.plan.tasks[3];  // row 0, columns 30 to 37
    ASSERT_LT(edge.out.width, o.plan.chunk_width);
    {
      const auto rows = bad.begin_rows(edge);
      const std::vector<std::byte> band = packed_chunk_rows(o, edge.out);
      try {
        rows->write_device_rows({band.data(), edge.out.width * o.plan.output.pixel_bytes(), edge.out});
        ADD_FAILURE() << what << ": took device rows narrower than the chunk";
      } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("not packed whole rows"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("writing chunk c/0/3/0"), std::string::npos) << e.what();
      }
    }
    bad.flush();
    EXPECT_EQ(entries(bad_store), std::vector<std::string>{}) << what << ": no chunk and no partial file";
  }
}

TEST_P(ZarrChunkSinkOn, EncodedChunksReadBack) {
  const Output o = make_output();
  zarr::Store& store = make_store("zstd.zarr");
  const zarr::ArrayWriter writer(store, "", spec_for(o, 3, "zstd"));
  ZarrChunkSink sink(store, writer, o.plan, Layout::yxc, 3, 0, {});
  EXPECT_FALSE(sink.raw());
  write_all_chunks(o, sink);
  const zarr::ArrayReader reader(store, "");
  const std::vector<std::uint64_t> origin(3, 0);
  const std::vector<std::byte> got = reader.read_region(origin, reader.spec().shape);
  ASSERT_EQ(got.size(), o.pixels.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(got.data(), o.pixels.data(), got.size()), 0);
}

TEST(ZarrChunkSink, AFailedChunkNamesItsKeyAndLeavesNoFile) {
  const Output o = make_output();
  const std::string root = temp_path("blocked.zarr");
  std::filesystem::remove_all(root);
  zarr::FileStore store(root);
  const zarr::ArrayWriter writer(store, "", spec_for(o, 3, "none"));
  ZarrChunkSink sink(store, writer, o.plan, Layout::yxc, 2, 0, {});
  // A regular file where chunk row 0's folder must go: its file cannot be created.
  std::filesystem::create_directories(root + "/c");
  std::ofstream(root + "/c/0") << "in the way";
  const ChunkTask& task = o.plan.tasks[1];
  try {
    sink.write(task, {o.at(task.out.y, task.out.x), o.row_bytes(), task.out});
    ADD_FAILURE() << "wrote through a file";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("writing chunk c/0/1/0 of " + root), std::string::npos) << e.what();
  }
  EXPECT_EQ(sink.snapshot().chunks_done, 0u);
  EXPECT_FALSE(store.exists("c/0/1/0"));
  std::filesystem::remove_all(root);
}

// A chunk whose rename fails (its folder removed while it was written): without fsync finish() says so;
// with fsync the commit runs on the queue and flush() says so. Either way the key is named, the chunk
// is not counted and other chunks are stored.
TEST(ZarrChunkSink, AFailedCommitNamesItsKeyWithAndWithoutFsync) {
  const Output o = make_output();
  for (const bool fsync : {false, true}) {
    const std::string root = temp_path(fsync ? "commit-fsync.zarr" : "commit.zarr");
    std::filesystem::remove_all(root);
    zarr::FileStore store(root, zarr::FileStore::Options{.fsync = fsync});
    const zarr::ArrayWriter writer(store, "", spec_for(o, 3, "none"));
    ZarrChunkSink sink(store, writer, o.plan, Layout::yxc, 2, 0, {});
    const ChunkTask& task = o.plan.tasks[5];  // chunk c/1/1/0
    const auto rows = sink.begin_rows(task);
    rows->write_rows({o.at(task.out.y, task.out.x), o.row_bytes(), task.out});
    std::filesystem::remove_all(root + "/c/1/1");
    const std::string want = "writing chunk c/1/1/0 of " + root;
    try {
      rows->finish();
      sink.flush();
      ADD_FAILURE() << "fsync " << fsync << ": committed a chunk whose folder is gone";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("cannot rename"), std::string::npos) << e.what();
    }
    EXPECT_EQ(sink.snapshot().chunks_done, 0u) << "fsync " << fsync;
    const ChunkTask& other = o.plan.tasks[0];
    sink.write(other, {o.at(other.out.y, other.out.x), o.row_bytes(), other.out});
    sink.flush();  // the error was reported once
    EXPECT_EQ(sink.snapshot().chunks_done, 1u) << "fsync " << fsync;
    EXPECT_TRUE(store.exists("c/0/0/0")) << "fsync " << fsync;
    std::filesystem::remove_all(root);
  }
}

}  // namespace
}  // namespace tilestream::pipeline
