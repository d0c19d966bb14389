// The DICOM element parser (src/dicom/data_set): files in explicit and implicit VR little endian,
// sequences nested with defined and undefined lengths, the value accessors (padding, multi-values,
// text and binary numbers), an undefined-length UN read as an implicit-VR sequence, where Pixel Data
// lies; and malformed files, each with the error type and the place its message must name.
#include "dicom/data_set.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "dicom/dicom_bytes.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::dicom {
namespace {

namespace build = testing::dicom;
using build::Bytes;
using build::tag;

ParsedFile parse(const Bytes& bytes, const ReadLimits& limits = {}) {
  return parse_file(io::MemorySource(bytes, "test.dcm"), limits);
}

// The offset of the first element header (tag, and for explicit VR its VR) at or after 132.
std::uint64_t offset_of(const Bytes& bytes, std::uint32_t t) {
  Bytes header;
  build::put_tag(header, t);
  const auto at = std::search(bytes.begin() + 132, bytes.end(), header.begin(), header.end());
  EXPECT_NE(at, bytes.end()) << tag_text(t);
  return static_cast<std::uint64_t>(at - bytes.begin());
}

// Runs `read`, which must throw E whose message holds every one of `parts`; returns the message.
template <typename E>
std::string expect_error(const std::function<void()>& read, const std::vector<std::string>& parts) {
  try {
    read();
  } catch (const E& e) {
    const std::string message = e.what();
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << part << " in: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "another error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error";
  return {};
}

// Every kind of value the accessors read.
build::DataSet values() {
  build::DataSet d;
  d.text(tag(0x0008, 0x0008), "CS", "ORIGINAL\\PRIMARY\\VOLUME\\NONE");
  d.text(tag(0x0008, 0x0018), "UI", "1.2.3");  // odd: padded with a NUL
  d.text(tag(0x0008, 0x0070), "LO", "Maker ");
  d.text(tag(0x0018, 0x1030), "LO", "a\\b ");
  d.text(tag(0x0020, 0x0013), "IS", " 12 ");
  d.text(tag(0x0028, 0x0030), "DS", " 0.25\\+1.5e-3\\-2");
  d.text(tag(0x0008, 0x2111), "ST", "not\\split ");
  d.raw(tag(0x0028, 0x0010), "US", build::binary<std::uint16_t>({512, 65535}));
  d.ul(tag(0x0048, 0x0006), 4000000000u);
  d.raw(tag(0x0048, 0x0001), "FL", build::binary<float>({0.5f, -2.25f}));
  d.raw(tag(0x0040, 0x072A), "FD", build::binary<double>({1.0 / 3}));  // a DS attribute written as FD
  d.raw(tag(0x0048, 0x021E), "SL", build::binary<std::int32_t>({-7}));
  return d;
}

class Encodings : public ::testing::TestWithParam<const char*> {};

TEST_P(Encodings, ValuesReadAsWritten) {
  const std::string syntax = GetParam();
  const bool explicit_vr = syntax == build::explicit_le;
  build::DataSet d = values();
  if (!explicit_vr) d.erase(tag(0x0040, 0x072A));  // implicit VR takes the dictionary's VR (DS)
  const ParsedFile file = parse(build::part10(syntax, d, nullptr));
  EXPECT_EQ(file.transfer_syntax, syntax);
  EXPECT_EQ(file.explicit_vr, explicit_vr);
  EXPECT_EQ(string(file.meta.find(make_tag(0x0002, 0x0002))), build::wsi_class);
  EXPECT_FALSE(file.pixel_data.has_value());

  const DataSet& s = file.data;
  EXPECT_EQ(strings(s.find(make_tag(0x0008, 0x0008))),
            (std::vector<std::string>{"ORIGINAL", "PRIMARY", "VOLUME", "NONE"}));
  EXPECT_EQ(string(s.find(make_tag(0x0008, 0x0018))), "1.2.3");
  EXPECT_EQ(s.find(make_tag(0x0008, 0x0018))->value.size(), 6u);
  EXPECT_EQ(string(s.find(make_tag(0x0008, 0x0070))), "Maker");
  EXPECT_EQ(strings(s.find(make_tag(0x0018, 0x1030))), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(strings(s.find(make_tag(0x0008, 0x2111))), (std::vector<std::string>{"not\\split"}));
  EXPECT_EQ(number(s.find(make_tag(0x0020, 0x0013))), 12.0);
  EXPECT_EQ(whole_number(s.find(make_tag(0x0020, 0x0013))), 12u);
  const Element* spacing = s.find(make_tag(0x0028, 0x0030));
  EXPECT_EQ(spacing->vr_text(), "DS");
  EXPECT_EQ(number_count(spacing), 3u);
  EXPECT_EQ(number(spacing, 0), 0.25);
  EXPECT_EQ(number(spacing, 1), 1.5e-3);
  EXPECT_EQ(number(spacing, 2), -2.0);
  EXPECT_EQ(number(spacing, 3), std::nullopt);
  EXPECT_EQ(whole_number(spacing, 0), std::nullopt);  // not whole
  EXPECT_EQ(whole_number(spacing, 2), std::nullopt);  // negative
  const Element* rows = s.find(make_tag(0x0028, 0x0010));
  EXPECT_EQ(number_count(rows), 2u);
  EXPECT_EQ(number(rows, 0), 512.0);
  EXPECT_EQ(number(rows, 1), 65535.0);
  EXPECT_EQ(whole_number(s.find(make_tag(0x0048, 0x0006))), 4000000000u);
  const Element* fl = s.find(make_tag(0x0048, 0x0001));
  EXPECT_EQ(number(fl, 0), 0.5);
  EXPECT_EQ(number(fl, 1), -2.25);
  EXPECT_EQ(number(s.find(make_tag(0x0048, 0x021E))), -7.0);
  if (explicit_vr) EXPECT_EQ(number(s.find(make_tag(0x0040, 0x072A))), 1.0 / 3);
  // Text accessors give nothing for binary values and numbers nothing for text other than IS / DS.
  EXPECT_TRUE(strings(rows).empty());
  EXPECT_EQ(number(s.find(make_tag(0x0008, 0x0070))), std::nullopt);
  EXPECT_EQ(s.find(make_tag(0x0010, 0x0010)), nullptr);
  EXPECT_EQ(string(nullptr), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(DicomDataSet, Encodings, ::testing::Values(build::explicit_le, build::implicit_le),
                         [](const auto& info) {
                           return std::string(info.param == build::implicit_le ? "Implicit" : "Explicit");
                         });

// A sequence of two items, the second holding a sequence of its own, in each combination of
// defined and undefined lengths and both encodings.
struct NestingCase {
  const char* syntax;
  build::Lengths outer, inner;
};

class Nesting : public ::testing::TestWithParam<NestingCase> {};

TEST_P(Nesting, ItemsAndTheirElements) {
  const NestingCase c = GetParam();
  build::DataSet code;
  code.text(tag(0x0008, 0x0100), "SH", "12345");
  code.text(tag(0x0008, 0x0104), "LO", "inner");
  build::DataSet first, second;
  first.text(tag(0x0048, 0x0106), "SH", "path-1");
  second.text(tag(0x0048, 0x0106), "SH", "path-2");
  second.sequence(tag(0x0022, 0x0019), {code, code}, c.inner);
  build::DataSet d;
  d.sequence(tag(0x0048, 0x0105), {first, second}, c.outer);
  d.ul(tag(0x0048, 0x0302), 3);  // after the sequence: parsing resumed at its end
  const ParsedFile file = parse(build::part10(c.syntax, d, nullptr));
  const Element* sequence = file.data.find(make_tag(0x0048, 0x0105));
  ASSERT_NE(sequence, nullptr);
  EXPECT_TRUE(sequence->is("SQ"));
  EXPECT_EQ(sequence->undefined, c.outer.sequence_undefined);
  ASSERT_EQ(sequence->items.size(), 2u);
  EXPECT_EQ(string(sequence->items[0].find(make_tag(0x0048, 0x0106))), "path-1");
  EXPECT_EQ(string(sequence->items[1].find(make_tag(0x0048, 0x0106))), "path-2");
  const Element* inner = sequence->items[1].find(make_tag(0x0022, 0x0019));
  ASSERT_NE(inner, nullptr);
  ASSERT_EQ(inner->items.size(), 2u);
  EXPECT_EQ(string(inner->items[1].find(make_tag(0x0008, 0x0104))), "inner");
  EXPECT_EQ(first_item(sequence->items[1], make_tag(0x0022, 0x0019)), &inner->items[0]);
  EXPECT_EQ(first_item(file.data, make_tag(0x0022, 0x0019)), nullptr);
  EXPECT_EQ(number(file.data.find(make_tag(0x0048, 0x0302))), 3.0);
  EXPECT_EQ(file.data.elements.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(DicomDataSet, Nesting,
                         ::testing::Values(NestingCase{build::explicit_le, {false, false}, {false, false}},
                                           NestingCase{build::explicit_le, {true, true}, {true, true}},
                                           NestingCase{build::explicit_le, {true, false}, {false, true}},
                                           NestingCase{build::explicit_le, {false, true}, {true, false}},
                                           NestingCase{build::implicit_le, {false, false}, {false, false}},
                                           NestingCase{build::implicit_le, {true, true}, {true, true}},
                                           NestingCase{build::implicit_le, {true, false}, {false, true}}));

// An undefined-length UN (a sequence whose VR the writer did not know) holds implicit-VR items,
// whatever the file's encoding (PS3.5 6.2.2).
TEST(DicomDataSet, UndefinedLengthUnIsAnImplicitVrSequence) {
  build::DataSet item;
  item.text(tag(0x0048, 0x0106), "SH", "OP1");
  item.us(tag(0x0028, 0x0002), 3);
  const Bytes items = item.encode(false);
  Bytes value;
  build::put_tag(value, tag(0xFFFE, 0xE000));
  build::put(value, 0xFFFFFFFFu, 4);
  build::append(value, items);
  build::put_tag(value, tag(0xFFFE, 0xE00D));
  build::put(value, 0, 4);
  build::put_tag(value, tag(0xFFFE, 0xE0DD));
  build::put(value, 0, 4);
  Bytes file =
      build::part10(build::explicit_le, build::DataSet().text(tag(0x0008, 0x0060), "CS", "SM"), nullptr);
  build::put_tag(file, tag(0x0048, 0x0105));
  for (const char c : std::string("UN\0\0", 4)) file.push_back(static_cast<std::byte>(c));
  build::put(file, 0xFFFFFFFFu, 4);
  build::append(file, value);
  build::append(file, build::DataSet().ul(tag(0x0048, 0x0302), 1).encode(true));

  const ParsedFile parsed = parse(file);
  const Element* sequence = parsed.data.find(make_tag(0x0048, 0x0105));
  ASSERT_NE(sequence, nullptr);
  EXPECT_TRUE(sequence->is("SQ"));
  ASSERT_EQ(sequence->items.size(), 1u);
  const Element* id = sequence->items[0].find(make_tag(0x0048, 0x0106));
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->vr_text(), "SH");  // from the dictionary
  EXPECT_EQ(string(id), "OP1");
  EXPECT_EQ(number(sequence->items[0].find(make_tag(0x0028, 0x0002))), 3.0);
  EXPECT_EQ(number(parsed.data.find(make_tag(0x0048, 0x0302))), 1.0);
}

// An Icon Image Sequence item holds its own Pixel Data, encapsulated in a file whose transfer syntax
// encapsulates (PS3.5 A.4): its fragments are passed over, and the file's Pixel Data is found after.
TEST(DicomDataSet, EncapsulatedPixelDataOfAnIconIsPassedOver) {
  for (const bool undefined_item : {false, true}) {
    SCOPED_TRACE(undefined_item);
    build::PixelData icon_pixels;
    icon_pixels.encapsulated = true;
    icon_pixels.frames = {Bytes(13, std::byte{0xAB})};
    Bytes item = build::DataSet().us(tag(0x0028, 0x0010), 4).us(tag(0x0028, 0x0011), 4).encode(true);
    build::append(item, build::encode_pixel_data(icon_pixels, true));
    Bytes file =
        build::part10(build::jpeg_baseline, build::DataSet().text(tag(0x0008, 0x0060), "CS", "SM"), nullptr);
    build::put_tag(file, tag(0x0088, 0x0200));
    for (const char c : std::string("SQ\0\0", 4)) file.push_back(static_cast<std::byte>(c));
    build::put(file, 0xFFFFFFFFu, 4);
    build::put_tag(file, tag(0xFFFE, 0xE000));
    build::put(file, undefined_item ? 0xFFFFFFFFu : item.size(), 4);
    build::append(file, item);
    if (undefined_item) {
      build::put_tag(file, tag(0xFFFE, 0xE00D));
      build::put(file, 0, 4);
    }
    build::put_tag(file, tag(0xFFFE, 0xE0DD));
    build::put(file, 0, 4);
    build::PixelData pixels = icon_pixels;
    pixels.frames = {Bytes(20, std::byte{0xCD})};
    const std::uint64_t pixel_data_at = file.size();
    build::append(file, build::encode_pixel_data(pixels, true));

    const ParsedFile parsed = parse(file);
    const DataSet* icon = first_item(parsed.data, make_tag(0x0088, 0x0200));
    ASSERT_NE(icon, nullptr);
    EXPECT_EQ(number(icon->find(make_tag(0x0028, 0x0011))), 4.0);
    const Element* icon_data = icon->find(make_tag(0x7FE0, 0x0010));
    ASSERT_NE(icon_data, nullptr);
    EXPECT_TRUE(icon_data->undefined);
    EXPECT_FALSE(icon_data->loaded);
    ASSERT_TRUE(parsed.pixel_data.has_value());
    EXPECT_EQ(parsed.pixel_data->offset, pixel_data_at + 12);
    EXPECT_TRUE(parsed.pixel_data->undefined);
    if (undefined_item) {
      // Cut inside the icon's fragment, then with its item tag replaced.
      const std::uint64_t fragment =
          offset_of(file, make_tag(0x0088, 0x0200)) + 12 + 8 + item.size() - 8 - 14;
      expect_error<FormatError>(
          [&] { parse(Bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(fragment + 5))); },
          {"test.dcm", "a Pixel Data fragment at offset " + std::to_string(fragment), "holds 14 bytes"});
      Bytes wrong = file;
      wrong[fragment - 6] = std::byte{0x77};
      expect_error<FormatError>([&] { parse(wrong); },
                                {"test.dcm", "Pixel Data (7FE0,0010) at offset ",
                                 "holds (FFFE,E077) at offset " + std::to_string(fragment - 8),
                                 "where a fragment's item should be"});
    }
  }
}

TEST(DicomDataSet, PixelDataIsLocatedNotLoaded) {
  build::PixelData native;
  native.frames = {Bytes(48, std::byte{7}), Bytes(48, std::byte{9})};
  const Bytes bytes =
      build::part10(build::explicit_le, build::DataSet().text(tag(0x0008, 0x0060), "CS", "SM"), &native);
  const ParsedFile file = parse(bytes);
  ASSERT_TRUE(file.pixel_data.has_value());
  EXPECT_EQ(file.pixel_data->offset, offset_of(bytes, make_tag(0x7FE0, 0x0010)) + 12);
  EXPECT_EQ(file.pixel_data->length, 96u);
  EXPECT_FALSE(file.pixel_data->undefined);
  EXPECT_EQ(file.pixel_data->offset + 96, bytes.size());

  build::PixelData encapsulated = native;
  encapsulated.encapsulated = true;
  encapsulated.table = build::OffsetTable::extended;
  const Bytes jpeg = build::part10(build::jpeg_baseline, build::DataSet(), &encapsulated);
  const ParsedFile j = parse(jpeg);
  ASSERT_TRUE(j.pixel_data.has_value());
  EXPECT_TRUE(j.pixel_data->undefined);
  EXPECT_EQ(j.pixel_data->offset, offset_of(jpeg, make_tag(0x7FE0, 0x0010)) + 12);
  // The Extended Offset Table is loaded: 8 bytes a frame.
  EXPECT_EQ(j.data.find(make_tag(0x7FE0, 0x0001))->value.size(), 16u);
  EXPECT_TRUE(j.data.find(make_tag(0x7FE0, 0x0002))->loaded);
}

TEST(DicomDataSet, LargeValuesAreLocatedOnly) {
  build::DataSet d;
  d.raw(tag(0x0048, 0x0001), "OB", Bytes(64, std::byte{1}));
  ReadLimits limits;
  limits.max_value_bytes = 32;
  const Bytes bytes = build::part10(build::explicit_le, d, nullptr);
  const ParsedFile file = parse(bytes, limits);
  const Element* e = file.data.find(make_tag(0x0048, 0x0001));
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->loaded);
  EXPECT_TRUE(e->value.empty());
  EXPECT_EQ(e->length, 64u);
  EXPECT_EQ(e->offset, offset_of(bytes, make_tag(0x0048, 0x0001)) + 12);
}

TEST(DicomDataSet, PrefixAndTagText) {
  const Bytes file = build::part10(build::explicit_le, build::DataSet(), nullptr);
  EXPECT_TRUE(has_dicom_prefix(io::MemorySource(file)));
  Bytes tiff = file;
  tiff[128] = std::byte{'X'};
  EXPECT_FALSE(has_dicom_prefix(io::MemorySource(tiff)));
  EXPECT_FALSE(has_dicom_prefix(io::MemorySource(std::span(file).first(131))));
  EXPECT_EQ(tag_text(make_tag(0x7FE0, 0x0010)), "(7FE0,0010)");
  expect_error<FormatError>([&] { parse(tiff); }, {"test.dcm", "not a DICOM file"});
}

// Malformed files: the error type and the element, offset or limit the message must name.

build::DataSet with_sequence(build::Lengths lengths) {
  build::DataSet item;
  item.text(tag(0x0048, 0x0106), "SH", "OP1");
  build::DataSet d;
  d.text(tag(0x0008, 0x0060), "CS", "SM");
  d.sequence(tag(0x0048, 0x0105), {item, item}, lengths);
  d.ul(tag(0x0048, 0x0302), 1);
  d.raw(tag(0x0049, 0x1001), "OB", Bytes(256));  // a private value: the file goes on past the sequence
  return d;
}

TEST(DicomDataSetMalformed, CutInsideTheDataSet) {
  const Bytes whole = build::part10(build::explicit_le, with_sequence({}), nullptr);
  const std::uint64_t at = offset_of(whole, make_tag(0x0048, 0x0302));
  const std::uint64_t sequence = offset_of(whole, make_tag(0x0048, 0x0105));
  struct Cut {
    std::uint64_t at;
    std::string says;
  };
  // In a tag, in a length, in a value, inside a sequence of defined length.
  for (const Cut& cut : {Cut{at + 2, "the file ends at " + std::to_string(at + 2)},
                         Cut{at + 6, "the file ends at " + std::to_string(at + 6)},
                         Cut{at + 9, "value at offset " + std::to_string(at + 8)},
                         Cut{sequence + 20, "sequence (0048,0105) at offset " + std::to_string(sequence)}}) {
    SCOPED_TRACE(cut.at);
    const Bytes part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut.at));
    expect_error<FormatError>([&] { parse(part); }, {"test.dcm", cut.says});
  }
}

TEST(DicomDataSetMalformed, BadVrBytes) {
  Bytes file = build::part10(build::explicit_le, with_sequence({}), nullptr);
  const std::uint64_t at = offset_of(file, make_tag(0x0048, 0x0302));
  file[at + 4] = std::byte{'u'};
  file[at + 5] = std::byte{0x01};
  expect_error<FormatError>([&] { parse(file); },
                            {"test.dcm", "(0048,0302)", "offset " + std::to_string(at), "no valid VR"});
}

TEST(DicomDataSetMalformed, SequenceLengthPastTheEnd) {
  Bytes file = build::part10(build::explicit_le, with_sequence({}), nullptr);
  const std::uint64_t at = offset_of(file, make_tag(0x0048, 0x0105));
  file[at + 11] = std::byte{0x10};  // the length's high byte
  expect_error<FormatError>(
      [&] { parse(file); },
      {"test.dcm", "sequence (0048,0105)", "offset " + std::to_string(at), "past the end of the file"});
}

TEST(DicomDataSetMalformed, ItemLengthPastItsSequence) {
  Bytes file = build::part10(build::explicit_le, with_sequence({}), nullptr);
  const std::uint64_t item = offset_of(file, make_tag(0xFFFE, 0xE000));
  file[item + 4] = std::byte{0x7F};
  expect_error<FormatError>(
      [&] { parse(file); },
      {"test.dcm", "(0048,0105)", "offset " + std::to_string(item), "runs past its sequence"});
}

TEST(DicomDataSetMalformed, ItemDelimiterInADefinedLengthItem) {
  // The first item's element replaced by an item delimiter of the same size (8 bytes + 4 of value).
  build::DataSet item;
  item.raw(tag(0x0048, 0x0106), "SH", Bytes(4, std::byte{'A'}));
  build::DataSet d;
  d.sequence(tag(0x0048, 0x0105), {item}, {});
  Bytes file = build::part10(build::explicit_le, d, nullptr);
  const std::uint64_t at = offset_of(file, make_tag(0x0048, 0x0106));
  Bytes delimiter;
  build::put_tag(delimiter, tag(0xFFFE, 0xE00D));
  build::put(delimiter, 0, 4);
  std::copy(delimiter.begin(), delimiter.end(), file.begin() + static_cast<std::ptrdiff_t>(at));
  expect_error<FormatError>([&] { parse(file); },
                            {"test.dcm", "item delimiter at offset " + std::to_string(at), "defined length"});
}

TEST(DicomDataSetMalformed, UndefinedItemEndingWithTheFile) {
  Bytes file = build::part10(build::explicit_le, with_sequence({true, true}), nullptr);
  file.resize(offset_of(file, make_tag(0xFFFE, 0xE00D)));
  expect_error<FormatError>([&] { parse(file); }, {"test.dcm", "ends at " + std::to_string(file.size())});
}

TEST(DicomDataSetMalformed, NestingDeeperThanTheLimit) {
  build::DataSet d;
  d.text(tag(0x0048, 0x0106), "SH", "deep");
  for (int k = 0; k < 5; ++k) d = build::DataSet().sequence(tag(0x0048, 0x0105), {d}, {true, true});
  ReadLimits limits;
  limits.max_depth = 4;
  const Bytes file = build::part10(build::explicit_le, d, nullptr);
  expect_error<FormatError>([&] { parse(file, limits); }, {"test.dcm", "nested deeper than 4", "offset "});
  limits.max_depth = 5;
  const ParsedFile parsed = parse(file, limits);
  const DataSet* deepest = &parsed.data;
  for (int k = 0; k < 5; ++k) deepest = first_item(*deepest, make_tag(0x0048, 0x0105));
  EXPECT_EQ(string(deepest->find(make_tag(0x0048, 0x0106))), "deep");
}

TEST(DicomDataSetMalformed, ItemOutsideASequence) {
  Bytes file = build::part10(build::explicit_le, with_sequence({}), nullptr);
  const std::uint64_t at = file.size();
  build::put_tag(file, tag(0xFFFE, 0xE000));
  build::put(file, 0, 4);
  expect_error<FormatError>([&] { parse(file); }, {"test.dcm", "(FFFE,E000)", "offset " + std::to_string(at),
                                                   "outside a sequence"});
}

TEST(DicomDataSetMalformed, UndefinedLengthOfAPlainValue) {
  Bytes file =
      build::part10(build::explicit_le, build::DataSet().raw(tag(0x0048, 0x0001), "OB", Bytes(4)), nullptr);
  const std::uint64_t at = offset_of(file, make_tag(0x0048, 0x0001));
  for (int k = 0; k < 4; ++k) file[at + 8 + k] = std::byte{0xFF};
  expect_error<FormatError>([&] { parse(file); },
                            {"test.dcm", "(0048,0001)", "offset " + std::to_string(at), "undefined length"});
}

TEST(DicomDataSetMalformed, TransferSyntaxesNotRead) {
  for (const char* syntax : {build::big_endian, "1.2.840.10008.1.2.1.99"}) {
    SCOPED_TRACE(syntax);
    const Bytes file = build::part10(syntax, build::DataSet(), nullptr);
    expect_error<UnsupportedError>([&] { parse(file); }, {"test.dcm", syntax, "is not read"});
  }
  Bytes file(128, std::byte{0});
  for (const char c : std::string("DICM")) file.push_back(static_cast<std::byte>(c));
  build::append(file, build::DataSet().text(tag(0x0008, 0x0060), "CS", "SM").encode(true));
  expect_error<FormatError>([&] { parse(file); }, {"test.dcm", "no Transfer Syntax UID (0002,0010)"});
}

}  // namespace
}  // namespace tilestream::dicom
