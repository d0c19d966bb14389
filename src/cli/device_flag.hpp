// The --device flag every sub-command that can use the GPU shares, and the backend it picks.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tilestream/io/io_mode.hpp"
#include "tilestream/pipeline/backend.hpp"

namespace tilestream::cli {

// "cpu" gives -1, "cuda" 0, "cuda:N" N; UsageError otherwise.
int parse_device_flag(const std::string& text);

// The backend of `device` (parse_device_flag's number): the CPU's, or the CUDA device's reading raw
// tiles with `io` (nullopt: the settings' default). UsageError for a CUDA device in a build without CUDA.
std::unique_ptr<pipeline::Backend> make_backend(int device, const std::optional<io::IoMode>& io);

}  // namespace tilestream::cli
