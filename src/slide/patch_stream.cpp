#include "tilestream/slide/patch_stream.hpp"

#include <algorithm>
#include <utility>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/slide/level0_region.hpp"

namespace tilestream::slide {

PatchStream::PatchStream(std::vector<std::shared_ptr<const Slide>> slides, std::vector<PatchRef> patches,
                         const PatchStreamOptions& options, Finish finish)
    : slides_(std::move(slides)), patches_(std::move(patches)), options_(options), finish_(std::move(finish)) {
  check<UsageError>(!slides_.empty(), "a patch stream needs at least one slide");
  check<UsageError>(options_.width > 0 && options_.height > 0, "patches of ", options_.width, " x ", options_.height,
                    " pixels");
  check<UsageError>(options_.batch_size > 0, "a batch size of 0");
  const Slide& first = *slides_.front();
  for (const std::shared_ptr<const Slide>& s : slides_) {
    check<UsageError>(options_.level < s->level_count(), s->path(), ": level ", options_.level, " does not exist (",
                      s->level_count(), " levels)");
    const tiff::ImageInfo& a = first.level(options_.level).image;
    const tiff::ImageInfo& b = s->level(options_.level).image;
    check<UsageError>(a.samples == b.samples && a.dtype == b.dtype, "the slides of one batch must have the same "
                      "samples: ", first.path(), " level ", options_.level, " has ", a.samples, " x ",
                      to_string(a.dtype), ", ", s->path(), " ", b.samples, " x ", to_string(b.dtype));
  }
  for (const PatchRef& p : patches_)
    check<UsageError>(p.slide < slides_.size(), "a patch of slide ", p.slide, ", but there are ", slides_.size(),
                      " slides");
  const std::size_t n = patches_.size();
  batch_count_ = options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
  const unsigned workers = std::max(1U, options_.prefetch);
  options_.prefetch = workers;
  threads_per_batch_ = threads_per_batch(options_);
  check<UsageError>(options_.host_pixels || finish_, "a patch stream without host pixels needs a finishing step to "
                    "read its batches");
  for (unsigned w = 0; w < std::min<std::size_t>(workers, batch_count_); ++w)
    workers_.emplace_back([this] { work(); });
}

PatchStream::~PatchStream() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (std::jthread& w : workers_) w.join();
}

void PatchStream::work() {
  while (true) {
    std::size_t index = 0;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] {
        return stopping_ || next_to_claim_ >= batch_count_ || next_to_claim_ < next_to_deliver_ + options_.prefetch;
      });
      if (stopping_ || next_to_claim_ >= batch_count_) return;
      index = next_to_claim_++;
    }
    Outcome outcome;
    try {
      outcome.batch = read_batch(index);
      if (finish_) finish_(*outcome.batch);
    } catch (...) {
      outcome.batch.reset();
      outcome.error = std::current_exception();
    }
    {
      const std::lock_guard lock(mutex_);
      ready_.emplace(index, std::move(outcome));
    }
    changed_.notify_all();
  }
}

std::optional<PatchBatch> PatchStream::next() {
  std::unique_lock lock(mutex_);
  if (next_to_deliver_ >= batch_count_) return std::nullopt;
  changed_.wait(lock, [this] { return ready_.contains(next_to_deliver_); });
  auto node = ready_.extract(next_to_deliver_);
  ++next_to_deliver_;
  lock.unlock();
  changed_.notify_all();  // a worker may claim the next batch now
  if (node.mapped().error) std::rethrow_exception(node.mapped().error);
  return std::move(node.mapped().batch);
}

unsigned threads_per_batch(const PatchStreamOptions& options) {
  return std::max(1U, resolve_threads(options.threads) / std::max(1U, options.prefetch));
}

PatchBatch PatchStream::read_batch(std::size_t index) const {
  const std::size_t begin = index * options_.batch_size;
  const std::size_t end = std::min(begin + options_.batch_size, patches_.size());
  const tiff::ImageInfo& image = slides_.front()->level(options_.level).image;
  PatchBatch batch;
  batch.index = index;
  batch.patches.assign(patches_.begin() + static_cast<std::ptrdiff_t>(begin),
                       patches_.begin() + static_cast<std::ptrdiff_t>(end));
  if (!options_.host_pixels) return batch;  // the finishing step reads it
  batch.pixels = HostImage((end - begin) * options_.height, options_.width, image.samples, image.dtype);
  const std::size_t patch_bytes = batch.pixels.row_bytes() * options_.height;
  for (const SlidePatchGroup& group : group_by_slide(batch.patches)) {
    const Slide& slide = *slides_[group.slide];
    std::vector<LevelRect> rects;
    std::vector<std::byte*> destinations;
    for (const std::size_t k : group.positions) {
      const PatchRef& p = batch.patches[k];
      rects.push_back(level_rect(slide, options_.level, p.x, p.y, options_.width, options_.height));
      destinations.push_back(batch.pixels.data() + k * patch_bytes);
    }
    read_level_rects_to(slide, options_.level, rects, destinations, batch.pixels.row_bytes(), threads_per_batch_);
  }
  return batch;
}

}  // namespace tilestream::slide
