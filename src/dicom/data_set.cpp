// The DICOM element parser: a buffered cursor over the file, element headers in explicit or implicit
// VR little endian, sequences and items (defined or undefined lengths), and value accessors.
#include "dicom/data_set.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dicom/cursor.hpp"
#include "dicom/dictionary.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::dicom {
namespace {

constexpr std::uint32_t item_tag = make_tag(0xFFFE, 0xE000);
constexpr std::uint32_t item_end_tag = make_tag(0xFFFE, 0xE00D);
constexpr std::uint32_t sequence_end_tag = make_tag(0xFFFE, 0xE0DD);
constexpr std::uint32_t pixel_data_tag = make_tag(0x7FE0, 0x0010);
constexpr std::uint32_t transfer_syntax_tag = make_tag(0x0002, 0x0010);
// Offset tables are loaded whatever their size (a value per frame), up to this.
constexpr std::size_t max_offset_table_bytes = std::size_t{1} << 28;

struct Header {
  std::uint32_t tag = 0;
  std::array<char, 2> vr{'U', 'N'};
  std::uint32_t length = 0;
  std::uint64_t at = 0;  // of the tag
};

// An item or data set without a defined length: it ends at its delimiter (or, at the top, the file's end).
constexpr std::uint64_t no_end = ~std::uint64_t{0};

bool is_vr_letter(char c) { return c >= 'A' && c <= 'Z'; }

class Parser {
 public:
  Parser(const io::ByteSource& source, const ReadLimits& limits) : cursor_(source, 256 * 1024), limits_(limits) {}

  Cursor& cursor() { return cursor_; }

  Header header(bool explicit_vr) {
    Header h;
    h.at = cursor_.pos;
    const std::uint16_t group = cursor_.u16("an element's tag");
    const std::uint16_t element = cursor_.u16("an element's tag");
    h.tag = make_tag(group, element);
    if (group == 0xFFFE) {  // items and delimiters: no VR in either encoding
      h.length = cursor_.u32("an item's length");
      return h;
    }
    if (explicit_vr) {
      const std::byte* vr = cursor_.take(2, "an element's VR");
      h.vr = {static_cast<char>(vr[0]), static_cast<char>(vr[1])};
      check<FormatError>(is_vr_letter(h.vr[0]) && is_vr_letter(h.vr[1]), cursor_.file(), ": element ", tag_text(h.tag),
                         " at offset ", h.at, " has no valid VR (bytes ", std::to_integer<int>(vr[0]), ", ",
                         std::to_integer<int>(vr[1]), ")");
      if (has_long_length({h.vr.data(), 2})) {
        cursor_.skip(2, "an element's reserved bytes");
        h.length = cursor_.u32("an element's length");
      } else {
        h.length = cursor_.u16("an element's length");
      }
    } else {
      h.length = cursor_.u32("an element's length");
      if (const AttributeInfo* info = find_attribute(h.tag)) h.vr = {info->vr[0], info->vr[1]};
      if (h.length == undefined_length) h.vr = {'S', 'Q'};  // undefined lengths are sequences (PS3.5 7.5)
    }
    return h;
  }

  // Elements until `end` (a defined length) or the item delimiter (end == nullopt); with `top`, stops
  // at Pixel Data and returns it.
  std::optional<Element> data_set(DataSet& out, std::uint64_t end, bool explicit_vr,
                                  std::size_t depth, bool top) {
    check<FormatError>(depth <= limits_.max_depth, cursor_.file(), ": sequences nested deeper than ",
                       limits_.max_depth, " at offset ", cursor_.pos);
    const bool bounded = end != no_end;
    while (!bounded || cursor_.pos < end) {
      if (!bounded && top && cursor_.pos == cursor_.size()) break;
      const Header h = header(explicit_vr);
      if (h.tag == item_end_tag) {
        check<FormatError>(!bounded, cursor_.file(), ": an item delimiter at offset ", h.at,
                           " inside an item of defined length");
        return std::nullopt;
      }
      std::optional<Element> pixels = element(h, out, explicit_vr, depth, top, end);
      if (pixels) return pixels;
    }
    check<FormatError>(bounded || top, cursor_.file(), ": an item of undefined length ends with the file");
    return std::nullopt;
  }

