// Writes tiled or stripped TIFF / BigTIFF files, one page at a time, tile by tile, in either byte
// order: the engine behind `tilestream synth` and the generator of test files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/dtype.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::tiff {

struct WriterOptions {
  bool big_tiff = false;
  bool big_endian = false;
};

struct PageSpec {
  std::uint64_t width = 0;
  std::uint64_t height = 0;
  std::uint32_t samples = 3;
  DType dtype = DType::uint8;
  bool tiled = true;
  std::uint32_t tile_width = 256;    // tiled only, multiple of 16
  std::uint32_t tile_height = 256;   // tiled only, multiple of 16
  std::uint32_t rows_per_strip = 64; // stripped only
  std::uint16_t compression = codec::compression::none;
  std::uint16_t predictor = 1;
  codec::EncodeOptions encode;
  std::uint32_t subfile_type = 0;    // 1 for reduced-resolution pyramid levels
  std::string description;           // ImageDescription, omitted when empty
  // Photometric is derived: 1 sample min-is-black, 3 RGB (YCbCr for JPEG when encode.jpeg_ycbcr),
  // 4 RGB + ExtraSamples unassociated alpha.
};

// Fills the pixels of one tile or strip: `rows` x `width` x samples, interleaved, native order.
// x0, y0 are the pixel coordinates of its top-left corner. Pixels past the image edge (in edge
// tiles) may be anything; the writer passes the full tile.
using TileFiller = std::function<void(std::uint64_t x0, std::uint64_t y0, std::uint32_t width,
                                      std::uint32_t rows, std::span<std::byte> pixels)>;

class TiffWriter {
 public:
  TiffWriter(std::string path, WriterOptions options);
  ~TiffWriter();
  TiffWriter(const TiffWriter&) = delete;
  TiffWriter& operator=(const TiffWriter&) = delete;

  // Appends one page (an IFD in the main chain). Tiles are encoded on `threads` threads and
  // written in order; memory stays bounded by a few tiles per thread.
  void add_page(const PageSpec& page, const TileFiller& fill, unsigned threads = 1);
  // Writes the IFD chain and renames the file into place. Throws FormatError when a classic TIFF
  // would need offsets past 4 GiB (use big_tiff).
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace tilestream::tiff
