// Hand layout of TIFF files for tests: header, then data and IFDs (in either order), every
// out-of-line value placed right after its IFD's entry table.
#include "support/tiff_builder.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/jpeg_stream.hpp"

namespace tilestream::test {
namespace {

std::uint32_t unit_size(std::uint16_t type) {
  switch (type) {
    case 1:
    case 2:
    case 6:
    case 7:
      return 1;
    case 3:
    case 8:
      return 2;
    case 4:
    case 9:
    case 11:
    case 13:
      return 4;
    default:
      return 8;
  }
}

bool is_raw_type(std::uint16_t type) {
  return type == field::byte || type == field::ascii || type == field::undefined;
}

void store(std::byte* dst, std::uint64_t value, unsigned size, bool big_endian) {
  for (unsigned i = 0; i < size; ++i) {
    const unsigned shift = 8 * (big_endian ? size - 1 - i : i);
    dst[i] = static_cast<std::byte>((value >> shift) & 0xff);
  }
}

// The encoded value bytes of a tag and its count.
std::vector<std::byte> encode_values(const TagValue& tag, bool big_endian, std::uint64_t& count) {
  if (is_raw_type(tag.type)) {
    count = tag.raw.size();
    return tag.raw;
  }
  const unsigned unit = unit_size(tag.type);
  const unsigned per_value = tag.type == field::rational ? 4 : unit;  // RATIONAL: two LONGs
  std::vector<std::byte> out(tag.values.size() * per_value);
  for (std::size_t i = 0; i < tag.values.size(); ++i)
    store(out.data() + i * per_value, tag.values[i], per_value, big_endian);
  count = tag.type == field::rational ? tag.values.size() / 2 : tag.values.size();
  return out;
}

std::uint64_t align(std::uint64_t pos, std::uint64_t to) { return (pos + to - 1) / to * to; }

struct Flat {
  const IfdSpec* spec;
  std::vector<std::size_t> children;
  std::size_t next = SIZE_MAX;  // flat index of the next main-chain IFD
  std::vector<TagValue> tags;   // full list, sorted, filled in pass 2
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

}  // namespace

TiffBytes build_tiff(const FileSpec& spec) {
  const bool big = spec.big_tiff;
  const bool ndpi = spec.ndpi && !big;
  const unsigned count_size = big ? 8 : 2, entry_size = big ? 20 : 12, offset_size = big ? 8 : 4;
  const unsigned next_size = big || ndpi ? 8 : 4;
  // Values of more bytes than the entry's field (NDPI: and every ASCII) are stored out of line.
  const auto out_of_line = [&](const TagValue& t, std::size_t bytes) {
    return bytes > offset_size || (ndpi && t.type == field::ascii);
  };
  const std::uint16_t offset_type = big ? field::long8 : field::long_;

  std::vector<Flat> flat;
  std::size_t previous_main = SIZE_MAX;
  for (const IfdSpec& main : spec.ifds) {
    const std::size_t at = flat.size();
    if (previous_main != SIZE_MAX) flat[previous_main].next = at;
    previous_main = at;
    flat.push_back({&main, {}, SIZE_MAX, {}, 0, 0});
    for (const IfdSpec& sub : main.sub_ifds) {
      flat[at].children.push_back(flat.size());
      flat.push_back({&sub, {}, SIZE_MAX, {}, 0, 0});
    }
  }

  TiffBytes out;
  out.big_tiff = big;
  out.big_endian = spec.big_endian;
  out.ndpi = ndpi;
  out.ifd_offsets.resize(flat.size());
  out.chunk_offsets.resize(flat.size());
  out.chunk_sizes.resize(flat.size());
  out.entry_positions.resize(flat.size());
  out.next_positions.resize(flat.size());

  // Pass 1: every IFD's tag list with placeholder offsets, hence its size.
  for (std::size_t i = 0; i < flat.size(); ++i) {
    Flat& f = flat[i];
    f.tags = f.spec->tags;
    const std::size_t chunks = f.spec->chunks.size();
    if (chunks > 0) {
      f.tags.push_back({f.spec->tiled ? std::uint16_t{324} : std::uint16_t{273},
                        offset_type,
                        std::vector<std::uint64_t>(chunks, 0),
                        {}});
      std::vector<std::uint64_t> sizes;
      for (const auto& c : f.spec->chunks) sizes.push_back(c.size());
      f.tags.push_back({f.spec->tiled ? std::uint16_t{325} : std::uint16_t{279}, offset_type, sizes, {}});
      out.chunk_sizes[i] = sizes;
    }
    if (!f.children.empty()) {
      f.tags.push_back(
          {330, big ? field::ifd8 : field::ifd, std::vector<std::uint64_t>(f.children.size(), 0), {}});
    }
    std::sort(f.tags.begin(), f.tags.end(),
              [](const TagValue& a, const TagValue& b) { return a.code < b.code; });
    f.size = count_size + f.tags.size() * (entry_size + (ndpi ? 4 : 0)) + next_size;
    for (const TagValue& t : f.tags) {
      std::uint64_t count = 0;
      const std::size_t bytes = encode_values(t, spec.big_endian, count).size();
      if (out_of_line(t, bytes)) f.size = align(f.size, 2) + bytes;
    }
  }

  // Pass 2: positions.
  std::uint64_t pos = big || ndpi ? 16 : 8;
  auto place_data = [&] {
    for (std::size_t i = 0; i < flat.size(); ++i) {
      for (const auto& c : flat[i].spec->chunks) {
        out.chunk_offsets[i].push_back(pos);
        pos = align(pos + c.size(), 2);
      }
    }
  };
  auto place_ifds = [&] {
    for (Flat& f : flat) {
      pos = align(pos, big ? 8 : 2);
      f.offset = pos;
      pos += f.size;
    }
  };
  if (spec.data_after_ifds) {
    place_ifds();
    place_data();
  } else {
    place_data();
    place_ifds();
  }
  out.bytes.assign(pos, std::byte{0});

  // Header.
  out.bytes[0] = out.bytes[1] = static_cast<std::byte>(spec.big_endian ? 'M' : 'I');
  out.put_uint(2, big ? 43 : 42, 2);
  if (big) {
    out.put_uint(4, 8, 2);
    out.put_uint(6, 0, 2);
  }
  out.set_first_ifd(flat.empty() ? 0 : flat.front().offset);

  // Data and IFDs.
  for (std::size_t i = 0; i < flat.size(); ++i) {
    Flat& f = flat[i];
    out.ifd_offsets[i] = f.offset;
    for (std::size_t k = 0; k < f.spec->chunks.size(); ++k)
      out.put_bytes(out.chunk_offsets[i][k], f.spec->chunks[k]);
    for (TagValue& t : f.tags) {
      if (t.code == 324 || t.code == 273) t.values = out.chunk_offsets[i];
      if (t.code == 330) {
        t.values.clear();
        for (std::size_t c : f.children) t.values.push_back(flat[c].offset);
      }
    }
    out.put_uint(f.offset, f.tags.size(), count_size);
    std::uint64_t extra = f.offset + count_size + f.tags.size() * (entry_size + (ndpi ? 4 : 0)) + next_size;
    for (std::size_t e = 0; e < f.tags.size(); ++e) {
      const TagValue& t = f.tags[e];
      const std::uint64_t at = f.offset + count_size + e * entry_size;
      out.entry_positions[i][t.code] = at;
      std::uint64_t count = 0;
      const std::vector<std::byte> value = encode_values(t, spec.big_endian, count);
      out.put_uint(at, t.code, 2);
      out.put_uint(at + 2, t.type, 2);
      out.put_uint(at + 4, count, big ? 8 : 4);
      const std::uint64_t field_at = at + (big ? 12 : 8);
      if (!out_of_line(t, value.size())) {
        out.put_bytes(field_at, value);
      } else {
        extra = align(extra, 2);
        out.put_bytes(extra, value);
        out.put_uint(field_at, extra, offset_size);
        extra += value.size();
      }
    }
    out.next_positions[i] = f.offset + count_size + f.tags.size() * entry_size;
    out.set_next_ifd(i, f.next == SIZE_MAX ? 0 : flat[f.next].offset);
  }
  return out;
}

std::uint64_t TiffBytes::entry_position(std::size_t ifd, std::uint16_t tag) const {
  const auto it = entry_positions.at(ifd).find(tag);
  if (it == entry_positions.at(ifd).end()) throw std::logic_error("test file has no such tag");
  return it->second;
}

std::uint64_t TiffBytes::next_pointer_position(std::size_t ifd) const { return next_positions.at(ifd); }

void TiffBytes::put_uint(std::uint64_t offset, std::uint64_t value, unsigned size) {
  if (offset + size > bytes.size()) bytes.resize(offset + size);
  store(bytes.data() + offset, value, size, big_endian);
}

void TiffBytes::put_bytes(std::uint64_t offset, const std::vector<std::byte>& data) {
  if (offset + data.size() > bytes.size()) bytes.resize(offset + data.size());
  if (!data.empty()) std::memcpy(bytes.data() + offset, data.data(), data.size());
}

void TiffBytes::set_tag(std::size_t ifd, std::uint16_t tag, std::uint16_t type,
                        const std::vector<std::uint64_t>& values) {
  TagValue t{tag, type, values, {}};
  std::uint64_t count = 0;
  const std::vector<std::byte> encoded = encode_values(t, big_endian, count);
  set_tag_raw(ifd, tag, type, encoded);
  set_tag_count(ifd, tag, count);
}

void TiffBytes::set_tag_raw(std::size_t ifd, std::uint16_t tag, std::uint16_t type,
                            const std::vector<std::byte>& raw) {
  const std::uint64_t at = entry_position(ifd, tag);
  const unsigned offset_size = big_tiff ? 8 : 4;
  put_uint(at + 2, type, 2);
  put_uint(at + 4, raw.size() / unit_size(type), big_tiff ? 8 : 4);
  const std::uint64_t field_at = at + (big_tiff ? 12 : 8);
  if (ndpi) set_ndpi_high_bits(ifd, tag, 0);
  if (raw.size() <= offset_size && !(ndpi && type == field::ascii)) {
    put_uint(field_at, 0, offset_size);
    put_bytes(field_at, raw);
  } else {
    const std::uint64_t end = align(bytes.size(), 2);
    put_bytes(end, raw);
    put_uint(field_at, end, offset_size);
  }
}

void TiffBytes::set_tag_count(std::size_t ifd, std::uint16_t tag, std::uint64_t count) {
  put_uint(entry_position(ifd, tag) + 4, count, big_tiff ? 8 : 4);
}

void TiffBytes::remove_tag(std::size_t ifd, std::uint16_t tag) {
  put_uint(entry_position(ifd, tag), 65000, 2);
}

void TiffBytes::set_next_ifd(std::size_t ifd, std::uint64_t offset) {
  put_uint(next_pointer_position(ifd), offset, big_tiff || ndpi ? 8 : 4);
}

void TiffBytes::set_first_ifd(std::uint64_t offset) {
  put_uint(big_tiff ? 8 : 4, offset, big_tiff || ndpi ? 8 : 4);
}

void TiffBytes::set_ndpi_high_bits(std::size_t ifd, std::uint16_t tag, std::uint32_t high) {
  if (!ndpi) throw std::logic_error("set_ndpi_high_bits on a file without the NDPI layout");
  // The high words follow the 8-byte next-IFD offset, in entry order.
  const std::uint64_t table = ifd_offsets.at(ifd) + 2;
  const std::uint64_t index = (entry_position(ifd, tag) - table) / 12;
  put_uint(next_pointer_position(ifd) + 8 + index * 4, high, 4);
}

std::vector<std::byte> pattern_pixels(std::uint32_t width, std::uint32_t height, std::uint32_t samples,
                                      DType dtype) {
  const std::size_t bps = bytes_per_sample(dtype);
  std::vector<std::byte> out(std::size_t{width} * height * samples * bps);
  std::size_t i = 0;
  for (std::uint32_t y = 0; y < height; ++y)
    for (std::uint32_t x = 0; x < width; ++x)
      for (std::uint32_t s = 0; s < samples; ++s) {
        const unsigned v = (x * 5 + y * 3 + s * 60) % 256;
        const unsigned value = bps == 1 ? v : v * 257 + (x & 7);
        for (std::size_t b = 0; b < bps; ++b) out[i++] = static_cast<std::byte>(value >> (8 * b));
      }
  return out;
}

namespace {

// NDPI's JPEG strip of `pixels`: each restart interval (interval x 8 pixels) encoded alone and joined
// with its tables; the scans follow the first one's header (its frame the whole image's, a DRI segment
// added) with RST0-7 markers between them, as an encoder with restart markers writes them (each
// interval's DC prediction starts from 0 either way). Returns the strip and each interval's start in it.
std::pair<std::vector<std::byte>, std::vector<std::uint64_t>> ndpi_jpeg_strip(
    const std::vector<std::byte>& pixels, std::uint32_t width, std::uint32_t height, std::uint32_t samples,
    std::uint32_t interval, const codec::EncodeOptions& encode) {
  if (interval % 8 != 0 || ((width + 7) / 8) % (interval / 8) != 0 || width > 65535 || height > 65535)
    throw std::logic_error("ndpi_jpeg_strip: the interval must be whole MCUs dividing the padded row");
  const std::vector<std::byte> tables = codec::make_jpeg_tables(samples, encode);
  codec::TileLayout layout;
  layout.width = interval;
  layout.rows = 8;
  layout.samples = samples;
  layout.photometric = samples == 3 ? 6 : 1;
  std::vector<std::byte> strip;
  std::vector<std::uint64_t> starts;
  const std::uint32_t across = (width + interval - 1) / interval, down = (height + 7) / 8;
  for (std::uint32_t ty = 0; ty < down; ++ty) {
    for (std::uint32_t tx = 0; tx < across; ++tx) {
      std::vector<std::byte> tile(layout.decoded_bytes(), std::byte{0});
      for (std::uint32_t r = 0; r < 8 && ty * 8 + r < height; ++r) {
        const std::uint32_t x0 = tx * interval, n = std::min(interval, width - x0);
        std::memcpy(tile.data() + std::size_t{r} * interval * samples,
                    pixels.data() + (std::size_t{ty * 8 + r} * width + x0) * samples,
                    std::size_t{n} * samples);
      }
      const std::vector<std::byte> abbreviated =
          codec::encode_tile(codec::compression::jpeg, tile, layout, encode);
      std::vector<std::byte> full(codec::joined_jpeg_size(tables, abbreviated));
      codec::join_jpeg_stream(tables, abbreviated, full);
      const codec::JpegHeader header = codec::read_jpeg_header(full);
      if (strip.empty()) {
        strip.assign(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(header.length));
        codec::set_jpeg_frame_size(strip, header, static_cast<std::uint16_t>(width),
                                   static_cast<std::uint16_t>(height));
        const std::size_t sos = header.length - (8 + 2 * std::size_t{header.scan_components});
        const std::uint32_t mcus = interval / 8;
        const std::byte dri[] = {std::byte{0xFF},
                                 std::byte{0xDD},
                                 std::byte{0},
                                 std::byte{4},
                                 static_cast<std::byte>(mcus >> 8),
                                 static_cast<std::byte>(mcus & 0xFF)};
        strip.insert(strip.begin() + static_cast<std::ptrdiff_t>(sos), std::begin(dri), std::end(dri));
      } else {
        const std::uint8_t k = static_cast<std::uint8_t>((starts.size() - 1) % 8);
        strip.push_back(std::byte{0xFF});
        strip.push_back(static_cast<std::byte>(0xD0 + k));
      }
      starts.push_back(strip.size());
      strip.insert(strip.end(), full.begin() + static_cast<std::ptrdiff_t>(header.length), full.end() - 2);
    }
  }
  strip.push_back(std::byte{0xFF});
  strip.push_back(std::byte{0xD9});
  return {strip, starts};
}

IfdSpec image_ifd(const BaseOptions& o, std::uint32_t width, std::uint32_t height, std::uint32_t subfile_type,
                  std::vector<std::byte>* pixels_out) {
  const std::vector<std::byte> pixels = pattern_pixels(width, height, o.samples, o.dtype);
  if (pixels_out != nullptr) *pixels_out = pixels;
  const bool jpeg = o.compression == codec::compression::jpeg;
  const bool ycbcr = jpeg && o.samples == 3;
  const bool intervals = o.ndpi && jpeg && !o.tiled && o.restart_interval > 0;
  const std::size_t pixel = o.samples * bytes_per_sample(o.dtype);
  const std::uint16_t bits = static_cast<std::uint16_t>(8 * bytes_per_sample(o.dtype));

  IfdSpec ifd;
  ifd.tiled = o.tiled;
  auto add = [&](std::uint16_t code, std::uint16_t type, std::vector<std::uint64_t> values) {
    ifd.tags.push_back({code, type, std::move(values), {}});
  };
  if (subfile_type != 0) add(254, field::long_, {subfile_type});
  add(256, field::long_, {width});
  add(257, field::long_, {height});
  add(258, field::short_, std::vector<std::uint64_t>(o.samples, bits));
  add(259, field::short_, {o.compression});
  add(262, field::short_, {o.photometric != 0xffff ? o.photometric : ycbcr ? 6u : o.samples >= 3 ? 2u : 1u});
  if (!o.description.empty() && subfile_type == 0) {
    // Byte by byte: GCC 12 at -O3 warns (-Wstringop-overflow) on a memcpy of the string here.
    std::vector<std::byte> text;
    for (const char c : o.description) text.push_back(static_cast<std::byte>(c));
    text.push_back(std::byte{0});
    ifd.tags.push_back({270, field::ascii, {}, text});
  }
  add(277, field::short_, {o.samples});
  if (!o.tiled) add(278, field::long_, {intervals ? height : o.tile});
  add(284, field::short_, {1});
  if (o.predictor != 1) add(317, field::short_, {o.predictor});
  if (o.tiled) {
    add(322, field::short_, {o.tile});
    add(323, field::short_, {o.tile});
  }
  if (is_signed(o.dtype) || is_float(o.dtype))
    add(339, field::short_, std::vector<std::uint64_t>(o.samples, is_float(o.dtype) ? 3 : 2));
  codec::EncodeOptions encode;
  encode.jpeg_ycbcr = ycbcr;
  if (intervals) {
    encode.jpeg_ycbcr_sampling = {1, 1};
    auto [strip, starts] = ndpi_jpeg_strip(pixels, width, height, o.samples, o.restart_interval, encode);
    if (ycbcr) add(530, field::short_, {1, 1});
    add(65426, field::long_, std::move(starts));  // McuStarts
    for (const TagValue& t : o.extra_tags) ifd.tags.push_back(t);
    ifd.chunks.push_back(std::move(strip));
    return ifd;
  }
  if (jpeg) ifd.tags.push_back({347, field::undefined, {}, codec::make_jpeg_tables(o.samples, encode)});
  if (ycbcr) add(530, field::short_, {2, 2});
  for (const TagValue& t : o.extra_tags) ifd.tags.push_back(t);

  // Tiles (padded with zeros past the image) or strips (the last one short).
  const std::uint32_t chunk_w = o.tiled ? o.tile : width;
  const std::uint32_t across = (width + chunk_w - 1) / chunk_w;
  const std::uint32_t down = (height + o.tile - 1) / o.tile;
  for (std::uint32_t ty = 0; ty < down; ++ty) {
    for (std::uint32_t tx = 0; tx < across; ++tx) {
      const std::uint32_t rows = o.tiled ? o.tile : std::min(o.tile, height - ty * o.tile);
      codec::TileLayout layout;
      layout.width = chunk_w;
      layout.rows = rows;
      layout.samples = o.samples;
      layout.dtype = storage_type(o.dtype);
      layout.predictor = o.predictor;
      layout.photometric = static_cast<std::uint16_t>(ycbcr ? 6 : o.samples >= 3 ? 2 : 1);
      layout.big_endian = o.big_endian;
      std::vector<std::byte> tile(layout.decoded_bytes(), std::byte{0});
      for (std::uint32_t r = 0; r < rows && ty * o.tile + r < height; ++r) {
        const std::uint32_t y = ty * o.tile + r;
        const std::uint32_t x0 = tx * chunk_w;
        const std::uint32_t n = std::min(chunk_w, width - x0);
        std::memcpy(tile.data() + r * chunk_w * pixel, pixels.data() + (std::size_t{y} * width + x0) * pixel,
                    n * pixel);
      }
      ifd.chunks.push_back(codec::encode_tile(o.compression, tile, layout, encode));
    }
  }
  return ifd;
}

}  // namespace

BaseFile build_base(const BaseOptions& o) {
  FileSpec spec;
  spec.big_tiff = o.big_tiff;
  spec.big_endian = o.big_endian;
  spec.data_after_ifds = o.data_after_ifds;
  spec.ndpi = o.ndpi;
  BaseOptions with_tags = o;
  if (o.ndpi) {
    with_tags.extra_tags.push_back({65420, field::long_, {1}, {}});                          // FormatFlag
    with_tags.extra_tags.push_back({65421, 11, {std::bit_cast<std::uint32_t>(20.0f)}, {}});  // SourceLens: FLOAT
  }
  BaseFile base;
  for (std::uint32_t k = 0; k < o.levels; ++k) {
    spec.ifds.push_back(image_ifd(with_tags, std::max(1u, o.width >> k), std::max(1u, o.height >> k), k == 0 ? 0 : 1,
                                  k == 0 ? &base.level0_pixels : nullptr));
  }
  if (o.sub_ifd) spec.ifds.front().sub_ifds.push_back(image_ifd(with_tags, o.width / 2, o.height / 2, 1, nullptr));
  base.tiff = build_tiff(spec);
  return base;
}

}  // namespace tilestream::test
