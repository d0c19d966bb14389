// The DICOM attribute table: sorted with unique tags (find_attribute's binary search), keywords that
// are identifiers, VRs of PS3.5, known entries found with their VR and keyword, group lengths,
// private and unknown tags not found, and which VRs have a 4-byte explicit length.
#include "dicom/dictionary.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace tilestream::dicom {
namespace {

// The VRs of PS3.5 6.2.
const std::set<std::string> known_vrs = {
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL", "OV",
    "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"};

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isalpha(static_cast<unsigned char>(s.front())) == 0) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

TEST(DicomDictionary, TableIsSortedWithUniqueTagsAndHundredsOfEntries) {
  const auto table = attribute_table();
  EXPECT_GT(table.size(), 550u);
  for (std::size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].tag, table[i].tag) << "entry " << i << ": " << table[i].keyword;
  }
}

TEST(DicomDictionary, EveryEntryHasAKnownVrAnIdentifierAndAPublicTag) {
  std::set<std::string_view> keywords;
  for (const AttributeInfo& a : attribute_table()) {
    EXPECT_EQ(a.vr[2], '\0') << a.keyword;
    EXPECT_TRUE(known_vrs.contains(std::string(a.vr))) << a.keyword << " has VR '" << a.vr << "'";
    EXPECT_TRUE(is_identifier(a.keyword)) << "'" << a.keyword << "'";
    EXPECT_TRUE(keywords.insert(a.keyword).second) << a.keyword << " twice";
    EXPECT_NE(a.tag & 0xFFFFu, 0u) << a.keyword << " is a group length";
    EXPECT_EQ((a.tag >> 16) % 2, 0u) << a.keyword << " is in a private group";
  }
}

TEST(DicomDictionary, FindsEveryEntryOfTheTable) {
  for (const AttributeInfo& a : attribute_table()) {
    EXPECT_EQ(find_attribute(a.tag), &a) << a.keyword;
  }
}

struct KnownAttribute {
  std::uint32_t tag;
  std::string_view vr;
  std::string_view keyword;
};

TEST(DicomDictionary, KnownAttributes) {
  const KnownAttribute known[] = {
      {0x00020001, "OB", "FileMetaInformationVersion"},  // the first entry
      {0x00020010, "UI", "TransferSyntaxUID"},
      {0x00080005, "CS", "SpecificCharacterSet"},
      {0x00080008, "CS", "ImageType"},
      {0x00080104, "LO", "CodeMeaning"},
      {0x00200013, "IS", "InstanceNumber"},
      {0x00209228, "UL", "ConcatenationFrameOffsetNumber"},
      {0x00209311, "CS", "DimensionOrganizationType"},
      {0x00280008, "IS", "NumberOfFrames"},
      {0x00280030, "DS", "PixelSpacing"},
      {0x00282000, "OB", "ICCProfile"},
      {0x0040072A, "DS", "XOffsetInSlideCoordinateSystem"},
      {0x0040A160, "UT", "TextValue"},
      {0x00480006, "UL", "TotalPixelMatrixColumns"},
      {0x00480007, "UL", "TotalPixelMatrixRows"},
      {0x00480105, "SQ", "OpticalPathSequence"},
      {0x0048021E, "SL", "ColumnPositionInTotalImagePixelMatrix"},
      {0x52009229, "SQ", "SharedFunctionalGroupsSequence"},
      {0x52009230, "SQ", "PerFrameFunctionalGroupsSequence"},
      {0x7FE00001, "OV", "ExtendedOffsetTable"},
      {0x7FE00002, "OV", "ExtendedOffsetTableLengths"},
      {0x7FE00010, "OB", "PixelData"},
      {0xFFFAFFFA, "SQ", "DigitalSignaturesSequence"},  // the last entry
  };
  for (const KnownAttribute& k : known) {
    const AttributeInfo* a = find_attribute(k.tag);
    ASSERT_NE(a, nullptr) << k.keyword;
    EXPECT_EQ(a->tag, k.tag);
    EXPECT_EQ(std::string_view(a->vr), k.vr) << k.keyword;
    EXPECT_EQ(a->keyword, k.keyword);
  }
}

TEST(DicomDictionary, UnknownPrivateGroupLengthAndItemTagsAreNotFound) {
  struct AbsentTag {
    std::uint32_t tag;
    std::string_view why;
  };
  const AbsentTag absent[] = {
      {0x00000000, "group length"},
      {0x00020000, "file meta group length"},
      {0x00080000, "group length"},
      {0x7FE00000, "group length"},
      {0x00090010, "private creator"},
      {0x00091001, "private element"},
      {0x00291010, "private element"},
      {0x7FE10010, "private element"},
      {0x00020011, "gap in group 0002"},
      {0x00480009, "gap in group 0048"},
      {0xFFFEE000, "item (the parser's)"},
      {0xFFFEE00D, "item delimiter (the parser's)"},
      {0xFFFEE0DD, "sequence delimiter (the parser's)"},
      {0xFFFFFFFF, "past the last entry"},
  };
  for (const AbsentTag& a : absent) {
    EXPECT_EQ(find_attribute(a.tag), nullptr) << std::hex << a.tag << ": " << a.why;
  }
}

TEST(DicomDictionary, LongLengthVrs) {
  for (std::string_view vr : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}) {
    EXPECT_TRUE(has_long_length(vr)) << vr;
  }
  for (std::string_view vr : {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO",
                              "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"}) {
    EXPECT_FALSE(has_long_length(vr)) << vr;
  }
  EXPECT_FALSE(has_long_length(""));
  EXPECT_FALSE(has_long_length("ob"));
  EXPECT_FALSE(has_long_length("OBX"));
}

}  // namespace
}  // namespace tilestream::dicom
