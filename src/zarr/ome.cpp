// OME-NGFF multiscales and omero metadata for (c, y, x) images: 0.4 on Zarr v2, 0.5 on Zarr v3.
#include "tilestream/zarr/ome.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {

nlohmann::json ome_group_attributes(const OmeImage& image, int zarr_format) {
  using json = nlohmann::json;
  check<UsageError>(zarr_format == 2 || zarr_format == 3, "zarr_format must be 2 or 3, not ", zarr_format);
  check<UsageError>(!image.datasets.empty(), "OME-NGFF image '", image.name, "' has no datasets");
  check<UsageError>(!image.pixel_size_um || *image.pixel_size_um > 0, "pixel size must be positive, not ",
                    image.pixel_size_um.value_or(0));

  json space_axis = {{"type", "space"}};
  if (image.pixel_size_um) space_axis["unit"] = "micrometer";
  json y = space_axis, x = space_axis;
  y["name"] = "y";
  x["name"] = "x";
  const json axes = json::array({{{"name", "c"}, {"type", "channel"}}, y, x});

  const double pixel = image.pixel_size_um.value_or(1.0);
  json datasets = json::array();
  for (const OmeDataset& d : image.datasets) {
    check<UsageError>(d.downsample > 0, "dataset '", d.path, "' has a non-positive downsample");
    datasets.push_back(
        {{"path", d.path},
         {"coordinateTransformations",
          json::array({{{"type", "scale"},
                        {"scale", json::array({1.0, pixel * d.downsample, pixel * d.downsample})}}})}});
  }
  json multiscale = json::object();
  if (zarr_format == 2) multiscale["version"] = "0.4";
  multiscale["name"] = image.name;
  multiscale["axes"] = axes;
  multiscale["datasets"] = datasets;

  json omero;
  if (image.rgb && image.channels == 3) {
    static constexpr const char* colors[3] = {"FF0000", "00FF00", "0000FF"};
    static constexpr const char* labels[3] = {"red", "green", "blue"};
    json channels = json::array();
    for (int c = 0; c < 3; ++c)
      channels.push_back(
          {{"color", colors[c]},
           {"label", labels[c]},
           {"active", true},
           {"window", {{"start", 0}, {"end", image.max_value}, {"min", 0}, {"max", image.max_value}}}});
    omero = {{"channels", channels}, {"rdefs", {{"model", "color"}}}};
  }

  json body = json::object();
  body["multiscales"] = json::array({multiscale});
  if (!omero.is_null()) body["omero"] = omero;
  if (zarr_format == 2) return body;
  json ome = {{"version", "0.5"}};
  ome.update(body);
  return {{"ome", ome}};
}

}  // namespace tilestream::zarr
