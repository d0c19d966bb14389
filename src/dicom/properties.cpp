// add_properties: a data set's attributes as dicom.* properties.
#include "dicom/properties.hpp"

#include <cstring>

#include "dicom/dictionary.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/tiff/slide_index.hpp"

namespace tilestream::dicom {
namespace {

constexpr std::uint32_t per_frame_groups = make_tag(0x5200, 0x9230);

bool is_binary_number(const Element& e) {
  return e.is("US") || e.is("SS") || e.is("UL") || e.is("SL") || e.is("FL") || e.is("FD") || e.is("UV") ||
         e.is("SV");
}

// Value `k` of a binary number: 64-bit integers (UV, SV) from their bytes, which a double cannot hold
// whole (and whose largest UV values a cast from double would overflow); floats as OpenSlide prints
// doubles (%.17g); the others in decimal.
std::string number_text(const Element& e, std::size_t k) {
  if (e.is("UV") || e.is("SV")) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, e.value.data() + 8 * k, 8);  // little endian, as the host
    return e.is("UV") ? concat(bits) : concat(static_cast<std::int64_t>(bits));
  }
  const double value = *number(&e, k);
  if (e.is("FL") || e.is("FD")) return tiff::openslide_double(value);
  return concat(static_cast<long long>(value));  // 32 bits at most: exact
}

// The text VRs whose values OpenSlide 4 (through libdicom) lists one by one ("dicom.ImageType[2]");
// the others (DA, IS, LO, AS, LT, ST, UT, UR) keep their backslashes in one value, as OpenSlide shows
// them (measured with openslide-bin 4.0.1).
bool split_values(const Element& e) {
  return e.is("AE") || e.is("CS") || e.is("DS") || e.is("DT") || e.is("PN") || e.is("SH") || e.is("TM") ||
         e.is("UI") || e.is("UC");
}

std::string whole_text(const Element& e) {
  std::string_view text(reinterpret_cast<const char*>(e.value.data()), e.value.size());
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
  return std::string(text);
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
      for (std::size_t k = 0; k < number_count(&e); ++k) values.push_back(number_text(e, k));
    } else if (e.is("OB") || e.is("OW") || e.is("OD") || e.is("OF") || e.is("OL") || e.is("OV") || e.is("UN") ||
               e.is("AT")) {
      continue;
    } else if (split_values(e)) {
      values = strings(&e);
    } else {
      values = {whole_text(e)};
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
