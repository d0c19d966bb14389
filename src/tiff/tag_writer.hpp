// Encoding side of TIFF structure: typed tag values in the file's byte order, IFDs with their
// out-of-line values, and the file header, for classic TIFF and BigTIFF. Used by TiffWriter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tilestream::tiff::detail {

// TIFF field types the writer emits.
namespace field_type {
inline constexpr std::uint16_t byte = 1;
inline constexpr std::uint16_t ascii = 2;
inline constexpr std::uint16_t short_ = 3;
inline constexpr std::uint16_t long_ = 4;
inline constexpr std::uint16_t undefined = 7;
inline constexpr std::uint16_t long8 = 16;
}  // namespace field_type

// Largest offset (and file size) a classic TIFF can address.
inline constexpr std::uint64_t classic_offset_limit = 0xFFFF'FFFFull;

// Throws FormatError when `end` (an offset or the end of something written) is past what classic
// TIFF can address; `what` names it in the message ("tile 12 of page 0").
void check_classic_offset(std::uint64_t end, std::string_view what);

// Stores an unsigned integer of `bytes` bytes (2, 4 or 8) at dst in the given byte order.
void store_uint(std::byte* dst, std::uint64_t value, unsigned bytes, bool big_endian);

// One IFD entry with its value already encoded in the file's byte order.
struct OutTag {
  std::uint16_t code = 0;
  std::uint16_t type = 0;
  std::uint64_t count = 0;
  std::vector<std::byte> value;
};

// Collects a page's tags, encoding values as they are added. Offsets are LONG in classic TIFF
// (checked against 4 GiB) and LONG8 in BigTIFF.
class TagListBuilder {
 public:
  TagListBuilder(bool big_tiff, bool big_endian) : big_tiff_(big_tiff), big_endian_(big_endian) {}

  void add_short(std::uint16_t code, std::uint16_t value) { add_shorts(code, {&value, 1}); }
  void add_shorts(std::uint16_t code, std::span<const std::uint16_t> values);
  void add_long(std::uint16_t code, std::uint32_t value);
  void add_longs(std::uint16_t code, std::span<const std::uint64_t> values);  // each <= 4 GiB
  void add_offsets(std::uint16_t code, std::span<const std::uint64_t> values);  // LONG or LONG8
  void add_ascii(std::uint16_t code, std::string_view text);                     // NUL appended
  void add_undefined(std::uint16_t code, std::span<const std::byte> bytes);

  // The tags sorted by code; throws UsageError on a duplicate code.
  std::vector<OutTag> take();

 private:
  void add_uints(std::uint16_t code, std::uint16_t type, unsigned bytes,
                 std::span<const std::uint64_t> values);

  bool big_tiff_;
  bool big_endian_;
  std::vector<OutTag> tags_;
};

// Size of the TIFF header: 8 bytes classic, 16 BigTIFF.
std::size_t header_size(bool big_tiff);
// The header with `first_ifd` as the first-IFD offset.
std::vector<std::byte> encode_header(bool big_tiff, bool big_endian, std::uint64_t first_ifd);
// Offset of the first-IFD pointer inside the header.
std::uint64_t first_ifd_pointer_offset(bool big_tiff);

// Bytes an IFD with these tags takes: entry table, next pointer, then out-of-line values, each
// aligned to 2 bytes (classic) or 8 bytes (BigTIFF) relative to the IFD's start.
std::uint64_t ifd_encoded_size(std::span<const OutTag> tags, bool big_tiff);

// Encodes the IFD that will be written at `ifd_offset` (which must be aligned as above), pointing
// to `next_ifd` (0 for the last). Tags must be sorted by code (TagListBuilder::take does that).
std::vector<std::byte> encode_ifd(std::span<const OutTag> tags, std::uint64_t ifd_offset,
                                  std::uint64_t next_ifd, bool big_tiff, bool big_endian);

}  // namespace tilestream::tiff::detail
