// What a JPEG stream is, read from its markers without decoding it, and the joining of a TIFF tile's
// abbreviated stream with its JPEGTables into one stream that any decoder reads on its own. The GPU
// decode stage (codec/nvjpeg.hpp) uses both: it sends a tile to nvJPEG only when its frame is one that
// nvJPEG decodes like libjpeg (baseline or extended Huffman, 8-bit, sampling nvJPEG takes), and
// hands nvJPEG the joined stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace tilestream::codec {

// The frame header (SOFn) of a stream, with the Adobe APP14 colour transform when there is one.
struct JpegFrame {
  std::uint8_t sof = 0;        // the SOF marker's second byte: 0xC0 baseline, 0xC1 extended, 0xC2 progressive...
  std::uint8_t precision = 0;  // bits per sample
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  std::uint8_t components = 0;
  std::array<std::uint8_t, 4> h{};  // horizontal sampling factor per component (the first four)
  std::array<std::uint8_t, 4> v{};  // vertical sampling factor per component
  int adobe_transform = -1;         // APP14 "Adobe" transform flag, -1 without that marker

  // "4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1", "4:1:0", "gray" or "other" (chroma sampled unlike
  // the JFIF forms, or more than 3 components).
  std::string subsampling() const;
};

// Reads the markers of `tables` (a TIFF JPEGTables stream; may be empty) and then of `data` up to the
// first scan. Throws CodecError naming the problem (no SOI, a segment running past the end, no
// frame header before the scan).
JpegFrame read_jpeg_frame(std::span<const std::byte> tables, std::span<const std::byte> data);

// A whole stream's header, SOI up to and with the first scan's header: what a decoder reads before the
// entropy-coded data. NDPI levels are single JPEG strips whose restart intervals are read as tiles, each
// decoded after this header with the frame's size set to the interval's (set_jpeg_frame_size).
struct JpegHeader {
  JpegFrame frame;
  std::size_t length = 0;              // bytes from SOI through the scan header: where the scan's data begin
  std::size_t frame_at = 0;            // offset of the SOF marker (its 0xFF byte)
  std::uint16_t restart_interval = 0;  // MCUs between restart markers (DRI), 0 without
  std::uint8_t scan_components = 0;    // components in the first scan (an MCU is 8x8 with one)
};

// Reads the markers of `data` up to and with the first scan's header. Throws CodecError as
// read_jpeg_frame does, and where the scan header runs past `data`.
JpegHeader read_jpeg_header(std::span<const std::byte> data);

// Writes `width` x `height` into the frame header at header.frame_at of `bytes` (a copy of the header).
void set_jpeg_frame_size(std::span<std::byte> bytes, const JpegHeader& header, std::uint16_t width,
                         std::uint16_t height);

// Why a GPU JPEG decoder (nvJPEG's batched decode) cannot decode this tile as the CPU decoder would,
// or empty when it can: the frame must be baseline or extended sequential Huffman, 8-bit, exactly
// `width` x `rows` (the stored tile), with `samples` components; three-component frames must be
// YCbCr (TIFF photometric 6) sampled 4:4:4, 4:2:2, 4:2:0 or 4:4:0, or RGB (photometric 2) not
// subsampled. The reason names what stands in the way ("progressive", "12-bit samples", ...).
std::string gpu_jpeg_unsupported_reason(const JpegFrame& frame, std::uint16_t photometric, std::uint32_t samples,
                                        std::uint32_t width, std::uint32_t rows);

// Why the entropy-coded data of `data` (a tile's stream, read_jpeg_frame's `data`) is not one whole
// scan ending with EOI, or empty when it is: a stream cut short (no EOI), an EOI with more data after
// it, or a second scan or table segment after the first scan ("several scans"). Decoders that do not
// check their input (nvJPEG's hardware decoder decodes a cut stream without an error) get only
// streams that pass; the others go to libjpeg, which reports a damaged stream with the tile's name.
// One pass over the bytes (memchr for 0xFF).
std::string jpeg_scan_problem(std::span<const std::byte> data);

// Bytes of the stream joining `tables` and `data` (data.size() when tables is empty).
std::size_t joined_jpeg_size(std::span<const std::byte> tables, std::span<const std::byte> data);

// Writes into `out` (joined_jpeg_size bytes) the interchange stream made of `tables` without its
// EOI followed by `data` without its SOI: the tables then the tile's own segments and scan, which
// decoders read as if the encoder had written them together. CodecError when `tables` does not end
// with EOI or `data` does not start with SOI.
void join_jpeg_stream(std::span<const std::byte> tables, std::span<const std::byte> data, std::span<std::byte> out);

}  // namespace tilestream::codec
