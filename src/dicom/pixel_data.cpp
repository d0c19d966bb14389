// locate_frames: native frames by arithmetic, encapsulated ones from the offset tables or the items.
#include "dicom/pixel_data.hpp"

#include <algorithm>
#include <cstring>

#include "dicom/cursor.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::dicom {
namespace {

constexpr std::uint32_t item_tag = make_tag(0xFFFE, 0xE000);
constexpr std::uint32_t sequence_end_tag = make_tag(0xFFFE, 0xE0DD);

struct Fragment {
  std::uint64_t item = 0;  // offset of its item tag, from the first fragment's item tag
  FrameBytes bytes;
};

std::vector<std::uint64_t> table_values(const Element* e, std::size_t width) {
  std::vector<std::uint64_t> values;
  if (e == nullptr || !e->loaded) return values;
  values.resize(e->value.size() / width);
  for (std::size_t k = 0; k < values.size(); ++k) {
    std::uint64_t v = 0;
    std::memcpy(&v, e->value.data() + k * width, width);  // little endian
    values[k] = v;
  }
  return values;
}

std::vector<FrameBytes> native_frames(const io::ByteSource& source, const Element& pixels, std::uint64_t frames,
                                      std::uint64_t frame_bytes) {
  check<FormatError>(!pixels.undefined, source.name(), ": PixelData (7FE0,0010) at offset ", pixels.offset,
                     " is encapsulated, but the transfer syntax stores native pixels");
  const std::uint64_t held = frame_bytes == 0 ? 0 : pixels.length / frame_bytes;
  check<FormatError>(held >= frames, source.name(), ": PixelData (7FE0,0010) at offset ", pixels.offset, " holds ",
                     pixels.length, " bytes, ", held, " frames of ", frame_bytes, " bytes; NumberOfFrames is ", frames,
                     ": frame ", held + 1, " is missing");
  // The frames the file holds, counted before any is listed: NumberOfFrames and the Pixel Data's length
  // are the file's word, not its size (2^26 frames listed from a kilobyte file would take a gigabyte).
  const std::uint64_t inside = pixels.offset > source.size() ? 0 : (source.size() - pixels.offset) / frame_bytes;
  check<FormatError>(inside >= frames, source.name(), ": frame ", inside + 1, " at offset ",
                     pixels.offset + inside * frame_bytes, " (", frame_bytes, " bytes) lies past the end of the file (",
                     source.size(), " bytes): the file is truncated");
  std::vector<FrameBytes> out(frames);
  for (std::uint64_t k = 0; k < frames; ++k) out[k] = {pixels.offset + k * frame_bytes, frame_bytes};
  return out;
}

// The Basic Offset Table and every fragment of encapsulated Pixel Data.
std::vector<Fragment> walk_fragments(const io::ByteSource& source, const Element& pixels,
                                     std::vector<std::uint64_t>& basic_offsets) {
  Cursor cursor(source, 4096);  // item headers only: fragments are skipped
  cursor.pos = pixels.offset;
  auto item_header = [&](std::uint32_t& tag, std::uint32_t& length) {
    const std::uint16_t group = cursor.u16("a PixelData item");
    const std::uint16_t element = cursor.u16("a PixelData item");
    tag = make_tag(group, element);
    length = cursor.u32("a PixelData item's length");
  };
  std::uint32_t tag = 0, length = 0;
  const std::uint64_t table_at = cursor.pos;
  item_header(tag, length);
  check<FormatError>(tag == item_tag && length != undefined_length && length % 4 == 0, source.name(),
                     ": encapsulated PixelData at offset ", table_at, " does not start with a Basic Offset Table item");
  const std::byte* table = cursor.take(length, "the Basic Offset Table");
  basic_offsets.resize(length / 4);
  for (std::size_t k = 0; k < basic_offsets.size(); ++k) {
    std::uint32_t v = 0;
    std::memcpy(&v, table + 4 * k, 4);
    basic_offsets[k] = v;
  }
  const std::uint64_t first_item = cursor.pos;
  std::vector<Fragment> fragments;
  while (true) {
    const std::uint64_t at = cursor.pos;
    check<FormatError>(at + 8 <= source.size(), source.name(), ": encapsulated PixelData ends with the file after ",
                       fragments.size(), " fragments (offset ", at, "), without its sequence delimiter: the file is truncated");
    item_header(tag, length);
    if (tag == sequence_end_tag) break;
    check<FormatError>(tag == item_tag && length != undefined_length, source.name(), ": PixelData (7FE0,0010) fragment ",
                       fragments.size() + 1, " at offset ", at, " is ", tag_text(tag),
                       ", not an item of defined length");
    check<FormatError>(length <= source.size() - cursor.pos, source.name(), ": PixelData (7FE0,0010) fragment ",
                       fragments.size() + 1, " at offset ", at, " holds ", length, " bytes, past the end of the file (",
                       source.size(), " bytes): the file is truncated");
    fragments.push_back({at - first_item, {cursor.pos, length}});
    cursor.skip(length, "a PixelData fragment");
  }
  return fragments;
}

std::vector<FrameBytes> encapsulated_frames(const io::ByteSource& source, const ParsedFile& file,
                                            const Element& pixels, std::uint64_t frames) {
  check<FormatError>(pixels.undefined, source.name(), ": PixelData (7FE0,0010) at offset ", pixels.offset,
                     " has a defined length, but transfer syntax ", file.transfer_syntax, " encapsulates frames");
  // Reserved only once NumberOfFrames, the file's word, is checked against a table or the fragments.
  std::vector<FrameBytes> out;
  // The Extended Offset Table gives every frame's item and length: the items need not be walked.
  const std::vector<std::uint64_t> extended = table_values(file.data.find(make_tag(0x7FE0, 0x0001)), 8);
  const std::vector<std::uint64_t> extended_lengths = table_values(file.data.find(make_tag(0x7FE0, 0x0002)), 8);
  if (!extended.empty()) {
    check<FormatError>(extended.size() >= frames && extended_lengths.size() >= frames, source.name(),
                       ": the Extended Offset Table lists ", std::min(extended.size(), extended_lengths.size()),
                       " frames; NumberOfFrames is ", frames, ": frame ",
                       std::min(extended.size(), extended_lengths.size()) + 1, " is missing");
    out.reserve(frames);
    // The first fragment's item follows the (empty, as the standard requires) Basic Offset Table.
    Cursor cursor(source, 64);
    cursor.pos = pixels.offset + 4;
    const std::uint64_t first_item = pixels.offset + 8 + cursor.u32("the Basic Offset Table's length");
    for (std::uint64_t k = 0; k < frames; ++k) {
      const std::uint64_t at = first_item + extended[k];
      check<FormatError>(at >= first_item && at + 8 <= source.size() &&
                             extended_lengths[k] <= source.size() - (at + 8), source.name(), ": frame ", k + 1,
                         " at offset ", at, " (", extended_lengths[k],
                         " bytes, from the Extended Offset Table) lies past the end of the file (", source.size(),
                         " bytes): the file is truncated");
      out.push_back({at + 8, extended_lengths[k]});
    }
    return out;
  }
  std::vector<std::uint64_t> basic;
  const std::vector<Fragment> fragments = walk_fragments(source, pixels, basic);
  if (!basic.empty()) {
    check<FormatError>(basic.size() >= frames, source.name(), ": the Basic Offset Table lists ", basic.size(),
                       " frames; NumberOfFrames is ", frames, ": frame ", basic.size() + 1, " is missing");
    out.reserve(frames);
    for (std::uint64_t k = 0; k < frames; ++k) {
      const auto it = std::lower_bound(fragments.begin(), fragments.end(), basic[k],
                                       [](const Fragment& f, std::uint64_t item) { return f.item < item; });
      check<FormatError>(it != fragments.end() && it->item == basic[k], source.name(), ": frame ", k + 1,
                         " starts at item offset ", basic[k], " by the Basic Offset Table, where no fragment starts (",
                         fragments.size(), " fragments): the frame is missing");
      const std::uint64_t next = k + 1 < basic.size() ? basic[k + 1] : ~std::uint64_t{0};
      const auto after = it + 1;
      check<UnsupportedError>(after == fragments.end() || after->item >= next, source.name(), ": frame ", k + 1,
                              " spans several fragments; frames of one fragment each are read");
      out.push_back(it->bytes);
    }
    return out;
  }
  check<FormatError>(fragments.size() >= frames, source.name(), ": encapsulated PixelData holds ", fragments.size(),
                     " fragments; NumberOfFrames is ", frames, ": frame ", fragments.size() + 1, " is missing");
  check<UnsupportedError>(fragments.size() == frames, source.name(), ": encapsulated PixelData holds ",
                          fragments.size(), " fragments for ", frames,
                          " frames and no offset table: frames of one fragment each are read");
  for (const Fragment& f : fragments) out.push_back(f.bytes);
  return out;
}

}  // namespace

std::vector<FrameBytes> locate_frames(const io::ByteSource& source, const ParsedFile& file, std::uint64_t frames,
                                      std::uint64_t native_frame_bytes) {
  check<FormatError>(file.pixel_data.has_value(), source.name(), ": no PixelData (7FE0,0010) element");
  const Element& pixels = *file.pixel_data;
  const bool native = file.transfer_syntax == "1.2.840.10008.1.2" || file.transfer_syntax == "1.2.840.10008.1.2.1";
  return native ? native_frames(source, pixels, frames, native_frame_bytes)
                : encapsulated_frames(source, file, pixels, frames);
}

}  // namespace tilestream::dicom
