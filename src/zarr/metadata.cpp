// Array metadata documents: v2 .zarray (+ .zattrs) and v3 zarr.json, written and parsed per the
// Zarr v2 and v3 specifications for the features ArraySpec covers.
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr {
namespace {

using json = nlohmann::json;

struct DTypeName {
  DType dtype;
  const char* v2;
  const char* v3;
};
constexpr DTypeName dtype_names[] = {
    {DType::uint8, "|u1", "uint8"}, {DType::uint16, "<u2", "uint16"},   {DType::int8, "|i1", "int8"},
    {DType::int16, "<i2", "int16"}, {DType::float32, "<f4", "float32"}, {DType::uint32, "<u4", "uint32"},
    {DType::int32, "<i4", "int32"}, {DType::float16, "<f2", "float16"},
};

const DTypeName& names_of(DType dtype) {
  for (const DTypeName& n : dtype_names)
    if (n.dtype == dtype) return n;
  throw UsageError(concat("no Zarr data type for ", to_string(dtype)));
}

DType parse_v2_dtype(const json& value) {
  check<FormatError>(value.is_string(), ".zarray dtype must be a string, not ", value.dump());
  std::string text = value.get<std::string>();
  if (text.size() == 3 && text[1] != 'f' && text[2] == '1' && text[0] == '<')
    text[0] = '|';  // "<u1" == "|u1"
  for (const DTypeName& n : dtype_names)
    if (text == n.v2) return n.dtype;
  check<UnsupportedError>(text.empty() || text[0] != '>', "big-endian Zarr dtype '", text,
                          "' is not supported");
  throw UnsupportedError(concat("unsupported Zarr dtype '", text, "' (supported: |u1 <u2 |i1 <i2 <u4 <i4 <f2 <f4)"));
}

DType parse_v3_dtype(const json& value) {
  check<FormatError>(value.is_string(), "zarr.json data_type must be a string, not ", value.dump());
  const std::string text = value.get<std::string>();
  for (const DTypeName& n : dtype_names)
    if (text == n.v3) return n.dtype;
  throw UnsupportedError(
      concat("unsupported Zarr data_type '", text, "' (supported: uint8 uint16 int8 int16 uint32 int32 float16 float32)"));
}

json fill_value_json(const ArraySpec& spec) {
  if (!is_float(spec.dtype)) return static_cast<std::int64_t>(spec.fill_value);
  if (std::isnan(spec.fill_value)) return "NaN";
  if (std::isinf(spec.fill_value)) return spec.fill_value > 0 ? "Infinity" : "-Infinity";
  return spec.fill_value;
}

double parse_fill_value(const json& value, DType dtype) {
  if (value.is_null()) return 0;  // v2: no fill value; missing chunks read as zeros
  if (value.is_number()) return value.get<double>();
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  check<FormatError>(value.is_string(), "fill_value must be a number or string, not ", value.dump());
  const std::string text = value.get<std::string>();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text.size() == 10 && text.starts_with("0x") && dtype == DType::float32) {  // v3 raw bit pattern
    const auto bits = static_cast<std::uint32_t>(std::stoul(text.substr(2), nullptr, 16));
    return std::bit_cast<float>(bits);
  }
  if (text.size() == 6 && text.starts_with("0x") && dtype == DType::float16)
    return float16_to_float(static_cast<std::uint16_t>(std::stoul(text.substr(2), nullptr, 16)));
  throw FormatError(concat("invalid fill_value ", value.dump()));
}

std::vector<std::uint64_t> parse_shape(const json& value, const char* what) {
  check<FormatError>(value.is_array(), what, " must be an array of integers, not ", value.dump());
  std::vector<std::uint64_t> shape;
  for (const json& v : value) {
    check<FormatError>(v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0), what,
                       " must be an array of non-negative integers, not ", value.dump());
    shape.push_back(v.get<std::uint64_t>());
  }
  return shape;
}

