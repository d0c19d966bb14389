// `tilestream info FILE [--json]`: levels, associated images, every IFD and the properties.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/bilevel_flag.hpp"
#include "cli/commands.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::cli {
namespace {

nlohmann::ordered_json image_json(const tiff::ImageInfo& im) {
  return {{"ifd", im.ifd_label},
          {"ifd_offset", im.ifd_offset},
          {"width", im.width},
          {"height", im.height},
          {"tiled", im.tiled},
          {"tile_width", im.tile_width},
          {"tile_height", im.tile_height},
          {"samples", im.samples},
          {"dtype", to_string(im.dtype)},
          {"stored_samples", im.stored_samples},
          {"stored_dtype", to_string(im.stored_dtype)},
          {"pixels", im.conversion.name},
          {"bits_per_sample", im.bits_per_sample},
          {"compression", im.compression},
          {"compression_name", codec::compression_name(im.compression)},
          {"photometric", im.photometric},
          {"predictor", im.predictor},
          {"planar_config", im.planar_config},
          {"subfile_type", im.subfile_type},
          {"jpeg_scale_denom", im.jpeg_scale_denom},
          {"tiles", im.tile_offsets.size()},
          {"readable", im.unsupported_reason.empty()},
          {"unsupported_reason", im.unsupported_reason},
          {"malformed", im.malformed}};
}

std::string describe(const tiff::ImageInfo& im) {
  std::string text = concat(im.width, " x ", im.height, ", ", im.tiled ? "tiles " : "strips ",
                            im.tile_width, " x ", im.tile_height, ", ", im.samples, " x ",
                            to_string(im.dtype),
                            im.bits_per_sample == 1 ? concat(" of 1-bit samples (0/", unsigned{im.bilevel_max}, ")")
                                                    : std::string(),
                            im.conversion.identity() ? std::string()
                                                     : concat(" (", im.conversion.name, " from ", im.stored_samples,
                                                              " x ", to_string(im.stored_dtype), ")"),
                            ", ", codec::compression_name(im.compression),
                            im.predictor == 2 ? " + predictor" : "", ", ", im.ifd_label,
                            im.jpeg_scale_denom != 1 ? concat(" at 1/", im.jpeg_scale_denom) : "");
  if (!im.unsupported_reason.empty()) text += "  [cannot read: " + im.unsupported_reason + "]";
  return text;
}

void print_info(const std::string& path, bool json, bool stored_samples, unsigned bilevel_max) {
  const slide::Slide slide =
      slide::Slide::open(path, {.stored_samples = stored_samples, .bilevel_max = bilevel_max});
  const tiff::SlideIndex& index = slide.index();
  if (json) {
    nlohmann::ordered_json doc{{"path", index.path},
                               {"vendor", index.vendor},
                               {"file_size", index.file_size},
                               {"format", index.format},
                               {"file_count", index.file_count},
                               {"big_tiff", index.big_tiff},
                               {"byte_order", index.big_endian ? "big-endian" : "little-endian"},
                               {"stored_samples", index.stored_samples}};
    doc["levels"] = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < index.levels.size(); ++k) {
      auto level = image_json(index.levels[k].image);
      level["level"] = k;
      level["downsample"] = index.levels[k].downsample;
      doc["levels"].push_back(level);
    }
    doc["associated"] = nlohmann::ordered_json::array();
    for (const auto& a : index.associated) {
      auto item = image_json(a.image);
      item["name"] = a.name;
      doc["associated"].push_back(item);
    }
    doc["images"] = nlohmann::ordered_json::array();
    for (const auto& im : index.images) doc["images"].push_back(image_json(im));
    doc["properties"] = index.properties;
    std::cout << doc.dump(2) << "\n";
    return;
  }
  std::cout << index.path << ": " << index.vendor << (index.stored_samples ? " (stored samples)" : "") << ", " << index.format
            << (index.file_count > 1 ? concat(" (", index.file_count, " files)") : std::string()) << ", "
            << (index.big_endian ? "big-endian" : "little-endian") << ", " << index.file_size << " bytes\n";
  std::cout << "levels:\n";
  for (std::size_t k = 0; k < index.levels.size(); ++k) {
    std::printf("  %zu: downsample %-18s %s\n", k,
                index.properties.at(concat("openslide.level[", k, "].downsample")).c_str(),
                describe(index.levels[k].image).c_str());
  }
  std::cout << "associated images:" << (index.associated.empty() ? " none\n" : "\n");
  for (const auto& a : index.associated) std::cout << "  " << a.name << ": " << describe(a.image) << "\n";
  std::cout << "properties:\n";
  for (const auto& [key, value] : index.properties) {
    std::string shown = value;
    for (char& c : shown)
      if (c == '\r' || c == '\n') c = ' ';
    std::cout << "  " << key << " = " << shown << "\n";
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a slide: levels, associated images, properties");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto stored = std::make_shared<bool>(false);
  auto bilevel_max = std::make_shared<unsigned>(1);
  cmd->add_option("FILE", *path, "Slide file (TIFF, BigTIFF, SVS, NDPI), or a DICOM whole slide image: its folder or one of its files")->required();
  cmd->add_flag("--json", *json, "Machine-readable output");
  cmd->add_flag("--stored-samples", *stored, "Describe the images as read with --stored-samples (no photometric conversion)");
  add_bilevel_option(*cmd, *bilevel_max);
  cmd->callback([path, json, stored, bilevel_max] { print_info(*path, *json, *stored, *bilevel_max); });
}

}  // namespace tilestream::cli
