// The processing pipeline: chunk plans (grid, clipping, source boxes through the chain), and whole
// runs on a synthetic slide read back through zarr::ArrayReader: global and tiled modes, chunks that
// do not divide the image, 1 and 4 threads, all equal to the chain run on the whole level; the
// options it refuses.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/synth/synth.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::pipeline {
namespace {

using tilestream::testing::temp_path;

ops::Chain chain_of(std::vector<std::string> specs) { return ops::Chain::parse(specs); }

TEST(PlanChunks, GridClippedChunksAndSourceBoxes) {
  const ops::Chain chain = chain_of({"median:size=5", "downsample2x"});
  const ops::ImageShape in{203, 301, 3, DType::uint8};
  const ChunkPlan plan = plan_chunks(chain, in, 37);
  EXPECT_EQ(plan.output, (ops::ImageShape{102, 151, 3, DType::uint8}));
  EXPECT_EQ(plan.chunk_height, 37u);
  EXPECT_EQ(plan.chunk_width, 37u);
  EXPECT_EQ(plan.grid_rows, 3u);
  EXPECT_EQ(plan.grid_cols, 5u);
  ASSERT_EQ(plan.tasks.size(), 15u);
  const ChunkTask& last = plan.tasks.back();
  EXPECT_EQ(last.row, 2u);
  EXPECT_EQ(last.col, 4u);
  EXPECT_EQ(last.out, (ops::Box{74, 148, 28, 3}));
  EXPECT_EQ(last.in, (ops::Box{146, 294, 57, 7}));
  EXPECT_EQ(plan.tasks[6].out, (ops::Box{37, 37, 37, 37}));
  EXPECT_EQ(plan.tasks[6].in, (ops::Box{72, 72, 78, 78}));
  // The biggest task: an interior source tile 78 x 78, the median's output 74 x 74, a 37 x 37 chunk.
  EXPECT_EQ(plan.max_task_bytes, (78u * 78u + 74u * 74u + 37u * 37u) * 3u);
  EXPECT_EQ(plan.chunk_bytes(), 37u * 37u * 3u);

  const ChunkPlan one = plan_chunks(chain, in, 1000);  // a small output is one chunk of its own size
  EXPECT_EQ(one.chunk_height, 102u);
  EXPECT_EQ(one.chunk_width, 151u);
  ASSERT_EQ(one.tasks.size(), 1u);
  EXPECT_EQ(one.tasks[0].in, (ops::Box{0, 0, 203, 301}));
  EXPECT_THROW((void)plan_chunks(chain, in, 0), UsageError);
  EXPECT_THROW((void)plan_chunks(chain_of({"grayscale"}), {10, 10, 1, DType::uint8}, 4), UsageError);
}

class ProcessSlide : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::string(::testing::TempDir() + "/process_slide_" + std::to_string(::getpid()) + ".tif");
    synth::SynthOptions options;
    options.width = 301;
    options.height = 203;
    options.tile = 64;
    options.levels = 1;
    options.compression = codec::compression::deflate;
    options.threads = 2;
    synth::write_synthetic_slide(*path_, options);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*path_);
    delete path_;
  }
  static const std::string& path() { return *path_; }

  // The chain on the whole level at once, the reference every run must equal.
  static HostImage expected(const slide::Slide& slide, const ops::Chain& chain) {
    const HostImage level = slide.read_level(0);
    const ops::ImageShape in{level.height(), level.width(), level.samples(), level.dtype()};
    const ops::ImageShape s = chain.output_shape(in);
    HostImage out(s.height, s.width, s.samples, s.dtype);
    chain.run_cpu({level.data(), level.row_bytes(), {0, 0, in.height, in.width}}, in,
                  {out.data(), out.row_bytes(), {0, 0, s.height, s.width}});
    return out;
  }

 private:
  static inline std::string* path_ = nullptr;
};