const json& member(const json& object, const char* name, const char* document) {
  check<FormatError>(object.is_object() && object.contains(name), document, " has no \"", name, "\"");
  return object[name];
}

json bytes_codec() { return {{"name", "bytes"}, {"configuration", {{"endian", "little"}}}}; }

// transpose?, bytes, compressors: the chain of an unsharded array or of a shard's inner chunks.
json chunk_codecs(const ArraySpec& spec) {
  json codecs = json::array();
  if (!spec.transpose_order.empty())
    codecs.push_back({{"name", "transpose"}, {"configuration", {{"order", spec.transpose_order}}}});
  codecs.push_back(bytes_codec());
  for (const CompressorSpec& c : spec.compressors)
    codecs.push_back(compressor_to_v3_json(c, bytes_per_sample(spec.dtype)));
  return codecs;
}

json v2_metadata(const ArraySpec& spec) {
  json m = json::object();
  m["zarr_format"] = 2;
  m["shape"] = spec.shape;
  m["chunks"] = spec.chunk_shape;
  m["dtype"] = names_of(spec.dtype).v2;
  m["compressor"] = spec.compressors.empty() ? json() : compressor_to_v2_json(spec.compressors[0]);
  m["fill_value"] = fill_value_json(spec);
  m["order"] = "C";
  m["filters"] = nullptr;
  m["dimension_separator"] = std::string(1, spec.separator);
  return m;
}

json v3_metadata(const ArraySpec& spec) {
  json m = json::object();
  m["zarr_format"] = 3;
  m["node_type"] = "array";
  m["shape"] = spec.shape;
  m["data_type"] = names_of(spec.dtype).v3;
  m["chunk_grid"] = {{"name", "regular"}, {"configuration", {{"chunk_shape", spec.block_shape()}}}};
  const bool v2_keys = spec.key_encoding == ChunkKeyEncoding::v2_encoding;
  m["chunk_key_encoding"] = {{"name", v2_keys ? "v2" : "default"},
                             {"configuration", {{"separator", std::string(1, spec.separator)}}}};
  m["fill_value"] = fill_value_json(spec);
  if (spec.shard_shape.empty()) {
    m["codecs"] = chunk_codecs(spec);
  } else {
    json index_codecs = json::array({bytes_codec()});
    if (spec.shard_index_crc32c) index_codecs.push_back({{"name", "crc32c"}});
    m["codecs"] = json::array({{{"name", "sharding_indexed"},
                                {"configuration",
                                 {{"chunk_shape", spec.chunk_shape},
                                  {"codecs", chunk_codecs(spec)},
                                  {"index_codecs", index_codecs},
                                  {"index_location", spec.shard_index_at_end ? "end" : "start"}}}}});
  }
  m["attributes"] = spec.attributes;
  if (!spec.dimension_names.empty()) m["dimension_names"] = spec.dimension_names;
  return m;
}

void parse_bytes_codec(const json& codec) {
  const json configuration = codec.value("configuration", json::object());
  const std::string endian = configuration.value("endian", "little");
  check<UnsupportedError>(endian == "little",
                          "big-endian Zarr arrays are not supported (bytes codec endian '", endian, "')");
}

std::string codec_name(const json& codec) {
  check<FormatError>(codec.is_object() && codec.contains("name") && codec["name"].is_string(),
                     "codec must be an object with a \"name\", not ", codec.dump());
  return codec["name"].get<std::string>();
}

