// The state behind a tilestream.Slide: the opened slide until close(). Shared by the bindings that
// take Slide objects (Slide itself, PatchLoader).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::python {

// The Python object's state: the opened slide until close(). Each call takes its own reference, so a
// close() from one thread while another reads lets the read finish.
class SlideHandle {
 public:
  explicit SlideHandle(const std::filesystem::path& path, const slide::OpenOptions& options = {})
      : path_(path.string()), slide_(std::make_shared<const slide::Slide>(slide::Slide::open(path_, options))) {}
  // The files of a DICOM series, given one by one.
  explicit SlideHandle(const std::vector<std::string>& paths, const slide::OpenOptions& options = {})
      : slide_(std::make_shared<const slide::Slide>(slide::Slide::open(paths, options))) {
    path_ = slide_->path();
  }

  std::shared_ptr<const slide::Slide> get() const {
    const std::lock_guard lock(mutex_);
    check<UsageError>(slide_ != nullptr, path_, ": the slide is closed");
    return slide_;
  }
  void close() {
    const std::lock_guard lock(mutex_);
    slide_.reset();
  }
  bool closed() const {
    const std::lock_guard lock(mutex_);
    return slide_ == nullptr;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const slide::Slide> slide_;
};

}  // namespace tilestream::python
