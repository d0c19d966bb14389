// The --device flag every sub-command that can use the GPU shares.
#pragma once

#include <string>

namespace tilestream::cli {

// "cpu" gives -1, "cuda" 0, "cuda:N" N; UsageError otherwise.
int parse_device_flag(const std::string& text);

}  // namespace tilestream::cli