// Parses transpose?, bytes, compressors into spec; returns false when the array-to-bytes codec is
// sharding_indexed (left to the caller), at position `*sharding`.
void parse_chunk_codecs(const json& codecs, std::size_t rank, ArraySpec& spec, bool inside_shard) {
  check<FormatError>(codecs.is_array() && !codecs.empty(), "zarr.json codecs must be a non-empty array");
  std::size_t i = 0;
  for (; i < codecs.size() && codec_name(codecs[i]) == "transpose"; ++i) {
    check<UnsupportedError>(spec.transpose_order.empty(), "more than one transpose codec is not supported");
    const json order =
        member(member(codecs[i], "configuration", "transpose codec"), "order", "transpose codec");
    if (order.is_string()) {  // early v3 drafts: "C" or "F"
      check<FormatError>(order == "C" || order == "F", "invalid transpose order ", order.dump());
      if (order == "F")
        for (std::size_t d = 0; d < rank; ++d) spec.transpose_order.push_back(static_cast<int>(rank - 1 - d));
    } else {
      check<FormatError>(order.is_array(), "invalid transpose order ", order.dump());
      for (const json& v : order) {
        check<FormatError>(v.is_number_integer(), "invalid transpose order ", order.dump());
        spec.transpose_order.push_back(v.get<int>());
      }
    }
  }
  check<FormatError>(i < codecs.size(), "zarr.json codecs have no array-to-bytes codec");
  const std::string name = codec_name(codecs[i]);
  if (name == "sharding_indexed") {
    check<UnsupportedError>(!inside_shard, "nested sharding is not supported");
    check<UnsupportedError>(spec.transpose_order.empty() && i + 1 == codecs.size(),
                            "codecs around sharding_indexed are not supported (only inside it)");
    const json& c = member(codecs[i], "configuration", "sharding_indexed codec");
    spec.shard_shape = spec.chunk_shape;
    spec.chunk_shape =
        parse_shape(member(c, "chunk_shape", "sharding_indexed codec"), "sharding chunk_shape");
    parse_chunk_codecs(member(c, "codecs", "sharding_indexed codec"), rank, spec, true);
    const json index_codecs = c.value("index_codecs", json::array({bytes_codec(), {{"name", "crc32c"}}}));
    check<FormatError>(
        index_codecs.is_array() && !index_codecs.empty() && codec_name(index_codecs[0]) == "bytes",
        "unsupported sharding index_codecs ", index_codecs.dump());
    parse_bytes_codec(index_codecs[0]);
    check<UnsupportedError>(
        index_codecs.size() == 1 || (index_codecs.size() == 2 && codec_name(index_codecs[1]) == "crc32c"),
        "unsupported sharding index_codecs ", index_codecs.dump(),
        " (supported: bytes, optionally followed by crc32c)");
    spec.shard_index_crc32c = index_codecs.size() == 2;
    const std::string location = c.value("index_location", "end");
    check<FormatError>(location == "end" || location == "start", "invalid sharding index_location '",
                       location, "'");
    spec.shard_index_at_end = location == "end";
    return;
  }
  check<UnsupportedError>(name == "bytes", "unsupported Zarr array-to-bytes codec '", name, "'");
  parse_bytes_codec(codecs[i]);
  for (++i; i < codecs.size(); ++i) spec.compressors.push_back(compressor_from_v3_json(codecs[i]));
}

ArraySpec parse_v2(const json& m, const json& attributes) {
  check<FormatError>(m.is_object(), ".zarray must be a JSON object");
  check<FormatError>(member(m, "zarr_format", ".zarray") == 2, ".zarray zarr_format must be 2, not ",
                     m["zarr_format"].dump());
  ArraySpec spec;
  spec.zarr_format = 2;
  spec.shape = parse_shape(member(m, "shape", ".zarray"), ".zarray shape");
  spec.chunk_shape = parse_shape(member(m, "chunks", ".zarray"), ".zarray chunks");
  spec.dtype = parse_v2_dtype(member(m, "dtype", ".zarray"));
  const json compressor = m.value("compressor", json());
  if (!compressor.is_null()) spec.compressors.push_back(compressor_from_v2_json(compressor));
  spec.fill_value = parse_fill_value(m.value("fill_value", json()), spec.dtype);
  const std::string order = m.value("order", "C");
  check<UnsupportedError>(order == "C", "Zarr v2 order '", order, "' is not supported (only \"C\")");
  const json filters = m.value("filters", json());
  check<UnsupportedError>(filters.is_null() || (filters.is_array() && filters.empty()),
                          "Zarr v2 filters are not supported: ", filters.dump());
  const std::string separator = m.value("dimension_separator", ".");
  check<FormatError>(separator == "." || separator == "/", "invalid dimension_separator '", separator, "'");
  spec.separator = separator[0];
  spec.key_encoding = ChunkKeyEncoding::v2_encoding;
  spec.attributes = attributes.is_null() ? json::object() : attributes;
  return spec;
}

