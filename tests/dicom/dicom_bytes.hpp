// DICOM Part 10 files built in memory for the tests of src/dicom: data sets of text, binary numbers
// and sequences (defined or undefined lengths) encoded in explicit or implicit VR little endian,
// native or encapsulated Pixel Data (an empty or filled Basic Offset Table, or an Extended Offset
// Table), a VL Whole Slide Microscopy instance described by a few fields (WsiFile), an image pattern
// cut into its frames, and a ByteSource over several files laid out as io::FileSeries lays them out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::testing::dicom {

using Bytes = std::vector<std::byte>;

inline constexpr const char* explicit_le = "1.2.840.10008.1.2.1";
inline constexpr const char* implicit_le = "1.2.840.10008.1.2";
inline constexpr const char* jpeg_baseline = "1.2.840.10008.1.2.4.50";
inline constexpr const char* jpeg2000_lossless = "1.2.840.10008.1.2.4.90";
inline constexpr const char* jpeg_ls = "1.2.840.10008.1.2.4.80";
inline constexpr const char* big_endian = "1.2.840.10008.1.2.2";
inline constexpr const char* wsi_class = "1.2.840.10008.5.1.4.1.1.77.1.6";

constexpr std::uint32_t tag(std::uint16_t group, std::uint16_t element) {
  return (std::uint32_t{group} << 16) | element;
}

inline void put(Bytes& out, std::uint64_t value, int size) {
  for (int k = 0; k < size; ++k) out.push_back(static_cast<std::byte>((value >> (8 * k)) & 0xFF));
}
inline void put_tag(Bytes& out, std::uint32_t t) {
  put(out, t >> 16, 2);
  put(out, t & 0xFFFF, 2);
}
inline void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

template <typename T>
Bytes binary(std::initializer_list<T> values) {
  Bytes out(values.size() * sizeof(T));
  std::size_t at = 0;
  for (const T v : values) {
    std::memcpy(out.data() + at, &v, sizeof v);  // little endian, as the hosts the tests run on
    at += sizeof v;
  }
  return out;
}

// Lengths of a sequence and of its items: defined, or undefined (ended by their delimiters).
struct Lengths {
  bool sequence_undefined = false;
  bool items_undefined = false;
};

// A data set: elements by tag (encoded in tag order), each a value or a sequence's items.
class DataSet {
 public:
  struct Element {
    std::string vr;
    Bytes value;
    std::vector<DataSet> items;
    Lengths lengths;
  };

  // A text value padded to even length (a UI with a NUL, others with a space).
  DataSet& text(std::uint32_t t, const char* vr, std::string value) {
    if (value.size() % 2 == 1) value.push_back(std::string_view(vr) == "UI" ? '\0' : ' ');
    Bytes bytes(value.size());
    std::memcpy(bytes.data(), value.data(), value.size());
    return raw(t, vr, std::move(bytes));
  }
  DataSet& us(std::uint32_t t, std::uint16_t value) { return raw(t, "US", binary<std::uint16_t>({value})); }
  DataSet& ul(std::uint32_t t, std::uint32_t value) { return raw(t, "UL", binary<std::uint32_t>({value})); }
  DataSet& raw(std::uint32_t t, const char* vr, Bytes value) {
    elements[t] = Element{vr, std::move(value), {}, {}};
    return *this;
  }
  DataSet& sequence(std::uint32_t t, std::vector<DataSet> items, Lengths lengths = {}) {
    elements[t] = Element{"SQ", {}, std::move(items), lengths};
    return *this;
  }
  DataSet& erase(std::uint32_t t) {
    elements.erase(t);
    return *this;
  }

  Bytes encode(bool explicit_vr) const {
    Bytes out;
    for (const auto& [t, e] : elements) {
      const bool sequence = e.vr == "SQ";
      Bytes value = e.value;
      if (sequence) {
        for (const DataSet& item : e.items) {
          const Bytes content = item.encode(explicit_vr);
          put_tag(value, tag(0xFFFE, 0xE000));
          put(value, e.lengths.items_undefined ? 0xFFFFFFFFu : content.size(), 4);
          append(value, content);
          if (e.lengths.items_undefined) {
            put_tag(value, tag(0xFFFE, 0xE00D));
            put(value, 0, 4);
          }
        }
      }
      const bool undefined = sequence && e.lengths.sequence_undefined;
      const std::uint64_t length = undefined ? 0xFFFFFFFFu : value.size();
      put_tag(out, t);
      if (explicit_vr) {
        out.push_back(static_cast<std::byte>(e.vr[0]));
        out.push_back(static_cast<std::byte>(e.vr[1]));
        static const std::string long_vrs = "OB OD OF OL OV OW SQ SV UC UN UR UT UV";
        if (long_vrs.find(e.vr) != std::string::npos) {
          put(out, 0, 2);
          put(out, length, 4);
        } else {
          put(out, length, 2);
        }
      } else {
        put(out, length, 4);
      }
      append(out, value);
      if (undefined) {
        put_tag(out, tag(0xFFFE, 0xE0DD));
        put(out, 0, 4);
      }
    }
    return out;
  }

