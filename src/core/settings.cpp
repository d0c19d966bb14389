// Defaults from the environment, read once.
#include "tilestream/core/settings.hpp"

#include <cstdlib>
#include <string>
#include <thread>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

Settings load_settings() {
  Settings settings{std::max(1u, std::thread::hardware_concurrency()), std::size_t{8} << 20};
  if (const char* value = std::getenv("TILESTREAM_THREADS"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const unsigned long parsed = std::strtoul(value, &end, 10);
    check<UsageError>(*end == '\0' && parsed >= 1 && parsed <= 4096,
                      "TILESTREAM_THREADS must be a number from 1 to 4096, not '", value, "'");
    settings.threads = static_cast<unsigned>(parsed);
  }
  if (const char* value = std::getenv("TILESTREAM_TASK_BYTES"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const unsigned long long parsed = std::strtoull(value, &end, 10);
    check<UsageError>(*end == '\0' && parsed >= (64u << 10) && parsed <= (1ull << 30),
                      "TILESTREAM_TASK_BYTES must be a byte count from 65536 to 1073741824, not '", value, "'");
    settings.task_bytes = static_cast<std::size_t>(parsed);
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

std::size_t resolve_task_bytes(std::size_t requested) {
  return requested != 0 ? requested : default_settings().task_bytes;
}

}  // namespace tilestream
