// Batches of patches read ahead on worker threads, for training loops: the caller hands over the
// patches in the order an epoch visits them (slide/patch_plan), and next() returns them batch by
// batch, in that order, while the following batches are being read and decoded. Memory is bounded:
// at most `prefetch` batches are read or waiting at any time, besides the one the caller holds.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tilestream/core/host_image.hpp"
#include "tilestream/slide/patch_plan.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::slide {

struct PatchStreamOptions {
  std::size_t level = 0;
  std::uint64_t width = 0, height = 0;  // every patch's size, in the level's pixels
  std::size_t batch_size = 1;
  bool drop_last = false;  // leave out a last batch smaller than batch_size
  unsigned prefetch = 2;   // batches read ahead, each on its own worker thread (at least 1)
  // Decoding threads in all (0: the settings' default), shared out among the batches read at once:
  // each decodes on threads / prefetch of them (at least 1), so that a full pipeline uses `threads`.
  unsigned threads = 0;
  // false: the stream reads no pixels into host memory; the Finish step reads each batch from its
  // `patches` (into GPU memory, say) and must be given.
  bool host_pixels = true;
};

// The decoding threads each batch read at once gets: options.threads (0: the settings' default)
// shared out among the prefetch workers, at least 1.
unsigned threads_per_batch(const PatchStreamOptions& options);

// One batch: `patches.size()` patches stacked in `pixels` (patches.size() * height rows of width
// pixels; patch k is rows [k * height, (k + 1) * height)), in the epoch's order; `attachment` holds what
// the stream's finishing step made of them (a copy in GPU memory, for the Python binding).
struct PatchBatch {
  std::size_t index = 0;
  HostImage pixels;
  std::vector<PatchRef> patches;
  std::shared_ptr<void> attachment;
};

class PatchStream {
 public:
  // Runs on a worker thread once a batch is read, before next() may return it (an upload to the GPU,
  // say); an exception it throws is that batch's error.
  using Finish = std::function<void(PatchBatch&)>;

  // UsageError, naming the files, where the slides' levels differ in samples or sample type, a level
  // is missing, a patch names a slide not in the list, or the sizes are zero.
  PatchStream(std::vector<std::shared_ptr<const Slide>> slides, std::vector<PatchRef> patches,
              const PatchStreamOptions& options, Finish finish = {});
  // Stops the workers after the batches they are reading and waits for them.
  ~PatchStream();
  PatchStream(const PatchStream&) = delete;
  PatchStream& operator=(const PatchStream&) = delete;

  // The next batch, waiting for it where it is still being read; nullopt after the last. A batch whose
  // reading failed rethrows its error (the slide's file, level and tile) here, in its turn; the stream
  // then goes on with the next batch if called again.
  std::optional<PatchBatch> next();

  std::size_t batch_count() const { return batch_count_; }

 private:
  void work();
  PatchBatch read_batch(std::size_t index) const;

  std::vector<std::shared_ptr<const Slide>> slides_;
  std::vector<PatchRef> patches_;
  PatchStreamOptions options_;
  Finish finish_;
  std::size_t batch_count_ = 0;
  unsigned threads_per_batch_ = 1;  // options_.threads shared out among the workers

  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t next_to_claim_ = 0;
  std::size_t next_to_deliver_ = 0;
  bool stopping_ = false;
  struct Outcome {
    std::optional<PatchBatch> batch;
    std::exception_ptr error;
  };
  std::map<std::size_t, Outcome> ready_;
  std::vector<std::jthread> workers_;
};

}  // namespace tilestream::slide
