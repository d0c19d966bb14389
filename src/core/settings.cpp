// Defaults from the environment, read once.
#include "tilestream/core/settings.hpp"

#include <cctype>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

#include "tilestream/core/error.hpp"

namespace tilestream {
namespace {

// A count from 1 to `most` in environment variable `name`, into `field` where it is set (and not empty).
void read_count(const char* name, unsigned most, unsigned& field) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return;
  char* end = nullptr;
  const unsigned long parsed = std::strtoul(value, &end, 10);
  check<UsageError>(*end == '\0' && parsed >= 1 && parsed <= most, name, " must be a number from 1 to ", most, ", not '",
                    value, "'");
  field = static_cast<unsigned>(parsed);
}

Settings load_settings() {
  Settings settings;
  settings.threads = std::max(1u, std::thread::hardware_concurrency());
  settings.task_bytes = std::size_t{8} << 20;
  settings.memory_bytes = std::size_t{1} << 30;
  settings.band_bytes = std::size_t{1} << 20;
  read_count("TILESTREAM_THREADS", 4096, settings.threads);
  if (const char* value = std::getenv("TILESTREAM_TASK_BYTES"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const unsigned long long parsed = std::strtoull(value, &end, 10);
    check<UsageError>(*end == '\0' && parsed >= (64u << 10) && parsed <= (1ull << 30),
                      "TILESTREAM_TASK_BYTES must be a byte count from 65536 to 1073741824, not '", value, "'");
    settings.task_bytes = static_cast<std::size_t>(parsed);
  }
  if (const char* value = std::getenv("TILESTREAM_MEMORY"); value != nullptr && *value != '\0')
    settings.memory_bytes = parse_byte_size(value, "TILESTREAM_MEMORY");
  if (const char* value = std::getenv("TILESTREAM_BAND_BYTES"); value != nullptr && *value != '\0')
    settings.band_bytes = parse_byte_size(value, "TILESTREAM_BAND_BYTES");
  if (const char* value = std::getenv("TILESTREAM_IO"); value != nullptr) settings.io = value;
  if (const char* value = std::getenv("TILESTREAM_CUFILE_LIBRARY"); value != nullptr) settings.cufile_library = value;
  if (const char* value = std::getenv("TILESTREAM_DECODE"); value != nullptr) settings.decode = value;
  if (const char* value = std::getenv("TILESTREAM_ENCODE"); value != nullptr) settings.encode = value;
  if (const char* value = std::getenv("TILESTREAM_NVJPEG_LIBRARY"); value != nullptr) settings.nvjpeg_library = value;
  if (const char* value = std::getenv("TILESTREAM_NVJPEG2K_LIBRARY"); value != nullptr) settings.nvjpeg2k_library = value;
  if (const char* value = std::getenv("TILESTREAM_NVCOMP_LIBRARY"); value != nullptr) settings.nvcomp_library = value;
  if (const char* value = std::getenv("TILESTREAM_NVJPEG_BACKEND"); value != nullptr) {
    settings.nvjpeg_backend = value;
    check<UsageError>(settings.nvjpeg_backend.empty() || settings.nvjpeg_backend == "hardware" ||
                          settings.nvjpeg_backend == "cuda",
                      "TILESTREAM_NVJPEG_BACKEND must be hardware or cuda, not '", settings.nvjpeg_backend, "'");
  }
  read_count("TILESTREAM_JPEG_BATCH", 4096, settings.jpeg_batch_tiles);
  read_count("TILESTREAM_JPEG_LANES", 4096, settings.jpeg_lanes);
  read_count("TILESTREAM_J2K_THREADS", 4096, settings.jpeg2000_threads);
  read_count("TILESTREAM_NVJPEG2K_STATES", 64, settings.nvjpeg2k_states);
  read_count("TILESTREAM_ENCODE_BATCH", 4096, settings.encode_batch_blocks);
  read_count("TILESTREAM_TILED_GROUP", 4096, settings.tiled_group);
  read_count("TILESTREAM_ENCODE_IN_FLIGHT", 65536, settings.encode_in_flight_blocks);
  if (const char* value = std::getenv("TILESTREAM_PATCH_CPU_SHARE"); value != nullptr && *value != '\0') {
    char* end = nullptr;
    const double parsed = std::strtod(value, &end);
    check<UsageError>(*end == '\0' && parsed >= 0 && parsed <= 1,
                      "TILESTREAM_PATCH_CPU_SHARE must be a number from 0 to 1, not '", value, "'");
    settings.patch_cpu_share = parsed;
  }
  if (const char* value = std::getenv("TILESTREAM_PATCH_SPLIT"); value != nullptr) {
    settings.patch_split = value;
    check<UsageError>(settings.patch_split.empty() || settings.patch_split == "tiles" ||
                          settings.patch_split == "patches",
                      "TILESTREAM_PATCH_SPLIT must be tiles or patches, not '", settings.patch_split, "'");
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

std::size_t resolve_memory_bytes(std::size_t requested) {
  return requested != 0 ? requested : default_settings().memory_bytes;
}

std::size_t resolve_band_bytes(std::size_t requested) {
  return requested != 0 ? requested : default_settings().band_bytes;
}

std::size_t parse_byte_size(const std::string& text, const std::string& what) {
  std::size_t digits = 0;
  while (digits < text.size() && digits < 16 && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  std::string suffix = text.substr(digits);
  for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = -1;
  if (suffix.empty() || suffix == "B") shift = 0;
  for (int i = 0; i < 4; ++i) {
    const std::string unit(1, "KMGT"[i]);
    if (suffix == unit || suffix == unit + "B" || suffix == unit + "IB") shift = 10 * (i + 1);
  }
  const unsigned long long number = digits == 0 ? 0 : std::stoull(text.substr(0, digits));
  constexpr unsigned long long limit = 1ull << 50;
  check<UsageError>(digits > 0 && shift >= 0 && number > 0 && number <= (limit >> shift), what,
                    " must be a byte count like 1048576, 512M or 2G (binary multiples), not '", text, "'");
  return static_cast<std::size_t>(number << shift);
}

}  // namespace tilestream
