// The pipeline's memory checks: global mode's images against the backend's available memory before the
// output is touched, and tiled mode's chunks in flight held to what is available (workers fewer, or a
// refusal when one chunk does not fit). A backend whose available memory the test sets stands in for
// a small machine.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/sparse_tiff.hpp"
#include "support/temp_path.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/pipeline/pipeline.hpp"
#include "tilestream/synth/synth.hpp"
#include "tilestream/zarr/store.hpp"

namespace tilestream::pipeline {
namespace {

using tilestream::testing::temp_path;

// The CPU backend with the available memory a test says, asking for `wanted` adjacent tasks per
// worker (as the CUDA backend does; the CPU backend's own is one); it remembers the group the
// executor gave it.
class SmallMemoryBackend final : public Backend {
 public:
  explicit SmallMemoryBackend(std::uint64_t available, unsigned wanted = 1)
      : cpu_(make_cpu_backend()), available_(available), wanted_(wanted) {}
  std::string name() const override { return "small"; }
  BackendReport run_global(const Job& job, ChunkSink& sink) const override { return cpu_->run_global(job, sink); }
  BackendReport run_tiled(const Job& job, ChunkSink& sink) const override {
    group_ = job.group;
    return cpu_->run_tiled(job, sink);
  }
  unsigned tiled_group() const override { return wanted_; }
  MemoryAvailable memory_available() const override { return {available_, "host memory", "the test's limit"}; }
  unsigned group() const { return group_; }

 private:
  std::unique_ptr<Backend> cpu_;
  std::uint64_t available_;
  unsigned wanted_;
  mutable unsigned group_ = 0;
};

ops::Chain chain_of(std::vector<std::string> specs) { return ops::Chain::parse(specs); }

TEST(PipelineMemoryCheck, GlobalBytesAreTheLargestPairOfWholeImages) {
  const auto cpu = make_cpu_backend();
  const ops::ImageShape in{100, 200, 3, DType::uint8};
  const std::uint64_t rgb = 100 * 200 * 3;
  // grayscale: the level (3 bytes a pixel) and its 1-sample float32 output held together.
  EXPECT_EQ(cpu->global_bytes(plan_chunks(chain_of({"grayscale"}), in, 64), chain_of({"grayscale"})),
            rgb + 100 * 200 * 4);
  // absorbance makes float32: 3 x 4 bytes a pixel next to the level, then two float32 images.
  const ops::Chain two = chain_of({"absorbance", "gaussian:sigma=1"});
  EXPECT_EQ(cpu->global_bytes(plan_chunks(two, in, 64), two), 2 * rgb * 4);
}

TEST(PipelineMemoryCheck, GlobalModeLargerThanAvailableIsRefusedBeforeTheOutput) {
  const std::string path = temp_path("big.tif");
  tilestream::testing::write_sparse_tiff(path, 40000, 30000, 3, 1024);  // 3.6 GB, never read; 8.4 GB with the gray image
  const slide::Slide slide = slide::Slide::open(path);
  const SmallMemoryBackend backend(std::uint64_t{1} << 30);
  const std::string out = temp_path("out.zarr");
  ProcessOptions options;
  options.mode = Mode::global;
  try {
    (void)process_slide(slide, out, chain_of({"grayscale"}), options, backend);
    FAIL() << "global mode ran";
  } catch (const ResourceError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": level 0: global mode on small", 0), 0u) << message;
    EXPECT_NE(message.find("needs " + byte_count_text(40000ull * 30000 * 7) + " of host memory, more than the " +
                           byte_count_text(std::uint64_t{1} << 30) + " available (the test's limit)"),
              std::string::npos)
        << message;
    EXPECT_EQ(e.ways_out(), (std::vector<WayOut>{WayOut::tiled_mode, WayOut::memory_budget}));
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << "the output was touched";
  std::filesystem::remove(path);
}

class TiledMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_path("slide.tif");
    synth::SynthOptions options;
    options.width = 300;
    options.height = 200;
    options.tile = 64;
    options.levels = 1;
    options.threads = 1;
    synth::write_synthetic_slide(path_, options);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(TiledMemory, WorkersHeldToAvailableAndOneChunkMustFit) {
  const slide::Slide slide = slide::Slide::open(path_);
  const ops::Chain chain = chain_of({"sobel"});
  const std::string out = temp_path("out.zarr");
  ProcessOptions options;
  options.chunk = 64;
  options.threads = 4;
  options.overwrite = true;
  const ProcessResult full = process_slide(slide, out, chain, options, *make_cpu_backend());
  EXPECT_EQ(full.workers, 4u);
  const std::size_t task = full.task_bytes;
  ASSERT_GT(task, 0u);

  // Room for two and a half tasks: two workers, and the output is the same.
  const ProcessResult two = process_slide(slide, out, chain, options, SmallMemoryBackend(task * 5 / 2));
  EXPECT_EQ(two.workers, 2u);
  EXPECT_EQ(two.bytes_in_flight, 2 * task);
  EXPECT_EQ(two.progress.chunks_done, full.progress.chunks_done);

  std::filesystem::remove_all(out);
  try {
    (void)process_slide(slide, out, chain, options, SmallMemoryBackend(task - 1));
    FAIL() << "a chunk ran in less memory than it needs";
  } catch (const ResourceError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path_ + ": level 0: tiled mode on small: one 64x64 chunk in flight needs " +
                                byte_count_text(task),
                            0),
              0u)
        << message;
    EXPECT_EQ(e.ways_out(), std::vector<WayOut>{WayOut::smaller_chunk});
  }
  EXPECT_FALSE(std::filesystem::exists(out)) << "the output was touched";
}

// A backend that takes several adjacent tasks at once gets as many as the memory holds beside its
// workers (never fewer than one), and they count in the bytes in flight.
TEST_F(TiledMemory, GroupsOfTasksHeldToAvailable) {
  const slide::Slide slide = slide::Slide::open(path_);
  const ops::Chain chain = chain_of({"sobel"});
  const std::string out = temp_path("out.zarr");
  ProcessOptions options;
  options.chunk = 64;
  options.threads = 4;
  options.overwrite = true;
  const ProcessResult one = process_slide(slide, out, chain, options, *make_cpu_backend());
  const std::size_t task = one.task_bytes;
  ASSERT_GT(task, 0u);

  const SmallMemoryBackend ample(task * 100, 4);
  const ProcessResult four = process_slide(slide, out, chain, options, ample);
  EXPECT_EQ(ample.group(), 4u);
  EXPECT_EQ(four.workers, 4u);
  EXPECT_EQ(four.bytes_in_flight, 4 * 4 * task);
  EXPECT_EQ(four.progress.chunks_done, one.progress.chunks_done);

  // Room for nine tasks: four workers of two tasks each.
  const SmallMemoryBackend tight(task * 9, 4);
  const ProcessResult two = process_slide(slide, out, chain, options, tight);
  EXPECT_EQ(tight.group(), 2u);
  EXPECT_EQ(two.workers, 4u);
  EXPECT_EQ(two.bytes_in_flight, 4 * 2 * task);

  // Room for five: four workers of one task each.
  const SmallMemoryBackend single(task * 5, 4);
  (void)process_slide(slide, out, chain, options, single);
  EXPECT_EQ(single.group(), 1u);
  std::filesystem::remove_all(out);
}

}  // namespace
}  // namespace tilestream::pipeline
