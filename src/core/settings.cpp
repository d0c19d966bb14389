// Defaults from the environment, read once.
#include "tilestream/core/settings.hpp"

#include <cstdlib>
#include <string>
#include <thread>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

Settings load_settings() {
  Settings settings{std::max(1u, std::thread::hardware_concurrency())};
  if (const char* value = std::getenv("TILESTREAM_THREADS"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const unsigned long parsed = std::strtoul(value, &end, 10);
    check<UsageError>(*end == '\0' && parsed >= 1 && parsed <= 4096,
                      "TILESTREAM_THREADS must be a number from 1 to 4096, not '", value, "'");
    settings.threads = static_cast<unsigned>(parsed);
  }
  return settings;
}

}  // namespace

const Settings& default_settings() {
  static const Settings settings = load_settings();
  return settings;
}

unsigned resolve_threads(unsigned requested) {
  return requested != 0 ? requested : default_settings().threads;
}

}  // namespace tilestream
