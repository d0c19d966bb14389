// A small, test-local TIFF / BigTIFF / NDPI-layout assembler: files described as IFDs of tags plus stored tiles
// or strips, laid out by hand (independent of TiffWriter), and a patcher that rewrites entries,
// pointers and bytes in place so that tests can break a valid file in one precise way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tilestream/core/dtype.hpp"

namespace tilestream::test {

// TIFF field types used by the builder.
namespace field {
inline constexpr std::uint16_t byte = 1, ascii = 2, short_ = 3, long_ = 4, rational = 5, undefined = 7,
                               ifd = 13, long8 = 16, ifd8 = 18;
}  // namespace field

struct TagValue {
  std::uint16_t code = 0;
  std::uint16_t type = field::short_;
  std::vector<std::uint64_t> values;  // integer types (RATIONAL: numerator, denominator pairs)
  std::vector<std::byte> raw;         // ASCII / UNDEFINED / BYTE contents (used when type is one of them)
};

struct IfdSpec {
  std::vector<TagValue> tags;  // everything but the offsets / byte counts / SubIFDs tags
  bool tiled = true;           // TileOffsets/TileByteCounts, else StripOffsets/StripByteCounts
  std::vector<std::vector<std::byte>> chunks;  // stored tiles or strips, in TIFF order
  std::vector<IfdSpec> sub_ifds;               // written after their parent, listed in its SubIFDs tag
};

struct FileSpec {
  bool big_tiff = false;
  bool big_endian = false;
  bool data_after_ifds = false;  // tifffile's layout (IFD, then data) rather than libtiff's
  // Hamamatsu NDPI's layout of classic TIFF: 8-byte first- and next-IFD offsets, after each IFD's
  // next offset 4 bytes per entry for the high bits of its value field (all 0 here), ASCII always
  // out of line.
  bool ndpi = false;
  std::vector<IfdSpec> ifds;     // the main chain
};

// A built file, with the positions a mutation needs. IFDs are numbered in the reader's walk
// order: each main-chain IFD followed by its SubIFDs.
class TiffBytes {
 public:
  std::vector<std::byte> bytes;
  bool big_tiff = false;
  bool big_endian = false;
  bool ndpi = false;
  std::vector<std::uint64_t> ifd_offsets;
  std::vector<std::vector<std::uint64_t>> chunk_offsets;  // per IFD
  std::vector<std::vector<std::uint64_t>> chunk_sizes;    // per IFD

  // Rewrites the entry of `tag` in IFD `ifd` (which must have it): type, count and values; values
  // that do not fit inline are appended to the end of the file.
  void set_tag(std::size_t ifd, std::uint16_t tag, std::uint16_t type,
               const std::vector<std::uint64_t>& values);
  void set_tag_raw(std::size_t ifd, std::uint16_t tag, std::uint16_t type, const std::vector<std::byte>& raw);
  // Only the count field of the entry (the values stay where they are).
  void set_tag_count(std::size_t ifd, std::uint16_t tag, std::uint64_t count);
  // Renames the entry to a private tag number, so that readers no longer see `tag`.
  void remove_tag(std::size_t ifd, std::uint16_t tag);
  void set_next_ifd(std::size_t ifd, std::uint64_t offset);
  void set_first_ifd(std::uint64_t offset);
  // Stores an unsigned integer of `size` bytes at `offset` in the file's byte order.
  void put_uint(std::uint64_t offset, std::uint64_t value, unsigned size);
  void put_bytes(std::uint64_t offset, const std::vector<std::byte>& data);
  void truncate(std::uint64_t size) { bytes.resize(size); }
  std::uint64_t entry_position(std::size_t ifd, std::uint16_t tag) const;
  std::uint64_t next_pointer_position(std::size_t ifd) const;
  // NDPI: the 4 bytes that hold the high 32 bits of the entry of `tag` in IFD `ifd`.
  void set_ndpi_high_bits(std::size_t ifd, std::uint16_t tag, std::uint32_t high);

  std::vector<std::map<std::uint16_t, std::uint64_t>> entry_positions;  // per IFD: tag -> entry offset
  std::vector<std::uint64_t> next_positions;                            // per IFD
};

TiffBytes build_tiff(const FileSpec& spec);

// A valid pyramid-free slide to break: `levels` images in the main chain (each half the size of
// the one before, NewSubfileType 1), optionally one SubIFD under IFD 0, every image tiled (or
// stripped) and compressed as asked, pixels from a smooth pattern.
struct BaseOptions {
  bool big_tiff = false;
  bool big_endian = false;
  bool data_after_ifds = false;
  bool ndpi = false;  // NDPI layout, with the FormatFlag (65420) and SourceLens (65421, 20) tags
  std::uint16_t compression = 1;
  std::uint16_t predictor = 1;
  std::uint32_t samples = 3;
  DType dtype = DType::uint8;
  bool tiled = true;
  std::uint32_t width = 40;
  std::uint32_t height = 36;
  std::uint32_t tile = 16;  // tile side, or rows per strip
  std::uint32_t levels = 1;
  bool sub_ifd = false;
  std::string description;
  std::uint16_t photometric = 0xffff;  // PhotometricInterpretation to write; 0xffff: RGB, YCbCr or MinIsBlack as fits
  std::vector<TagValue> extra_tags;    // added to every image (ColorMap, InkSet, SampleFormat...)
  // NDPI JPEG levels (ndpi, JPEG, not tiled): each image one JPEG strip (YCbCr 4:4:4 or grey, MCU 8 x 8)
  // with a restart marker every `restart_interval` pixels of an MCU row, which must divide the padded row,
  // and its McuStarts (65426), as NDPI stores levels; 0: the strips as `tile` says.
  std::uint32_t restart_interval = 0;
};

struct BaseFile {
  TiffBytes tiff;
  std::vector<std::byte> level0_pixels;  // height x width x samples, interleaved, native order
};

BaseFile build_base(const BaseOptions& options);

// Pixels of the pattern the base files are made of.
std::vector<std::byte> pattern_pixels(std::uint32_t width, std::uint32_t height, std::uint32_t samples,
                                      DType dtype);

}  // namespace tilestream::test
