// The option -> flag table and the CLI's wording of library errors.
#include "cli/option_flags.hpp"

#include <array>

namespace tilestream::cli {
namespace {

constexpr std::array<OptionFlag, 21> table{{
    {"zarr_version", "--zarr-version"}, {"chunk", "--chunk"},         {"shard", "--shard"},
    {"compressors", "--codec"},         {"layout", "--layout"},       {"ome", "--ome"},
    {"levels", "--levels"},             {"level", "--level"},         {"threads", "--threads"},
    {"overwrite", "--overwrite"},       {"resume", "--resume"},       {"fsync", "--fsync"},
    {"separator", "--separator"},       {"dtype", "--dtype"},         {"mode", "--mode"},
    {"memory", "--memory"},             {"io", "--io"}, {"decode", "--decode"}, {"encode", "--encode"},               {"device", "--device"},
    {"bilevel_max", "--bilevel-max"},
}};

std::string spell(std::string_view option) { return flag_of(option); }

const char* way_out_flags(WayOut way) {
  switch (way) {
    case WayOut::region: return "--region x,y,width,height";
    case WayOut::tiled_mode: return "--mode tiled";
    case WayOut::memory_budget: return "--memory SIZE";
    case WayOut::smaller_chunk: return "--chunk N";
    case WayOut::cpu_device: return "--device cpu";
  }
  return "?";
}

}  // namespace

std::span<const OptionFlag> option_flags() { return table; }

std::string flag_of(std::string_view option) {
  for (const OptionFlag& entry : table)
    if (option == entry.option) return entry.flag;
  return std::string(option);
}

std::string command_line_message(const Error& error) {
  std::string message = render_options(error, &spell);
  const auto* resource = dynamic_cast<const ResourceError*>(&error);
  if (resource == nullptr || resource->ways_out().empty()) return message;
  std::string flags;
  for (const WayOut way : resource->ways_out()) flags += concat(flags.empty() ? " (on the command line: " : ", ", way_out_flags(way));
  return message + flags + ")";
}

}  // namespace tilestream::cli
