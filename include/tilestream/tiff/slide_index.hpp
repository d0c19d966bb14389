// The parsed, immutable index of a TIFF / BigTIFF / Aperio SVS file: its images (IFDs), which of
// them form the pyramid levels, which are associated images, and vendor properties.
// A SlideIndex holds no file handle: it is a value that any number of threads may share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tilestream/codec/photometric.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::tiff {

// One image (IFD) and where its tiles or strips are.
struct ImageInfo {
  std::uint32_t ifd_number = 0;  // position in the file's IFD walk (main chain first, SubIFDs after their parent)
  std::uint64_t ifd_offset = 0;
  std::string ifd_label;         // "IFD 3" or "IFD 0 / SubIFD 1", for messages

  std::uint64_t width = 0;
  std::uint64_t height = 0;
  bool tiled = false;
  std::uint32_t tile_width = 0;   // strips: the image width
  std::uint32_t tile_height = 0;  // strips: RowsPerStrip, clamped to the height
  // The pixels a read returns: the stored samples after `conversion` (a palette image's are 3 x uint8).
  std::uint32_t samples = 1;
  DType dtype = DType::uint8;
  // What the file stores: SamplesPerPixel, BitsPerSample and SampleFormat; decoders work on these.
  // A 1-bit image's stored_dtype is uint8: its rows are unpacked as they are decoded, one uint8 a
  // pixel, 0 for a clear bit and bilevel_max (PixelOptions) for a set one.
  std::uint32_t stored_samples = 1;
  std::uint16_t bits_per_sample = 8;
  DType stored_dtype = DType::uint8;
  std::uint16_t fill_order = 1;     // 1-bit rows: 1 first pixel in the most significant bit, 2 in the least
  std::uint8_t bilevel_max = 1;
  // How decoded stored samples become the pixels (the photometric table of codec/photometric.hpp);
  // the identity when the index was built with stored samples asked for.
  codec::PixelConversion conversion;
  std::uint16_t compression = 1;
  std::uint16_t photometric = 1;
  std::uint16_t predictor = 1;
  std::uint16_t planar_config = 1;  // 1 chunky (interleaved), 2 separate planes
  std::uint32_t subfile_type = 0;   // NewSubfileType bits
  std::uint16_t ycbcr_subsampling[2] = {2, 2};
  bool big_endian = false;          // the file's byte order (16-bit uncompressed samples follow it)
  std::string description;          // ImageDescription
  std::vector<std::byte> jpeg_tables;
  std::vector<std::uint64_t> tile_offsets;      // per tile (or strip), planes one after another
  std::vector<std::uint64_t> tile_byte_counts;
  // NDPI levels, read by JPEG restart interval as OpenSlide and tifffile read them: each tile is one
  // interval of the level's JPEG strip (its bytes up to and with the next restart marker), decoded after
  // this header (the strip's SOI through its scan header, the frame's size set to one interval's). Empty
  // for every other image (codec::TileLayout::jpeg_header).
  std::vector<std::byte> jpeg_header;
  // Levels that OpenSlide makes of a stored NDPI level by libjpeg's DCT scaling: its tiles decoded at
  // 1/jpeg_scale_denom (2, 4 or 8); sizes here are the scaled ones. 1 for images as stored.
  std::uint32_t jpeg_scale_denom = 1;
  // Why this image cannot be read (an unsupported compression, bit depth or sample format), with
  // file and IFD; empty when it can. The index still lists such images.
  std::string unsupported_reason;
  // The reason is damage found while indexing (a DICOM level's missing frame): reads throw FormatError,
  // not UnsupportedError, and the slide's other images stay readable.
  bool malformed = false;