  std::map<std::uint32_t, Element> elements;
};

enum class OffsetTable { empty_basic, basic, extended };

// Pixel Data: frames back to back (native), or one fragment each after an offset table.
struct PixelData {
  std::vector<Bytes> frames;
  bool encapsulated = false;
  OffsetTable table = OffsetTable::empty_basic;
  // The fragments an offset table lists, as frame starts (empty: every fragment is a frame): fewer
  // entries than frames, or frames of several fragments.
  std::vector<std::size_t> starts;
  const char* vr = "OB";  // of native pixels: OW for 16-bit samples
};

// The item offsets of the fragments `pixels` lists (from the first fragment's item tag).
inline std::vector<std::uint64_t> fragment_offsets(const PixelData& pixels) {
  std::vector<std::uint64_t> offsets;
  std::uint64_t at = 0;
  for (std::size_t k = 0; k < pixels.frames.size(); ++k) {
    if (pixels.starts.empty() ||
        std::find(pixels.starts.begin(), pixels.starts.end(), k) != pixels.starts.end())
      offsets.push_back(at);
    at += 8 + pixels.frames[k].size() + pixels.frames[k].size() % 2;
  }
  return offsets;
}

inline Bytes encode_pixel_data(const PixelData& pixels, bool explicit_vr) {
  Bytes out;
  put_tag(out, tag(0x7FE0, 0x0010));
  if (!pixels.encapsulated) {
    Bytes value;
    for (const Bytes& f : pixels.frames) append(value, f);
    if (value.size() % 2 == 1) value.push_back(std::byte{0});
    if (explicit_vr) {
      out.push_back(static_cast<std::byte>(pixels.vr[0]));
      out.push_back(static_cast<std::byte>(pixels.vr[1]));
      put(out, 0, 2);
    }
    put(out, value.size(), 4);
    append(out, value);
    return out;
  }
  if (explicit_vr) {
    out.push_back(std::byte{'O'});
    out.push_back(std::byte{'B'});
    put(out, 0, 2);
  }
  put(out, 0xFFFFFFFFu, 4);
  put_tag(out, tag(0xFFFE, 0xE000));
  if (pixels.table == OffsetTable::basic) {
    const std::vector<std::uint64_t> offsets = fragment_offsets(pixels);
    put(out, 4 * offsets.size(), 4);
    for (const std::uint64_t o : offsets) put(out, o, 4);
  } else {
    put(out, 0, 4);
  }
  for (const Bytes& f : pixels.frames) {
    put_tag(out, tag(0xFFFE, 0xE000));
    put(out, f.size() + f.size() % 2, 4);
    append(out, f);
    if (f.size() % 2 == 1) out.push_back(std::byte{0});
  }
  put_tag(out, tag(0xFFFE, 0xE0DD));
  put(out, 0, 4);
  return out;
}

// The Extended Offset Table elements of `pixels` (fragments as encode_pixel_data writes them).
inline void add_extended_offset_table(DataSet& set, const PixelData& pixels) {
  Bytes offsets, lengths;
  for (const std::uint64_t at : fragment_offsets(pixels)) put(offsets, at, 8);
  for (std::size_t k = 0; k < pixels.frames.size(); ++k)
    if (pixels.starts.empty() ||
        std::find(pixels.starts.begin(), pixels.starts.end(), k) != pixels.starts.end())
      put(lengths, pixels.frames[k].size(), 8);
  set.raw(tag(0x7FE0, 0x0001), "OV", std::move(offsets));
  set.raw(tag(0x7FE0, 0x0002), "OV", std::move(lengths));
}

