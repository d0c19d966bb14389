// JPEG marker reading (frame header, Adobe transform) and the joining of abbreviated streams with
// their tables; see the header.
#include "tilestream/codec/jpeg_stream.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

constexpr std::uint8_t marker_sos = 0xDA;
constexpr std::uint8_t marker_eoi = 0xD9;
constexpr std::uint8_t marker_soi = 0xD8;
constexpr std::uint8_t marker_app14 = 0xEE;

std::uint8_t byte_at(std::span<const std::byte> s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

std::uint16_t be16(std::span<const std::byte> s, std::size_t i) {
  return static_cast<std::uint16_t>(byte_at(s, i) << 8 | byte_at(s, i + 1));
}

// SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range.
// "0xFFDA": a marker as JPEG documents write it.
std::string marker_name(std::uint8_t m) {
  constexpr char digits[] = "0123456789ABCDEF";
  return std::string("0xFF") + digits[m >> 4] + digits[m & 0x0F];
}

bool is_sof(std::uint8_t m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

// Markers that stand alone, without a length: TEM and RST0..7 (SOI and EOI are handled apart).
bool stands_alone(std::uint8_t m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD7); }

constexpr std::uint8_t marker_dri = 0xDD;

// Reads the segments of one stream into `frame`; returns when it meets a scan (true) or EOI or the
// end (false). `what` names the stream in errors. With `header`, also notes where the frame header
// is, the restart interval, and the scan header's end and components.
bool read_segments(std::span<const std::byte> s, const char* what, JpegFrame& frame,
                   JpegHeader* header = nullptr) {
  check<CodecError>(s.size() >= 2 && byte_at(s, 0) == 0xFF && byte_at(s, 1) == marker_soi, what,
                    " does not start with a JPEG SOI marker");
  std::size_t i = 2;
  while (i < s.size()) {
    check<CodecError>(byte_at(s, i) == 0xFF, what, ": expected a marker at byte ", i, ", found byte ",
                      unsigned{byte_at(s, i)});
    while (i < s.size() && byte_at(s, i) == 0xFF) ++i;  // fill bytes
    check<CodecError>(i < s.size(), what, ": ends inside a marker");
    const std::uint8_t m = byte_at(s, i++);
    if (m == marker_eoi) return false;
    if (stands_alone(m)) continue;
    check<CodecError>(i + 2 <= s.size(), what, ": marker ", marker_name(m), " at byte ", i - 2,
                      " has no length");
    const std::size_t length = be16(s, i);
    check<CodecError>(length >= 2 && i + length <= s.size(), what, ": segment ", marker_name(m), " at byte ", i - 2, " of ", length, " bytes runs past the end (", s.size(),
                      " bytes)");
    const std::span<const std::byte> payload = s.subspan(i + 2, length - 2);
    if (m == marker_sos) {
      if (header != nullptr) {
        header->length = i + length;
        header->scan_components = payload.empty() ? 0 : byte_at(payload, 0);
      }
      return true;
    }
    if (header != nullptr && m == marker_dri && payload.size() >= 2)
      header->restart_interval = be16(payload, 0);
    if (is_sof(m)) {
      if (header != nullptr) header->frame_at = i - 2;
      check<CodecError>(payload.size() >= 6, what, ": frame header of ", payload.size(), " bytes is too short");
      frame.sof = m;
      frame.precision = byte_at(payload, 0);
      frame.height = be16(payload, 1);
      frame.width = be16(payload, 3);
      frame.components = byte_at(payload, 5);
      check<CodecError>(payload.size() >= 6 + std::size_t{frame.components} * 3, what, ": frame header lists ",
                        unsigned{frame.components}, " components in ", payload.size(), " bytes");
      for (std::size_t c = 0; c < std::min<std::size_t>(frame.components, 4); ++c) {
        const std::uint8_t factors = byte_at(payload, 6 + c * 3 + 1);
        frame.h[c] = factors >> 4;
        frame.v[c] = factors & 0x0F;
      }
    } else if (m == marker_app14 && payload.size() >= 12 && std::memcmp(payload.data(), "Adobe", 5) == 0) {
      frame.adobe_transform = byte_at(payload, 11);
    }
    i += length;
  }
  return false;
}

}  // namespace

std::string JpegFrame::subsampling() const {
  if (components == 1) return "gray";
  if (components != 3 || h[1] != 1 || v[1] != 1 || h[2] != 1 || v[2] != 1) return "other";
  if (h[0] == 1 && v[0] == 1) return "4:4:4";
  if (h[0] == 2 && v[0] == 1) return "4:2:2";
  if (h[0] == 2 && v[0] == 2) return "4:2:0";
  if (h[0] == 1 && v[0] == 2) return "4:4:0";
  if (h[0] == 4 && v[0] == 1) return "4:1:1";
  if (h[0] == 4 && v[0] == 2) return "4:1:0";
  return "other";
}

JpegFrame read_jpeg_frame(std::span<const std::byte> tables, std::span<const std::byte> data) {
  JpegFrame frame;
  if (!tables.empty()) {
    const bool scan = read_segments(tables, "JPEGTables", frame);
    check<CodecError>(!scan, "JPEGTables holds a scan: it is not a tables-only stream");
  }
  const bool scan = read_segments(data, "JPEG tile", frame);
  check<CodecError>(scan, "JPEG tile has no scan (SOS)");
  check<CodecError>(frame.sof != 0, "JPEG tile has no frame header (SOF) before its scan");
  return frame;
}