TEST_F(ProcessSlide, GlobalAndTiledEqualTheWholeImageChain) {
  const slide::Slide slide = slide::Slide::open(path());
  const auto backend = make_cpu_backend();
  EXPECT_EQ(backend->name(), "cpu");
  for (const auto& specs : std::vector<std::vector<std::string>>{
           {"sobel"}, {"absorbance", "gaussian:sigma=2.5"}, {"median:size=5", "downsample2x"}}) {
    const ops::Chain chain = chain_of(specs);
    const HostImage want = expected(slide, chain);
    for (const Mode mode : {Mode::global, Mode::tiled})
      for (const std::uint64_t chunk : {37u, 64u, 100u})
        for (const unsigned threads : {1u, 4u}) {
          const std::string what =
              concat(chain.spec(), ", ", to_string(mode), ", chunk ", chunk, ", threads ", threads);
          const std::string out = temp_path("out.zarr");
          ProcessOptions options;
          options.mode = mode;
          options.chunk = chunk;
          options.threads = threads;
          options.zarr_version = chunk == 64 ? 2 : 3;
          options.compressors = zarr::parse_codec_option(chunk == 100 ? "none" : "zstd");
          options.overwrite = true;
          std::uint64_t last_done = 0;
          const ProcessResult r = process_slide(slide, out, chain, options, *backend,
                                                [&](const ProcessProgress& p) { last_done = p.chunks_done; });
          const std::uint64_t chunks =
              ((want.height() + chunk - 1) / chunk) * ((want.width() + chunk - 1) / chunk);
          EXPECT_EQ(r.progress.chunks_done, chunks) << what;
          EXPECT_EQ(r.progress.chunks_total, chunks) << what;
          EXPECT_EQ(last_done, chunks) << what << ": the final progress call";
          EXPECT_GT(r.progress.bytes_written, 0u) << what;
          EXPECT_EQ(r.output, (ops::ImageShape{want.height(), want.width(), want.samples(), want.dtype()}))
              << what;
          if (mode == Mode::tiled) {
            EXPECT_EQ(r.workers, threads) << what;
            EXPECT_EQ(r.bytes_in_flight, r.workers * r.task_bytes) << what;
          } else {
            EXPECT_EQ(r.bytes_in_flight, r.run.bytes_held) << what;
            EXPECT_GE(r.run.bytes_held, r.input.size_bytes()) << what;
          }
          // The typed report: what ran, and busy time in every stage of a run that read, computed and wrote.
          EXPECT_EQ(r.run.io, "posix") << what;
          EXPECT_NE(r.run.io_detail.find("CPU threads"), std::string::npos) << r.run.io_detail;
          EXPECT_EQ(r.run.peak_device_bytes, 0u) << what;
          EXPECT_GT(r.run.read_seconds, 0) << what;
          EXPECT_GT(r.run.compute_seconds, 0) << what;
          EXPECT_GT(r.run.write_seconds, 0) << what;

          const zarr::FileStore store(out);
          const zarr::ArrayReader reader(store, "");
          const zarr::ArraySpec& spec = reader.spec();
          EXPECT_EQ(spec.zarr_format, options.zarr_version) << what;
          EXPECT_EQ(spec.shape, (std::vector<std::uint64_t>{want.height(), want.width(), want.samples()}))
              << what;
          EXPECT_EQ(spec.chunk_shape,
                    (std::vector<std::uint64_t>{std::min(chunk, want.height()), std::min(chunk, want.width()),
                                                want.samples()}))
              << what;
          EXPECT_EQ(spec.dtype, want.dtype()) << what;
          EXPECT_EQ(spec.attributes["tilestream"]["ops"].size(), specs.size()) << what;
          const std::vector<std::uint64_t> origin(3, 0);
          const std::vector<std::byte> got = reader.read_region(origin, spec.shape);
          ASSERT_EQ(got.size(), want.size_bytes()) << what;
          EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0) << what;
          std::filesystem::remove_all(out);
        }
  }
}