  std::uint32_t tiles_across() const { return static_cast<std::uint32_t>((width + tile_width - 1) / tile_width); }
  std::uint32_t tiles_down() const { return static_cast<std::uint32_t>((height + tile_height - 1) / tile_height); }
  std::uint32_t planes() const { return planar_config == 2 ? stored_samples : 1; }
  std::uint32_t samples_per_chunk() const { return planar_config == 2 ? 1 : stored_samples; }
  std::size_t tile_number(std::uint32_t tx, std::uint32_t ty, std::uint32_t plane = 0) const {
    return (static_cast<std::size_t>(plane) * tiles_down() + ty) * tiles_across() + tx;
  }
  // Rows actually stored in tile row `ty`: tile_height, except for the last strip of a stripped image.
  std::uint32_t stored_rows(std::uint32_t ty) const;
  bool reduced_resolution() const { return (subfile_type & 1u) != 0; }
  // What the image stores, for the photometric table (codec::plan_conversion); ink set and colour map
  // are the caller's to add.
  codec::StoredPixels stored_pixels() const;
  // Throws, when unsupported_reason is set, the error it stands for (FormatError for a malformed
  // image, else UnsupportedError) with `context` after the reason.
  void check_readable(const std::string& context) const;
};

struct Level {
  ImageInfo image;
  double downsample = 1.0;  // level 0 width / this level's width (height ratio averaged in)
};

struct AssociatedImage {
  std::string name;  // "thumbnail", "label", "macro"
  ImageInfo image;
};

struct SlideIndex {
  std::string path;
  std::uint64_t file_size = 0;
  std::string format = "TIFF";           // "TIFF", "BigTIFF" or "DICOM" (a series of files)
  std::size_t file_count = 1;
  bool big_tiff = false;
  bool big_endian = false;
  std::string vendor;                    // "aperio", "hamamatsu", "ome", "generic-tiff"
  std::vector<ImageInfo> images;         // every IFD we could index, in walk order
  std::vector<Level> levels;             // largest first
  std::vector<AssociatedImage> associated;
  std::map<std::string, std::string> properties;  // "tiff.ImageDescription", "aperio.MPP", "openslide.mpp-x"...
  bool stored_samples = false;  // built with PixelOptions::stored_samples: no photometric conversion
};

// What reads return, fixed when the index is built.
struct PixelOptions {
  // Pixels are the stored samples (palette indices, inverted grey, CMYK...), not converted through
  // the photometric table; every photometric is then readable.
  bool stored_samples = false;
  // What a set bit of a 1-bit image reads as: 1 (0/1 masks, tifffile's values) or 255 (0/255 grey).
  // A 1-bit MinIsWhite image is inverted like any MinIsWhite one (white reads as 1 or 255, as with
  // MinIsBlack); with stored_samples its bits read as stored (tifffile's values).
  std::uint8_t bilevel_max = 1;
};

// Caps that keep a hostile file from making us allocate or loop without bound.
struct ParseLimits {
  std::uint32_t max_ifds = 4096;
  std::uint64_t max_entries_per_ifd = 4096;
  std::uint64_t max_tiles_per_image = std::uint64_t{1} << 26;
  std::uint64_t max_tile_bytes = std::uint64_t{1} << 30;   // one decoded tile or strip
  std::uint64_t max_image_pixels = std::uint64_t{1} << 40; // 1 Tpx; larger dims are nonsense
  std::uint64_t max_tag_bytes = std::uint64_t{1} << 28;    // one tag's array (offsets, tables)
};

// Shared by every format that builds an index (TIFF vendors, DICOM):
// Sets the levels, sorted largest first, with OpenSlide's downsamples.
void set_levels(SlideIndex& index, std::vector<ImageInfo> levels);
// The properties every format gets after classification: openslide.level-count, openslide.level[k].*,
// openslide.associated.*.width / height.
void add_layout_properties(SlideIndex& index);
// A number as OpenSlide prints it (g_ascii_dtostr: "%.17g" in the C locale).
std::string openslide_double(double value);
// A property text read as OpenSlide reads numbers: commas taken for decimal points, the whole
// text a number, no overflow; nullopt otherwise.
std::optional<double> parse_openslide_double(const std::string& text);

// Parses the file behind `source`. Throws FormatError naming the IFD, tag and offset on
// inconsistent files, UnsupportedError for valid files we do not read.
SlideIndex parse_slide_index(const io::ByteSource& source, const ParseLimits& limits = {},
                             const PixelOptions& pixels = {});

}  // namespace tilestream::tiff
