// Groups (v2 .zgroup/.zattrs, v3 zarr.json) and OME-NGFF 0.4 / 0.5 multiscales attributes.
#include <gtest/gtest.h>

#include "tilestream/zarr/array.hpp"
#include "tilestream/zarr/ome.hpp"
#include "zarr/zarr_test_support.hpp"

namespace tilestream::zarr::test {
namespace {

using json = nlohmann::json;

OmeImage slide(std::optional<double> mpp) {
  OmeImage image;
  image.name = "CMU-1.svs";
  image.datasets = {{"0", 1}, {"1", 2}, {"2", 4}};
  image.pixel_size_um = mpp;
  return image;
}

const char* omero_golden = R"({"channels":[
  {"active":true,"color":"FF0000","label":"red","window":{"end":255,"max":255,"min":0,"start":0}},
  {"active":true,"color":"00FF00","label":"green","window":{"end":255,"max":255,"min":0,"start":0}},
  {"active":true,"color":"0000FF","label":"blue","window":{"end":255,"max":255,"min":0,"start":0}}],
  "rdefs":{"model":"color"}})";

TEST(Ome, Ngff04GoldenWithPixelSize) {
  json expected = json::parse(R"({"multiscales":[{"version":"0.4","name":"CMU-1.svs",
    "axes":[{"name":"c","type":"channel"},{"name":"y","type":"space","unit":"micrometer"},
            {"name":"x","type":"space","unit":"micrometer"}],
    "datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1.0,0.25,0.25]}]},
                {"path":"1","coordinateTransformations":[{"type":"scale","scale":[1.0,0.5,0.5]}]},
                {"path":"2","coordinateTransformations":[{"type":"scale","scale":[1.0,1.0,1.0]}]}]}]})");
  expected["omero"] = json::parse(omero_golden);
  EXPECT_EQ(ome_group_attributes(slide(0.25), 2), expected);
}

TEST(Ome, Ngff05GoldenWithoutPixelSize) {
  json expected = json::parse(R"({"ome":{"version":"0.5","multiscales":[{"name":"CMU-1.svs",
    "axes":[{"name":"c","type":"channel"},{"name":"y","type":"space"},{"name":"x","type":"space"}],
    "datasets":[{"path":"0","coordinateTransformations":[{"type":"scale","scale":[1.0,1.0,1.0]}]},
                {"path":"1","coordinateTransformations":[{"type":"scale","scale":[1.0,2.0,2.0]}]},
                {"path":"2","coordinateTransformations":[{"type":"scale","scale":[1.0,4.0,4.0]}]}]}]}})");
  expected["ome"]["omero"] = json::parse(omero_golden);
  EXPECT_EQ(ome_group_attributes(slide(std::nullopt), 3), expected);
}

TEST(Ome, NonRgbHasNoOmeroAndUint16Window) {
  OmeImage image = slide(0.5);
  image.rgb = false;
  image.channels = 1;
  EXPECT_FALSE(ome_group_attributes(image, 2).contains("omero"));
  image = slide(0.5);
  image.max_value = 65535;
  EXPECT_EQ(ome_group_attributes(image, 3)["ome"]["omero"]["channels"][1]["window"]["end"], 65535);
  image.datasets.clear();
  expect_error<UsageError>([&] { ome_group_attributes(image, 3); }, {"CMU-1.svs", "no datasets"});
}

TEST(Group, WritesAndReadsAttributesInBothFormats) {
  for (int format : {2, 3}) {
    TempDir dir;
    FileStore store(dir.path());
    const json attributes = ome_group_attributes(slide(0.25), format);
    write_group(store, "", format, attributes);
    write_group(store, "sub/group", format, {{"k", "v"}});
    EXPECT_EQ(read_group_attributes(store, ""), attributes);
    EXPECT_EQ(read_group_attributes(store, "sub/group"), json({{"k", "v"}}));
    if (format == 2) {
      EXPECT_EQ(json::parse(as_string(*store.get(".zgroup"))), json({{"zarr_format", 2}}));
    } else {
      const json document = json::parse(as_string(*store.get("zarr.json")));
      EXPECT_EQ(document["node_type"], "group");
      EXPECT_EQ(document["zarr_format"], 3);
    }
  }
  MemoryStore empty;
  expect_error<FormatError>([&] { read_group_attributes(empty, "g"); }, {"<memory>/g", "no Zarr group"});
}

TEST(ArrayWriter, V2WritesZattrsAndV3EmbedsAttributes) {
  MemoryStore store;
  ArraySpec spec;
  spec.zarr_format = 2;
  spec.shape = {4};
  spec.chunk_shape = {4};
  spec.attributes = {{"a", 1}};
  ArrayWriter(store, "v2", spec);
  spec.zarr_format = 3;
  ArrayWriter(store, "v3", spec);
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"v2/.zarray", "v2/.zattrs", "v3/zarr.json"}));
  EXPECT_EQ(json::parse(as_string(*store.get("v2/.zattrs"))), json({{"a", 1}}));
  EXPECT_EQ(ArrayReader(store, "v2").spec().attributes, json({{"a", 1}}));
  EXPECT_EQ(ArrayReader(store, "v3").spec().attributes, json({{"a", 1}}));
}

}  // namespace
}  // namespace tilestream::zarr::test