TEST_F(ProcessSlide, RefusesBadOptions) {
  const slide::Slide slide = slide::Slide::open(path());
  const auto backend = make_cpu_backend();
  const ops::Chain chain = chain_of({"gaussian:sigma=3"});
  const std::string out = temp_path("out.zarr");
  const auto refuses = [&](const ProcessOptions& options, const std::string& fragment) {
    try {
      (void)process_slide(slide, out, chain, options, *backend);
      ADD_FAILURE() << "accepted; wanted " << fragment;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  ProcessOptions small;
  small.chunk = 64;
  small.memory = 50000;  // one 64 x 64 chunk's tiles with a 12-pixel halo need more
  refuses(small, "raise memory or lower chunk");  // the CLI spells the options as flags
  EXPECT_FALSE(std::filesystem::exists(out)) << "nothing written before the checks";
  ProcessOptions level;
  level.level = 1;
  refuses(level, "no level 1 (the slide has 1)");
  ProcessOptions version;
  version.zarr_version = 4;
  refuses(version, "zarr_version must be 2 or 3");
  ProcessOptions first;
  first.overwrite = false;
  (void)process_slide(slide, out, chain, first, *backend);
  refuses(first, "is not empty: pass overwrite");
  try {
    (void)process_slide(slide, out, chain_of({"grayscale", "median:size=3", "absorbance"}), first, *backend);
    ADD_FAILURE() << "absorbance took float32";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("level 0: op 3 of 3"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(out);
}

// Global mode's batches: as few as cover the indices at `most` each, sizes within one of each other.
TEST(EvenSpans, FewestRunsOfNearlyEqualSize) {
  using Runs = std::vector<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(even_spans(10, 4), (Runs{{0, 4}, {4, 3}, {7, 3}}));
  EXPECT_EQ(even_spans(8, 4), (Runs{{0, 4}, {4, 4}}));
  EXPECT_EQ(even_spans(3, 8), (Runs{{0, 3}}));
  EXPECT_EQ(even_spans(3, 0), even_spans(3, 1));
  EXPECT_EQ(even_spans(3, 1).size(), 3u);
  EXPECT_TRUE(even_spans(0, 4).empty());
  const Runs level0 = even_spans(2028, 127);  // the seed-size slide's level 0 in 512 x 512 blocks
  ASSERT_EQ(level0.size(), 16u);
  std::size_t next = 0;
  for (const auto& [first, count] : level0) {
    EXPECT_EQ(first, next);
    EXPECT_TRUE(count == 126 || count == 127) << count;
    next += count;
  }
  EXPECT_EQ(next, 2028u);
}

// Runs of adjacent tasks of a row: cut at `most`, at a row's end and at a gap (a resumed plan), every
// task once and in order; their union box is the bounding box of the tasks' source boxes.
TEST(RowRuns, AdjacentTasksOfARowUpToMost) {
  const ChunkPlan plan = plan_chunks(chain_of({"sobel"}), {300, 500, 3, DType::uint8}, 100);  // 3 rows x 5 cols
  ASSERT_EQ(plan.tasks.size(), 15u);
  using Runs = std::vector<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(row_runs(plan.tasks, 2), (Runs{{0, 2}, {2, 2}, {4, 1}, {5, 2}, {7, 2}, {9, 1}, {10, 2}, {12, 2}, {14, 1}}));
  EXPECT_EQ(row_runs(plan.tasks, 8), (Runs{{0, 5}, {5, 5}, {10, 5}}));
  EXPECT_EQ(row_runs(plan.tasks, 0), row_runs(plan.tasks, 1));
  EXPECT_EQ(row_runs(plan.tasks, 1).size(), 15u);
  EXPECT_TRUE(row_runs({}, 4).empty());

  std::vector<ChunkTask> resumed = plan.tasks;
  resumed.erase(resumed.begin() + 2);  // block (0, 2) already stored
  EXPECT_EQ(row_runs(resumed, 8), (Runs{{0, 2}, {2, 2}, {4, 5}, {9, 5}}));

  // sobel's halo of 1: the run of row 1's first three chunks reads rows 99..200, columns 0..300.
  const std::span<const ChunkTask> run(plan.tasks.data() + 5, 3);
  const ops::Box box = union_of_inputs(run);
  EXPECT_EQ(box.y, 99u);
  EXPECT_EQ(box.height, 102u);
  EXPECT_EQ(box.x, 0u);
  EXPECT_EQ(box.width, 301u);
  EXPECT_EQ(union_of_inputs({}).width, 0u);
}

TEST(ProcessMode, ParsesGlobalAndTiled) {
  EXPECT_EQ(parse_mode("global"), Mode::global);
  EXPECT_EQ(parse_mode("tiled"), Mode::tiled);
  EXPECT_STREQ(to_string(Mode::tiled), "tiled");
  EXPECT_THROW((void)parse_mode("streamed"), UsageError);
}

}  // namespace
}  // namespace tilestream::pipeline