ArraySpec parse_v3(const json& m) {
  check<FormatError>(m.is_object(), "zarr.json must be a JSON object");
  check<FormatError>(member(m, "zarr_format", "zarr.json") == 3, "zarr.json zarr_format must be 3, not ",
                     m["zarr_format"].dump());
  check<FormatError>(member(m, "node_type", "zarr.json") == "array", "zarr.json node_type is ",
                     m["node_type"].dump(), ", not \"array\"");
  ArraySpec spec;
  spec.zarr_format = 3;
  spec.shape = parse_shape(member(m, "shape", "zarr.json"), "zarr.json shape");
  spec.dtype = parse_v3_dtype(member(m, "data_type", "zarr.json"));
  const json& grid = member(m, "chunk_grid", "zarr.json");
  check<UnsupportedError>(member(grid, "name", "chunk_grid") == "regular", "unsupported chunk_grid ",
                          grid["name"].dump());
  spec.chunk_shape =
      parse_shape(member(member(grid, "configuration", "chunk_grid"), "chunk_shape", "chunk_grid"),
                  "chunk_grid chunk_shape");
  const json& keys = member(m, "chunk_key_encoding", "zarr.json");
  const std::string key_name = member(keys, "name", "chunk_key_encoding").get<std::string>();
  check<UnsupportedError>(key_name == "default" || key_name == "v2", "unsupported chunk_key_encoding '",
                          key_name, "'");
  spec.key_encoding = key_name == "v2" ? ChunkKeyEncoding::v2_encoding : ChunkKeyEncoding::default_encoding;
  const std::string separator =
      keys.value("configuration", json::object()).value("separator", key_name == "v2" ? "." : "/");
  check<FormatError>(separator == "." || separator == "/", "invalid chunk key separator '", separator, "'");
  spec.separator = separator[0];
  spec.fill_value = parse_fill_value(member(m, "fill_value", "zarr.json"), spec.dtype);
  parse_chunk_codecs(member(m, "codecs", "zarr.json"), spec.shape.size(), spec, false);
  const json transformers = m.value("storage_transformers", json::array());
  check<UnsupportedError>(transformers.is_array() && transformers.empty(),
                          "storage_transformers are not supported");
  spec.attributes = m.value("attributes", json::object());
  if (m.contains("dimension_names") && m["dimension_names"].is_array())
    for (const json& name : m["dimension_names"])
      spec.dimension_names.push_back(name.is_string() ? name.get<std::string>() : "");
  return spec;
}

}  // namespace

json array_metadata(const ArraySpec& spec) {
  spec.validate();
  return spec.zarr_format == 2 ? v2_metadata(spec) : v3_metadata(spec);
}

ArraySpec parse_array_metadata(int zarr_format, const json& metadata, const json& attributes) {
  check<UsageError>(zarr_format == 2 || zarr_format == 3, "zarr_format must be 2 or 3, not ", zarr_format);
  ArraySpec spec;
  try {
    spec = zarr_format == 2 ? parse_v2(metadata, attributes) : parse_v3(metadata);
  } catch (const nlohmann::json::exception& e) {  // a member of the wrong JSON type
    throw FormatError(concat(zarr_format == 2 ? ".zarray" : "zarr.json", ": ", e.what()));
  }
  try {
    spec.validate();
  } catch (const UsageError& e) {
    throw FormatError(e.what());
  }
  return spec;
}

}  // namespace tilestream::zarr
