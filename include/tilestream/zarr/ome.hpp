// OME-NGFF multiscales metadata: version 0.4 (on Zarr v2) and 0.5 (on Zarr v3), for 2-D images
// with a channel axis, stored (c, y, x) as NGFF orders axes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tilestream::zarr {

struct OmeDataset {
  std::string path;       // array path inside the group, e.g. "0"
  double downsample = 1;  // relative to dataset 0 (2^k for a 2x pyramid)
};

struct OmeImage {
  std::string name;                     // the image's name (slide file name)
  std::vector<OmeDataset> datasets;     // largest first
  std::optional<double> pixel_size_um;  // level 0 pixel size (MPP); axes get unit "micrometer" when set
  std::uint32_t channels = 3;
  bool rgb = true;                      // adds "omero" rendering hints for red, green, blue
  int max_value = 255;                  // omero window end (255 for uint8, 65535 for uint16)
};

// The group attributes: {"multiscales": [...], "omero": {...}} for NGFF 0.4 (zarr_format 2), or
// {"ome": {"version": "0.5", "multiscales": [...], "omero": {...}}} for NGFF 0.5 (zarr_format 3).
nlohmann::json ome_group_attributes(const OmeImage& image, int zarr_format);

}  // namespace tilestream::zarr
