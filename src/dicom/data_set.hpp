// A DICOM file's data elements, read by our own parser: the File Meta Information (always explicit VR
// little endian), then the data set in its transfer syntax's encoding (explicit or implicit VR little
// endian), sequences and their items nested, values loaded up to a size cap, and the place of the
// Pixel Data element (its fragments walked by pixel_data.hpp). Every read is bounds-checked against the
// file and nesting, element count and value sizes are capped, so a hostile file fails with a
// FormatError naming the file, the element and its offset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tilestream/io/file.hpp"

namespace tilestream::dicom {

inline constexpr std::uint32_t undefined_length = 0xFFFFFFFFu;

constexpr std::uint32_t make_tag(std::uint16_t group, std::uint16_t element) {
  return (std::uint32_t{group} << 16) | element;
}
// "(0048,0006)", for messages.
std::string tag_text(std::uint32_t tag);

struct DataSet;

struct Element {
  std::uint32_t tag = 0;
  std::array<char, 2> vr{'U', 'N'};  // as written (explicit VR) or from the dictionary (implicit VR)
  std::uint64_t offset = 0;          // of the value in the file
  std::uint64_t length = 0;          // of the value; for undefined lengths, up to the delimiter
  bool undefined = false;            // written with an undefined length (sequences, encapsulated pixels)
  bool loaded = false;               // `value` holds the value (it is at most ReadLimits::max_value_bytes)
  std::vector<std::byte> value;
  std::vector<DataSet> items;        // a sequence's items

  std::string_view vr_text() const { return {vr.data(), 2}; }
  bool is(std::string_view two) const { return vr_text() == two; }
};

struct DataSet {
  std::vector<Element> elements;  // in file order
  const Element* find(std::uint32_t tag) const;
};

// Values of an element, as the VR encodes them. Absent elements, empty values and values that do not
// parse give nullopt / empty.
// Text values (AE, AS, CS, DA, DS, DT, IS, LO, LT, PN, SH, ST, TM, UC, UI, UR, UT), split at
// backslashes (not for LT, ST, UT, UR), each with its padding (trailing spaces, a UI's trailing NUL,
// CS and numbers' leading spaces) removed.
std::vector<std::string> strings(const Element* e);
std::optional<std::string> string(const Element* e);  // the first value
// Numbers: binary (US, SS, UL, SL, UV, SV, FL, FD) or decimal text (IS, DS); the value at `index`.
std::optional<double> number(const Element* e, std::size_t index = 0);
std::size_t number_count(const Element* e);
// An integer value that must be exact and within [min, max].
std::optional<std::uint64_t> whole_number(const Element* e, std::size_t index = 0);

// The first item of sequence `tag` in `set`, or nullptr.
const DataSet* first_item(const DataSet& set, std::uint32_t tag);

struct ReadLimits {
  std::size_t max_depth = 16;                          // nested sequences
  std::size_t max_elements = std::size_t{1} << 24;     // in the whole file
  std::size_t max_value_bytes = std::size_t{1} << 20;  // loaded values; larger ones are only located
};

// A parsed file up to its Pixel Data.
struct ParsedFile {
  std::string transfer_syntax;   // (0002,0010)
  bool explicit_vr = true;       // of the data set
  DataSet meta;                  // group 0002
  DataSet data;                  // the data set, without Pixel Data
  std::optional<Element> pixel_data;  // (7FE0,0010): its offset, length and whether encapsulated
};

// Whether the bytes hold a DICOM Part 10 file: "DICM" after the 128-byte preamble.
bool has_dicom_prefix(const io::ByteSource& source);

// Parses `source` (a DICOM Part 10 file). FormatError naming the file, the element's tag and offset on
// malformed files; UnsupportedError for transfer syntaxes whose data sets we do not parse (big endian,
// deflated).
ParsedFile parse_file(const io::ByteSource& source, const ReadLimits& limits = {});

}  // namespace tilestream::dicom