// A Part 10 file: preamble, "DICM", the file meta group (explicit VR), the data set in `syntax`'s
// encoding (implicit VR for implicit_le, explicit otherwise) and the Pixel Data, when given.
inline Bytes part10(const std::string& syntax, DataSet set, const PixelData* pixels) {
  const bool explicit_vr = syntax != implicit_le;
  if (pixels != nullptr && pixels->encapsulated && pixels->table == OffsetTable::extended)
    add_extended_offset_table(set, *pixels);
  DataSet meta;
  meta.raw(tag(0x0002, 0x0001), "OB", Bytes{std::byte{0}, std::byte{1}});
  meta.text(tag(0x0002, 0x0002), "UI", wsi_class);
  meta.text(tag(0x0002, 0x0003), "UI", "1.2.826.0.1.3680043.10.9.1");
  meta.text(tag(0x0002, 0x0010), "UI", syntax);
  const Bytes meta_bytes = meta.encode(true);
  Bytes out(128, std::byte{0});
  for (const char c : std::string("DICM")) out.push_back(static_cast<std::byte>(c));
  DataSet group_length;
  group_length.ul(tag(0x0002, 0x0000), static_cast<std::uint32_t>(meta_bytes.size()));
  append(out, group_length.encode(true));
  append(out, meta_bytes);
  append(out, set.encode(explicit_vr));
  if (pixels != nullptr) append(out, encode_pixel_data(*pixels, explicit_vr));
  return out;
}

// A test image: sample s of pixel (x, y) is a pattern value that differs between neighbours, planes
// and files (`seed`); 8 or 16 bits a sample, little endian.
struct Image {
  std::uint32_t width = 0, height = 0, samples = 3, bytes = 1, seed = 0;

  std::uint32_t value(std::uint32_t x, std::uint32_t y, std::uint32_t s) const {
    const std::uint32_t v = x * 7 + y * 31 + s * 89 + seed * 53 + 1;
    return bytes == 1 ? v % 251 + 1 : (v * 997) % 65521 + 1;  // never 0: a missing tile's zeros show
  }
  // The pixels of [x0, x0 + w) x [y0, y0 + h), interleaved, zero outside the image.
  Bytes region(std::uint32_t x0, std::uint32_t y0, std::uint32_t w, std::uint32_t h) const {
    Bytes out;
    for (std::uint32_t y = y0; y < y0 + h; ++y)
      for (std::uint32_t x = x0; x < x0 + w; ++x)
        for (std::uint32_t s = 0; s < samples; ++s)
          put(out, x < width && y < height ? value(x, y, s) : 0, bytes);
    return out;
  }
  // The frame of the tile at (column, row) of tile_w x tile_h pixels, zero-padded past the image's
  // edge as DICOM frames are; planar: the samples' planes one after another.
  Bytes frame(std::uint32_t column, std::uint32_t row, std::uint32_t tile_w, std::uint32_t tile_h,
              bool planar = false) const {
    if (!planar) return region(column * tile_w, row * tile_h, tile_w, tile_h);
    Bytes out;
    for (std::uint32_t s = 0; s < samples; ++s)
      for (std::uint32_t y = row * tile_h; y < (row + 1) * tile_h; ++y)
        for (std::uint32_t x = column * tile_w; x < (column + 1) * tile_w; ++x)
          put(out, x < width && y < height ? value(x, y, s) : 0, bytes);
    return out;
  }
  // Every frame of a TILED_FULL layout, row by row.
  std::vector<Bytes> frames(std::uint32_t tile_w, std::uint32_t tile_h, bool planar = false) const {
    std::vector<Bytes> out;
    for (std::uint32_t row = 0; row * tile_h < height; ++row)
      for (std::uint32_t column = 0; column * tile_w < width; ++column)
        out.push_back(frame(column, row, tile_w, tile_h, planar));
    return out;
  }
};

// A VL Whole Slide Microscopy instance, as the tests vary it.
struct WsiFile {
  std::string syntax = explicit_le;
  std::string series = "1.2.826.0.1.3680043.10.9.7";
  std::string instance = "1.2.826.0.1.3680043.10.9.7.1";
  std::string flavor = "VOLUME";  // ImageType's third value
  std::uint32_t tile_width = 4, tile_height = 4;
  std::uint32_t width = 10, height = 6;  // TotalPixelMatrixColumns / Rows
  std::uint32_t samples = 3, bits = 8, planar = 0, pixel_representation = 0;
  std::string photometric = "RGB";
  std::string organization = "TILED_FULL";
  std::vector<std::pair<std::uint32_t, std::uint32_t>> positions;  // TILED_SPARSE: 1-based column, row
  std::int64_t number_of_frames = -1;                              // -1: the frames given
  std::string concatenation;                                       // ConcatenationUID ("" none)
  std::uint32_t frame_offset = 0, in_concatenation = 1;
  std::string pixel_spacing = "0.00025\\0.0005";  // row\column spacing, mm
  Lengths sequence_lengths;
  PixelData pixels;

