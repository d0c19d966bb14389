// Low-level TIFF structure: the header, IFD entries and typed tag values, in either byte order,
// for classic TIFF, BigTIFF and Hamamatsu NDPI's 64-bit offsets in classic TIFF. Every read is
// bounds-checked against the source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/io/file.hpp"
#include "tilestream/tiff/slide_index.hpp"

namespace tilestream::tiff::detail {

struct Header {
  bool big_endian = false;
  bool big_tiff = false;
  // Hamamatsu NDPI: classic TIFF that keeps files above 4 GiB addressable, as OpenSlide 4.0.1 and
  // tifffile read it: the header's first-IFD offset and every IFD's next-IFD offset are 8 bytes,
  // and after an IFD's next-IFD offset come 4 bytes per entry, the high 32 bits of that entry's
  // value or value offset. Set when the 8-byte header offset points to an IFD of this layout that
  // holds the NDPI FormatFlag tag (65420), as OpenSlide detects it.
  bool ndpi = false;
  std::uint64_t first_ifd = 0;
};

struct Entry {
  std::uint16_t tag = 0;
  std::uint16_t type = 0;
  std::uint64_t count = 0;
  std::uint64_t value_field = 0;  // raw inline bytes as a little-endian integer, or the offset
                                  // (NDPI: with the entry's high 32 bits)
  std::uint8_t inline_bytes[8] = {};
  bool is_inline = false;
};

struct Ifd {
  std::uint64_t offset = 0;
  std::string label;  // "IFD 3", "IFD 0 / SubIFD 1"
  std::vector<Entry> entries;
  std::uint64_t next = 0;

  const Entry* find(std::uint16_t tag) const;
};

// Size in bytes of one value of a TIFF field type; 0 for unknown types.
std::uint32_t type_size(std::uint16_t type);

class IfdReader {
 public:
  IfdReader(const io::ByteSource& source, const ParseLimits& limits);

  const Header& header() const { return header_; }
  const std::string& file() const { return source_.name(); }
  std::uint64_t file_size() const { return source_.size(); }
  const io::ByteSource& source() const { return source_; }

  // Reads the IFD at `offset` (entries only; values stay in the file until asked for).
  Ifd read_ifd(std::uint64_t offset, std::string label) const;

  // Integer values of a BYTE/SHORT/LONG/LONG8/IFD/IFD8 (and signed) field; throws FormatError
  // naming the IFD and tag on other types or out-of-file arrays.
  std::vector<std::uint64_t> uints(const Ifd& ifd, const Entry& entry) const;
  std::uint64_t uint(const Ifd& ifd, const Entry& entry) const;  // first value; count must be >= 1
  std::optional<std::uint64_t> uint(const Ifd& ifd, std::uint16_t tag) const;
  // RATIONAL / SRATIONAL / FLOAT / DOUBLE first value as double.
  std::optional<double> real(const Ifd& ifd, std::uint16_t tag) const;
  // ASCII text, up to the first NUL.
  std::optional<std::string> text(const Ifd& ifd, std::uint16_t tag) const;
  // Raw bytes of any field (JPEGTables, UNDEFINED).
  std::vector<std::byte> raw(const Ifd& ifd, const Entry& entry) const;

 private:
  std::vector<std::byte> field_bytes(const Ifd& ifd, const Entry& entry) const;
  std::uint64_t read_uint(const std::byte* p, unsigned size) const;
  // The IFD at `offset` in the NDPI layout fits in the file and lists the NDPI FormatFlag tag.
  bool is_ndpi_ifd(std::uint64_t offset) const;

  const io::ByteSource& source_;
  ParseLimits limits_;
  Header header_;
};

std::string tag_name(std::uint16_t tag);

}  // namespace tilestream::tiff::detail
