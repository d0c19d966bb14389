// Batches read ahead (slide/patch_stream): every batch equals the patches read one by one, in the
// given order, across slides; the last batch is short or dropped; a failing batch reports its error in
// its turn and the stream goes on; at most `prefetch` batches are read ahead; stopping early is clean.
#include "tilestream/slide/patch_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "support/temp_path.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/level0_region.hpp"
#include "tilestream/synth/synth.hpp"

namespace tilestream::slide {
namespace {

class PatchStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int k = 0; k < 2; ++k) {
      paths_.push_back(testing::temp_path("patch_stream_" + std::to_string(k) + ".tif"));
      synth::SynthOptions options;
      options.width = 200 + 40 * k;
      options.height = 150;
      options.tile = 32;
      options.levels = 2;
      options.compression = codec::compression::deflate;
      options.seed = 10 + k;
      synth::write_synthetic_slide(paths_.back(), options);
      slides_.push_back(std::make_shared<const Slide>(Slide::open(paths_.back())));
    }
  }
  void TearDown() override {
    slides_.clear();
    for (const std::string& p : paths_) std::filesystem::remove(p);
  }
  // One patch read on its own, the reference a batch must equal.
  std::vector<std::byte> read_one(const PatchRef& p, std::size_t level, std::uint64_t w, std::uint64_t h) const {
    std::vector<std::byte> out(w * h * 3);
    read_level_rect_into(*slides_[p.slide], level, level_rect(*slides_[p.slide], level, p.x, p.y, w, h), out.data(),
                         w * 3, 1);
    return out;
  }
  std::vector<std::string> paths_;
  std::vector<std::shared_ptr<const Slide>> slides_;
};

TEST_F(PatchStreamTest, BatchesEqualPatchesReadOneByOneInTheGivenOrder) {
  // Both slides interleaved, overlapping patches, one sticking out of the level.
  const std::vector<PatchRef> patches = {{1, 0, 0},   {0, 10, 20}, {0, 12, 22},  {1, 200, 100}, {0, 150, 120},
                                         {1, 33, 47}, {0, 0, 0},   {1, 230, 140}, {0, 64, 64}};
  for (const std::size_t level : {std::size_t{0}, std::size_t{1}}) {
    PatchStreamOptions options;
    options.level = level;
    options.width = 40;
    options.height = 30;
    options.batch_size = 4;
    options.prefetch = 3;
    options.threads = 2;
    PatchStream stream(slides_, patches, options);
    ASSERT_EQ(stream.batch_count(), 3U);
    std::size_t seen = 0;
    while (std::optional<PatchBatch> batch = stream.next()) {
      EXPECT_EQ(batch->index, seen / 4);
      ASSERT_EQ(batch->pixels.height(), batch->patches.size() * 30);
      for (std::size_t k = 0; k < batch->patches.size(); ++k, ++seen) {
        EXPECT_EQ(batch->patches[k].slide, patches[seen].slide);
        EXPECT_EQ(batch->patches[k].x, patches[seen].x);
        const std::vector<std::byte> want = read_one(patches[seen], level, 40, 30);
        EXPECT_EQ(std::memcmp(batch->pixels.row(k * 30), want.data(), want.size()), 0)
            << "level " << level << " patch " << seen;
      }
    }
    EXPECT_EQ(seen, patches.size());
    EXPECT_FALSE(stream.next().has_value());  // stays finished
  }
}

TEST_F(PatchStreamTest, DropLastLeavesOutTheShortBatch) {
  std::vector<PatchRef> patches(10, PatchRef{0, 5, 5});
  PatchStreamOptions options;
  options.width = options.height = 8;
  options.batch_size = 4;
  options.drop_last = true;
  PatchStream stream(slides_, patches, options);
  EXPECT_EQ(stream.batch_count(), 2U);
  EXPECT_EQ(stream.next()->patches.size(), 4U);
  EXPECT_EQ(stream.next()->patches.size(), 4U);
  EXPECT_FALSE(stream.next());
  PatchStream empty(slides_, {}, options);
  EXPECT_EQ(empty.batch_count(), 0U);
  EXPECT_FALSE(empty.next());
}

TEST_F(PatchStreamTest, AFailingBatchReportsItsErrorInItsTurn) {
  std::vector<PatchRef> patches(6, PatchRef{0, 0, 0});
  PatchStreamOptions options;
  options.width = options.height = 8;
  options.batch_size = 2;
  options.prefetch = 3;
  PatchStream stream(slides_, patches, options, [](PatchBatch& batch) {
    if (batch.index == 1) throw IoError("batch 1 failed");
    batch.attachment = std::make_shared<int>(static_cast<int>(batch.index));
  });
  EXPECT_EQ(*std::static_pointer_cast<int>(stream.next()->attachment), 0);
  EXPECT_THROW(stream.next(), IoError);
  EXPECT_EQ(*std::static_pointer_cast<int>(stream.next()->attachment), 2);
  EXPECT_FALSE(stream.next());
}

TEST_F(PatchStreamTest, ReadsAtMostPrefetchBatchesAhead) {
  std::vector<PatchRef> patches(40, PatchRef{0, 0, 0});
  PatchStreamOptions options;
  options.width = options.height = 4;
  options.batch_size = 1;
  options.prefetch = 3;
  std::atomic<std::size_t> finished{0};
  PatchStream stream(slides_, patches, options, [&](PatchBatch&) { ++finished; });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(finished.load(), 3U);  // nothing taken yet: three read ahead, then the workers wait
  ASSERT_TRUE(stream.next());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(finished.load(), 4U);
}

TEST_F(PatchStreamTest, StoppingEarlyIsClean) {
  std::vector<PatchRef> patches(100, PatchRef{1, 10, 10});
  PatchStreamOptions options;
  options.width = options.height = 64;
  options.batch_size = 3;
  options.prefetch = 4;
  auto stream = std::make_unique<PatchStream>(slides_, patches, options);
  ASSERT_TRUE(stream->next());
  stream.reset();  // workers stop and join; nothing leaks (the sanitizer run checks)
}

TEST_F(PatchStreamTest, BadArgumentsAreUsageErrors) {
  PatchStreamOptions options;
  options.width = options.height = 8;
  options.batch_size = 2;
  EXPECT_THROW(PatchStream({}, {}, options), UsageError);
  EXPECT_THROW(PatchStream(slides_, {PatchRef{2, 0, 0}}, options), UsageError);  // no slide 2
  options.level = 5;
  EXPECT_THROW(PatchStream(slides_, {}, options), UsageError);
  options.level = 0;
  options.batch_size = 0;
  EXPECT_THROW(PatchStream(slides_, {}, options), UsageError);
}

}  // namespace
}  // namespace tilestream::slide
