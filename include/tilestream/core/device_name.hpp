// The names of the devices a run may use, as every front end spells them: "cpu", "cuda" (device 0)
// and "cuda:N".
#pragma once

#include <string_view>

namespace tilestream {

// -1 for "cpu", 0 for "cuda", N for "cuda:N"; UsageError naming the option "device" otherwise.
int parse_device_name(std::string_view text);

}  // namespace tilestream
