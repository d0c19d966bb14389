// The pipeline's chunk sink: the raw path (uncompressed arrays) writes each chunk's file in row
// pieces from packed and from strided pixels, padding edge chunks with zeros, and its files equal what
// the array writer's encoder stores for the padded block; the encoded path is read back through the
// array reader; a chunk that cannot be written is an error naming its key and leaves no file.
#include "pipeline/zarr_chunk_sink.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

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

TEST(ZarrChunkSink, RawChunksEqualTheEncodersPaddedBlocks) {
  const Output o = make_output();
  ASSERT_EQ(o.plan.tasks.size(), 12u);
  for (const int version : {2, 3})
    for (const std::size_t piece : {std::size_t{1}, std::size_t{250}, std::size_t{1} << 20}) {
      const std::string what = concat("v", version, ", pieces of ", piece, " bytes");
      const std::string root = temp_path("raw.zarr");
      std::filesystem::remove_all(root);
      zarr::FileStore store(root);
      const zarr::ArrayWriter writer(store, "", spec_for(o, version, "none"));
      ZarrChunkSink sink(store, writer, o.plan, 3, piece, {});
      ASSERT_TRUE(sink.raw()) << what;
      write_all_chunks(o, sink);
      EXPECT_EQ(sink.snapshot().chunks_done, 12u) << what;
      EXPECT_EQ(sink.snapshot().bytes_written, 12u * o.plan.chunk_bytes()) << what;
      for (const ChunkTask& task : o.plan.tasks) {
        const std::uint64_t coords[3] = {task.row, task.col, 0};
        const auto stored = store.get(writer.key(coords));
        ASSERT_TRUE(stored) << what << ": no chunk " << writer.key(coords);
        EXPECT_EQ(*stored, writer.encoder().encode_block(padded_block(o, task)))
            << what << ", chunk " << writer.key(coords);
      }
      std::size_t partial = 0;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
        partial += entry.path().extension() == ".partial";
      EXPECT_EQ(partial, 0u) << what;
      std::filesystem::remove_all(root);
    }
}

TEST(ZarrChunkSink, EncodedChunksReadBack) {
  const Output o = make_output();
  const std::string root = temp_path("zstd.zarr");
  std::filesystem::remove_all(root);
  zarr::FileStore store(root);
  const zarr::ArrayWriter writer(store, "", spec_for(o, 3, "zstd"));
  ZarrChunkSink sink(store, writer, o.plan, 3, 0, {});
  EXPECT_FALSE(sink.raw());
  write_all_chunks(o, sink);
  const zarr::ArrayReader reader(store, "");
  const std::vector<std::uint64_t> origin(3, 0);
  const std::vector<std::byte> got = reader.read_region(origin, reader.spec().shape);
  ASSERT_EQ(got.size(), o.pixels.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(got.data(), o.pixels.data(), got.size()), 0);
  std::filesystem::remove_all(root);
}

TEST(ZarrChunkSink, AFailedChunkNamesItsKeyAndLeavesNoFile) {
  const Output o = make_output();
  const std::string root = temp_path("blocked.zarr");
  std::filesystem::remove_all(root);
  zarr::FileStore store(root);
  const zarr::ArrayWriter writer(store, "", spec_for(o, 3, "none"));
  ZarrChunkSink sink(store, writer, o.plan, 2, 0, {});
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

}  // namespace
}  // namespace tilestream::pipeline
