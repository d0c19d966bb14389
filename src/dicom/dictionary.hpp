// The part of the DICOM data dictionary (PS3.6) that a whole-slide image needs: the file meta
// information group (0002) and the attributes of the modules of the VL Whole Slide Microscopy Image
// IOD (PS3.3 A.32.8), their functional group macros, sequences and content items. The parser takes
// from it the value representation of each tag in implicit-VR files and the keyword that names a
// property (OpenSlide's `dicom.<Keyword>`). The table is constant data: safe to read from any
// thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace tilestream::dicom {

// One attribute of the DICOM data dictionary (PS3.6): its tag (group << 16 | element), its value
// representation ("US", "SQ", ...; multi-VR attributes list their usual one) and its keyword.
struct AttributeInfo {
  std::uint32_t tag;
  char vr[3];
  std::string_view keyword;
};

// The attribute with this tag, or nullptr when the table does not hold it. Group-length tags
// (gggg,0000) and private tags are not in the table.
const AttributeInfo* find_attribute(std::uint32_t tag);

// The whole table, sorted by tag with each tag once (find_attribute's binary search relies on it).
std::span<const AttributeInfo> attribute_table();

// Two-letter VR → whether its explicit-VR encoding has a 4-byte length after 2 reserved bytes
// (OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV).
bool has_long_length(std::string_view vr);

}  // namespace tilestream::dicom