  // The element whose header is `h`: its value loaded or located, a sequence's items parsed, appended
  // to `out`; Pixel Data of the top level is returned instead.
  std::optional<Element> element(const Header& h, DataSet& out, bool explicit_vr, std::size_t depth, bool top,
                                 std::uint64_t end) {
    check<FormatError>(h.tag != item_tag && h.tag != sequence_end_tag, cursor_.file(), ": ", tag_text(h.tag),
                       " at offset ", h.at, " outside a sequence");
    check<FormatError>(++elements_ <= limits_.max_elements, cursor_.file(), ": more than ", limits_.max_elements,
                       " elements");
    Element e;
    e.tag = h.tag;
    e.vr = h.vr;
    e.offset = cursor_.pos;
    e.undefined = h.length == undefined_length;
    if (top && depth == 0 && h.tag == pixel_data_tag) {
      e.length = e.undefined ? 0 : h.length;
      return e;
    }
    if (e.is("SQ") || (e.undefined && e.is("UN"))) {
      // An undefined-length UN holds a sequence in implicit VR (PS3.5 6.2.2).
      e.vr = {'S', 'Q'};
      sequence(e, explicit_vr && !(h.vr[0] == 'U' && h.vr[1] == 'N'), depth, h);
    } else if (e.undefined && h.tag == pixel_data_tag) {
      // Encapsulated Pixel Data inside an item (an Icon Image Sequence's, PS3.5 A.4): located, its
      // fragments passed over.
      skip_fragments(h);
      e.length = cursor_.pos - e.offset;
    } else {
      check<FormatError>(!e.undefined, cursor_.file(), ": element ", tag_text(h.tag), " at offset ", h.at,
                         " (VR ", e.vr_text(), ") has an undefined length");
      e.length = h.length;
      const bool offset_table = h.tag == make_tag(0x7FE0, 0x0001) || h.tag == make_tag(0x7FE0, 0x0002);
      if (e.length <= limits_.max_value_bytes || (offset_table && e.length <= max_offset_table_bytes)) {
        const std::byte* bytes = cursor_.take(e.length, "an element's value");
        e.value.assign(bytes, bytes + e.length);
        e.loaded = true;
      } else {
        cursor_.skip(e.length, "an element's value");
      }
    }
    check<FormatError>(cursor_.pos <= end, cursor_.file(), ": element ", tag_text(h.tag), " at offset ", h.at,
                       " runs past the end of its item (offset ", end, ")");
    out.elements.push_back(std::move(e));
    return std::nullopt;
  }

  // The items of encapsulated Pixel Data whose header is `h`, up to and with its sequence delimiter.
  void skip_fragments(const Header& h) {
    while (true) {
      const Header item = header(true);  // items have no VR in either encoding
      if (item.tag == sequence_end_tag) return;
      check<FormatError>(item.tag == item_tag && item.length != undefined_length, cursor_.file(), ": Pixel Data ",
                         tag_text(h.tag), " at offset ", h.at, " holds ", tag_text(item.tag), " at offset ", item.at,
                         " where a fragment's item should be");
      cursor_.skip(item.length, "a Pixel Data fragment");
    }
  }

  void sequence(Element& e, bool explicit_vr, std::size_t depth, const Header& h) {
    const std::uint64_t end = e.undefined ? no_end : cursor_.pos + h.length;
    check<FormatError>(e.undefined || end <= cursor_.size(), cursor_.file(), ": sequence ", tag_text(h.tag),
                       " at offset ", h.at, " holds ", h.length, " bytes, past the end of the file");
    while (e.undefined || cursor_.pos < end) {
      const Header item = header(explicit_vr);
      if (e.undefined && item.tag == sequence_end_tag) break;
      check<FormatError>(item.tag == item_tag, cursor_.file(), ": sequence ", tag_text(h.tag), " at offset ", h.at,
                         " holds ", tag_text(item.tag), " at offset ", item.at, " where an item should be");
      DataSet set;
      if (item.length == undefined_length) {
        data_set(set, no_end, explicit_vr, depth + 1, false);
      } else {
        const std::uint64_t item_end = cursor_.pos + item.length;
        check<FormatError>(item_end <= std::min(end, cursor_.size()), cursor_.file(), ": an item of sequence ",
                           tag_text(h.tag), " at offset ", item.at, " runs past its sequence");
        data_set(set, item_end, explicit_vr, depth + 1, false);
      }
      e.items.push_back(std::move(set));
    }
    e.length = cursor_.pos - e.offset;
  }

 private:
  Cursor cursor_;
  ReadLimits limits_;
  std::size_t elements_ = 0;
};

std::string_view trimmed(std::string_view text, bool leading) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
  if (leading)
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

bool is_text_vr(const Element& e) {
  static constexpr std::array<std::string_view, 17> text = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                                           "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"};
  return std::find(text.begin(), text.end(), e.vr_text()) != text.end();
}

std::size_t binary_size(const Element& e) {
  const std::string_view vr = e.vr_text();
  if (vr == "US" || vr == "SS") return 2;
  if (vr == "UL" || vr == "SL" || vr == "FL") return 4;
  if (vr == "FD" || vr == "UV" || vr == "SV") return 8;
  return 0;
}

template <typename T>
T load(const std::byte* at) {
  T v;
  std::memcpy(&v, at, sizeof v);  // little endian, as the host (x86-64, aarch64)
  return v;
}

}  // namespace

std::string tag_text(std::uint32_t tag) {
  char text[16];
  std::snprintf(text, sizeof text, "(%04X,%04X)", tag >> 16, tag & 0xFFFFu);
  return text;
}