JpegHeader read_jpeg_header(std::span<const std::byte> data) {
  JpegHeader header;
  const bool scan = read_segments(data, "JPEG header", header.frame, &header);
  check<CodecError>(scan, "JPEG header has no scan (SOS) in its first ", data.size(), " bytes");
  check<CodecError>(header.frame.sof != 0, "JPEG header has no frame header (SOF) before its scan");
  return header;
}

void set_jpeg_frame_size(std::span<std::byte> bytes, const JpegHeader& header, std::uint16_t width,
                         std::uint16_t height) {
  // SOF: marker (2), length (2), precision (1), height (2), width (2).
  check<UsageError>(header.frame_at + 9 <= bytes.size(), "set_jpeg_frame_size: a frame header at byte ",
                    header.frame_at, " of ", bytes.size());
  const std::size_t at = header.frame_at + 5;
  bytes[at] = static_cast<std::byte>(height >> 8);
  bytes[at + 1] = static_cast<std::byte>(height & 0xFF);
  bytes[at + 2] = static_cast<std::byte>(width >> 8);
  bytes[at + 3] = static_cast<std::byte>(width & 0xFF);
}

std::string gpu_jpeg_unsupported_reason(const JpegFrame& frame, std::uint16_t photometric, std::uint32_t samples,
                                        std::uint32_t width, std::uint32_t rows) {
  switch (frame.sof) {
    case 0xC0:
    case 0xC1: break;
    case 0xC2: return "progressive JPEG";
    case 0xC3: return "lossless JPEG";
    case 0xC9:
    case 0xCA:
    case 0xCB: return "arithmetic-coded JPEG";
    default: return concat("JPEG frame type ", marker_name(frame.sof));
  }
  if (frame.precision != 8) return concat(unsigned{frame.precision}, "-bit samples");
  if (frame.width != width || frame.height != rows) {
    return concat("a JPEG frame of ", frame.width, " x ", frame.height, " in a ", width, " x ", rows, " tile");
  }
  if (frame.components != samples) return concat(unsigned{frame.components}, " components for ", samples, " samples");
  if (samples == 1) return {};
  if (samples != 3) return concat(samples, " samples per pixel");
  const std::string sampling = frame.subsampling();
  if (photometric == photometric::ycbcr) {
    if (sampling == "4:4:4" || sampling == "4:2:2" || sampling == "4:2:0" || sampling == "4:4:0") return {};
    return concat("YCbCr sampled ", sampling == "other" ? "unlike the JFIF forms" : sampling);
  }
  if (photometric == photometric::rgb) {
    if (sampling == "4:4:4") return {};
    return "subsampled RGB JPEG";
  }
  return concat("photometric ", photometric, " JPEG");
}

std::string jpeg_scan_problem(std::span<const std::byte> data) {
  // The first scan's header: after the SOS marker and its length.
  std::size_t i = 2;
  while (true) {
    if (i + 4 > data.size()) return "no scan";
    if (byte_at(data, i) != 0xFF) return concat("no marker at byte ", i);
    while (i + 1 < data.size() && byte_at(data, i + 1) == 0xFF) ++i;
    const std::uint8_t m = byte_at(data, i + 1);
    if (stands_alone(m)) {
      i += 2;
      continue;
    }
    if (i + 4 > data.size()) return "no scan";
    const std::size_t length = be16(data, i + 2);
    i += 2 + length;
    if (m == marker_sos) break;
  }
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  while (i < data.size()) {
    const void* found = std::memchr(bytes + i, 0xFF, data.size() - i);
    if (found == nullptr) break;
    i = static_cast<std::size_t>(static_cast<const unsigned char*>(found) - bytes);
    if (i + 1 >= data.size()) break;
    const std::uint8_t m = byte_at(data, i + 1);
    if (m == 0x00 || m == 0xFF || (m >= 0xD0 && m <= 0xD7)) {  // stuffed byte, fill, restart marker
      i += m == 0xFF ? 1 : 2;
      continue;
    }
    if (m != marker_eoi) return concat("several scans (marker ", marker_name(m), " at byte ", i, ")");
    // Up to a few bytes of padding may follow EOI; more is data the decoder never reached.
    if (data.size() - (i + 2) > 16) return concat("EOI at byte ", i, " of ", data.size(), ": the scan is cut short");
    return {};
  }
  return concat("no EOI in ", data.size(), " bytes: the stream is cut short");
}

std::size_t joined_jpeg_size(std::span<const std::byte> tables, std::span<const std::byte> data) {
  if (tables.empty()) return data.size();
  return tables.size() - 2 + (data.size() >= 2 ? data.size() - 2 : 0);
}

void join_jpeg_stream(std::span<const std::byte> tables, std::span<const std::byte> data, std::span<std::byte> out) {
  check<UsageError>(out.size() == joined_jpeg_size(tables, data), "join_jpeg_stream: output of ", out.size(),
                    " bytes for ", joined_jpeg_size(tables, data));
  if (tables.empty()) {
    std::copy(data.begin(), data.end(), out.begin());
    return;
  }
  const std::size_t t = tables.size();
  check<CodecError>(t >= 4 && byte_at(tables, t - 2) == 0xFF && byte_at(tables, t - 1) == marker_eoi,
                    "JPEGTables does not end with an EOI marker");
  check<CodecError>(data.size() >= 2 && byte_at(data, 0) == 0xFF && byte_at(data, 1) == marker_soi,
                    "JPEG tile does not start with a JPEG SOI marker");
  std::copy(tables.begin(), tables.end() - 2, out.begin());
  std::copy(data.begin() + 2, data.end(), out.begin() + static_cast<std::ptrdiff_t>(t - 2));
}

}  // namespace tilestream::codec
