// add_properties: a data set's attributes as dicom.* properties.
#include "dicom/properties.hpp"

#include <charconv>

#include "dicom/dictionary.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::dicom {
namespace {

constexpr std::uint32_t per_frame_groups = make_tag(0x5200, 0x9230);

bool is_binary_number(const Element& e) {
  return e.is("US") || e.is("SS") || e.is("UL") || e.is("SL") || e.is("FL") || e.is("FD") || e.is("UV") ||
         e.is("SV");
}

std::string number_text(const Element& e, double value) {
  if (!e.is("FL") && !e.is("FD")) return concat(static_cast<long long>(value));
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

void add(const DataSet& set, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (const Element& e : set.elements) {
    const AttributeInfo* info = find_attribute(e.tag);
    if (info == nullptr || e.tag == per_frame_groups) continue;
    const std::string key = prefix + std::string(info->keyword);
    if (e.is("SQ")) {
      for (std::size_t k = 0; k < e.items.size(); ++k) add(e.items[k], concat(key, "[", k, "]."), out);
      continue;
    }
    if (!e.loaded) continue;
    std::vector<std::string> values;
    if (is_binary_number(e)) {
      for (std::size_t k = 0; k < number_count(&e); ++k) values.push_back(number_text(e, *number(&e, k)));
    } else if (e.is("OB") || e.is("OW") || e.is("OD") || e.is("OF") || e.is("OL") || e.is("OV") || e.is("UN") ||
               e.is("AT")) {
      continue;
    } else {
      values = strings(&e);
    }
    if (values.size() == 1 || values.empty()) {
      out[key] = values.empty() ? std::string() : values.front();
    } else {
      for (std::size_t k = 0; k < values.size(); ++k) out[concat(key, "[", k, "]")] = values[k];
    }
  }
}

}  // namespace

void add_properties(const DataSet& set, std::map<std::string, std::string>& properties) {
  add(set, "dicom.", properties);
}

}  // namespace tilestream::dicom