const Element* DataSet::find(std::uint32_t tag) const {
  for (const Element& e : elements)
    if (e.tag == tag) return &e;
  return nullptr;
}

std::vector<std::string> strings(const Element* e) {
  std::vector<std::string> out;
  if (e == nullptr || !e->loaded || !is_text_vr(*e) || e->value.empty()) return out;
  const std::string_view all(reinterpret_cast<const char*>(e->value.data()), e->value.size());
  const bool single = e->is("LT") || e->is("ST") || e->is("UT") || e->is("UR");
  const bool leading = e->is("CS") || e->is("DS") || e->is("IS") || e->is("UI") || e->is("AE");
  if (single) {
    out.emplace_back(trimmed(all, false));
    return out;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t stop = all.find('\\', start);
    out.emplace_back(trimmed(all.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start),
                             leading));
    if (stop == std::string_view::npos) break;
    start = stop + 1;
  }
  return out;
}

std::optional<std::string> string(const Element* e) {
  std::vector<std::string> all = strings(e);
  if (all.empty()) return std::nullopt;
  return std::move(all.front());
}

std::size_t number_count(const Element* e) {
  if (e == nullptr || !e->loaded) return 0;
  if (const std::size_t size = binary_size(*e)) return e->value.size() / size;
  if (e->is("IS") || e->is("DS")) return strings(e).size();
  return 0;
}

std::optional<double> number(const Element* e, std::size_t index) {
  if (e == nullptr || !e->loaded) return std::nullopt;
  if (const std::size_t size = binary_size(*e)) {
    if ((index + 1) * size > e->value.size()) return std::nullopt;
    const std::byte* at = e->value.data() + index * size;
    const std::string_view vr = e->vr_text();
    if (vr == "US") return load<std::uint16_t>(at);
    if (vr == "SS") return load<std::int16_t>(at);
    if (vr == "UL") return load<std::uint32_t>(at);
    if (vr == "SL") return load<std::int32_t>(at);
    if (vr == "FL") return load<float>(at);
    if (vr == "FD") return load<double>(at);
    if (vr == "UV") return static_cast<double>(load<std::uint64_t>(at));
    return static_cast<double>(load<std::int64_t>(at));
  }
  if (!e->is("IS") && !e->is("DS")) return std::nullopt;
  const std::vector<std::string> values = strings(e);
  if (index >= values.size()) return std::nullopt;
  const std::string& text = values[index];
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first < last && *first == '+') ++first;
  double value = 0;
  const auto result = std::from_chars(first, last, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != last || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> whole_number(const Element* e, std::size_t index) {
  const std::optional<double> value = number(e, index);
  if (!value || *value < 0 || *value > 9.0e15 || std::floor(*value) != *value) return std::nullopt;
  return static_cast<std::uint64_t>(*value);
}

const DataSet* first_item(const DataSet& set, std::uint32_t tag) {
  const Element* e = set.find(tag);
  if (e == nullptr || e->items.empty()) return nullptr;
  return &e->items.front();
}

bool has_dicom_prefix(const io::ByteSource& source) {
  if (source.size() < 132) return false;
  std::array<std::byte, 4> magic;
  source.read_exact(128, magic);
  return std::memcmp(magic.data(), "DICM", 4) == 0;
}

ParsedFile parse_file(const io::ByteSource& source, const ReadLimits& limits) {
  check<FormatError>(has_dicom_prefix(source), source.name(),
                     ": not a DICOM file (no \"DICM\" after the 128-byte preamble)");
  Parser parser(source, limits);
  Cursor& cursor = parser.cursor();
  cursor.pos = 132;
  ParsedFile file;
  // File Meta Information: explicit VR little endian, the elements of group 0002.
  while (cursor.pos + 8 <= cursor.size()) {
    const std::uint64_t at = cursor.pos;
    const std::uint16_t group = cursor.u16("an element's tag");
    cursor.pos = at;
    if (group != 0x0002) break;
    const Header h = parser.header(true);
    parser.element(h, file.meta, true, 0, false, no_end);
  }
  const std::optional<std::string> syntax = string(file.meta.find(transfer_syntax_tag));
  check<FormatError>(syntax.has_value(), source.name(), ": no Transfer Syntax UID (0002,0010) in the file meta information");
  file.transfer_syntax = *syntax;
  check<UnsupportedError>(file.transfer_syntax != "1.2.840.10008.1.2.2", source.name(),
                          ": transfer syntax Explicit VR Big Endian (1.2.840.10008.1.2.2, retired) is not read");
  check<UnsupportedError>(file.transfer_syntax != "1.2.840.10008.1.2.1.99", source.name(),
                          ": transfer syntax Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99) is not read");
  file.explicit_vr = file.transfer_syntax != "1.2.840.10008.1.2";
  file.pixel_data = parser.data_set(file.data, no_end, file.explicit_vr, 0, true);
  return file;
}

}  // namespace tilestream::dicom