  DataSet data_set() const {
    DataSet d;
    d.text(tag(0x0008, 0x0008), "CS", "ORIGINAL\\PRIMARY\\" + flavor + "\\NONE");
    d.text(tag(0x0008, 0x0016), "UI", wsi_class);
    d.text(tag(0x0008, 0x0018), "UI", instance);
    d.text(tag(0x0008, 0x0060), "CS", "SM");
    d.text(tag(0x0020, 0x000E), "UI", series);
    d.text(tag(0x0020, 0x0013), "IS", "1");
    d.text(tag(0x0020, 0x9311), "CS", organization);
    d.us(tag(0x0028, 0x0002), static_cast<std::uint16_t>(samples));
    d.text(tag(0x0028, 0x0004), "CS", photometric);
    if (samples > 1) d.us(tag(0x0028, 0x0006), static_cast<std::uint16_t>(planar));
    const std::size_t frames =
        number_of_frames >= 0 ? static_cast<std::size_t>(number_of_frames) : pixels.frames.size();
    d.text(tag(0x0028, 0x0008), "IS", std::to_string(frames));
    d.us(tag(0x0028, 0x0010), static_cast<std::uint16_t>(tile_height));
    d.us(tag(0x0028, 0x0011), static_cast<std::uint16_t>(tile_width));
    d.us(tag(0x0028, 0x0100), static_cast<std::uint16_t>(bits));
    d.us(tag(0x0028, 0x0101), static_cast<std::uint16_t>(bits));
    d.us(tag(0x0028, 0x0102), static_cast<std::uint16_t>(bits - 1));
    d.us(tag(0x0028, 0x0103), static_cast<std::uint16_t>(pixel_representation));
    d.ul(tag(0x0048, 0x0006), width);
    d.ul(tag(0x0048, 0x0007), height);
    DataSet measures;
    measures.text(tag(0x0028, 0x0030), "DS", pixel_spacing);
    measures.text(tag(0x0018, 0x0050), "DS", "0.001");
    DataSet shared;
    shared.sequence(tag(0x0028, 0x9110), {measures}, sequence_lengths);
    d.sequence(tag(0x5200, 0x9229), {shared}, sequence_lengths);
    if (!positions.empty()) {
      std::vector<DataSet> per_frame;
      for (const auto& [column, row] : positions) {
        DataSet plane;
        plane.text(tag(0x0040, 0x072A), "DS", "0");
        plane.text(tag(0x0040, 0x073A), "DS", "0");
        plane.text(tag(0x0040, 0x074A), "DS", "0");
        plane.raw(tag(0x0048, 0x021E), "SL", binary<std::int32_t>({static_cast<std::int32_t>(column)}));
        plane.raw(tag(0x0048, 0x021F), "SL", binary<std::int32_t>({static_cast<std::int32_t>(row)}));
        DataSet item;
        item.sequence(tag(0x0048, 0x021A), {plane}, sequence_lengths);
        per_frame.push_back(item);
      }
      d.sequence(tag(0x5200, 0x9230), per_frame, sequence_lengths);
    }
    if (!concatenation.empty()) {
      d.text(tag(0x0020, 0x9161), "UI", concatenation);
      d.us(tag(0x0020, 0x9162), static_cast<std::uint16_t>(in_concatenation));
      d.ul(tag(0x0020, 0x9228), frame_offset);
    }
    return d;
  }
  Bytes bytes() const { return part10(syntax, data_set(), &pixels); }
};

// Several files in memory addressed as io::FileSeries addresses files on disk: file k at
// k * FileSeries::part_stride. parts() are the files one by one, for dicom::index_series.
class MemorySeries final : public io::ByteSource {
 public:
  MemorySeries(std::vector<Bytes> files, std::string name = "<series>")
      : bytes_(std::move(files)), name_(std::move(name)) {
    for (std::size_t k = 0; k < bytes_.size(); ++k)
      sources_.push_back(std::make_unique<io::MemorySource>(bytes_[k], "file" + std::to_string(k) + ".dcm"));
  }
  std::vector<const io::ByteSource*> parts() const {
    std::vector<const io::ByteSource*> out;
    for (const auto& s : sources_) out.push_back(s.get());
    return out;
  }
  std::uint64_t size() const override {
    return io::FileSeries::base_of(bytes_.size() - 1) + bytes_.back().size();
  }
  const std::string& name() const override { return name_; }
  void read_exact(std::uint64_t offset, std::span<std::byte> dst) const override {
    const std::size_t k = static_cast<std::size_t>(offset / io::FileSeries::part_stride);
    check<IoError>(k < sources_.size(), name_, ": no file at offset ", offset);
    sources_[k]->read_exact(offset - io::FileSeries::base_of(k), dst);
  }

 private:
  std::vector<Bytes> bytes_;
  std::string name_;
  std::vector<std::unique_ptr<io::MemorySource>> sources_;
};

}  // namespace tilestream::testing::dicom
