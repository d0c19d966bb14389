// Bounds-checked reading of TIFF / BigTIFF headers, IFDs and tag values.
#include "tiff/ifd_reader.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"

namespace tilestream::tiff::detail {

const Entry* Ifd::find(std::uint16_t tag) const {
  for (const Entry& e : entries)
    if (e.tag == tag) return &e;
  return nullptr;
}

std::uint32_t type_size(std::uint16_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;  // BYTE ASCII SBYTE UNDEFINED
    case 3: case 8: return 2;                  // SHORT SSHORT
    case 4: case 9: case 11: case 13: return 4;  // LONG SLONG FLOAT IFD
    case 5: case 10: case 12: case 16: case 17: case 18: return 8;  // RATIONAL SRATIONAL DOUBLE LONG8 SLONG8 IFD8
    default: return 0;
  }
}

std::string tag_name(std::uint16_t tag) {
  if (const char* name = known_tag_name(tag)) return concat(name, " (", tag, ")");
  return concat("tag ", tag);
}

std::uint64_t IfdReader::read_uint(const std::byte* p, unsigned size) const {
  std::uint64_t v = 0;
  if (header_.big_endian) {
    for (unsigned i = 0; i < size; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  } else {
    for (unsigned i = size; i-- > 0;) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  }
  return v;
}

IfdReader::IfdReader(const io::ByteSource& source, const ParseLimits& limits)
    : source_(source), limits_(limits) {
  const std::string& name = source_.name();
  check<FormatError>(source_.size() >= 8, name, ": not a TIFF file: only ", source_.size(), " bytes");
  std::array<std::byte, 16> head{};
  source_.read_exact(0, std::span(head).first(std::min<std::uint64_t>(16, source_.size())));
  const auto b0 = static_cast<char>(head[0]);
  const auto b1 = static_cast<char>(head[1]);
  check<FormatError>((b0 == 'I' && b1 == 'I') || (b0 == 'M' && b1 == 'M'), name,
                     ": not a TIFF file: byte-order mark at offset 0 is neither II nor MM");
  header_.big_endian = b0 == 'M';
  const std::uint64_t version = read_uint(head.data() + 2, 2);
  if (version == 42) {
    header_.first_ifd = read_uint(head.data() + 4, 4);
    // NDPI is told apart as OpenSlide tells it: the header's offset read as 8 bytes leads to an IFD
    // of NDPI's layout with the FormatFlag tag. Any other classic TIFF keeps its 4-byte offsets.
    if (source_.size() >= 12) {
      const std::uint64_t wide = read_uint(head.data() + 4, 8);
      if (is_ndpi_ifd(wide)) {
        header_.ndpi = true;
        header_.first_ifd = wide;
      }
    }
  } else if (version == 43) {
    check<FormatError>(source_.size() >= 16, name, ": BigTIFF header truncated (", source_.size(), " bytes)");
    const std::uint64_t offset_size = read_uint(head.data() + 4, 2);
    check<FormatError>(offset_size == 8 && read_uint(head.data() + 6, 2) == 0, name,
                       ": BigTIFF header at offset 4 declares offset size ", offset_size, " (must be 8)");
    header_.big_tiff = true;
    header_.first_ifd = read_uint(head.data() + 8, 8);
  } else {
    throw FormatError(concat(name, ": not a TIFF file: version ", version, " at offset 2 (42 TIFF, 43 BigTIFF)"));
  }
  check<FormatError>(header_.first_ifd != 0, name, ": the header points to no IFD (first IFD offset is 0)");
}

bool IfdReader::is_ndpi_ifd(std::uint64_t offset) const {
  const std::uint64_t size = source_.size();
  if (offset >= size || size - offset < 2) return false;
  std::array<std::byte, 2> count_bytes{};
  source_.read_exact(offset, count_bytes);
  const std::uint64_t count = read_uint(count_bytes.data(), 2);
  if (count == 0 || count > limits_.max_entries_per_ifd || size - offset - 2 < count * 16 + 8) return false;
  std::vector<std::byte> entries(count * 12);
  source_.read_exact(offset + 2, entries);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::byte* p = entries.data() + i * 12;
    if (read_uint(p, 2) == tag::ndpi_format_flag && read_uint(p + 4, 4) > 0) return true;
  }
  return false;
}

Ifd IfdReader::read_ifd(std::uint64_t offset, std::string label) const {
  const std::string& name = source_.name();
  const bool ndpi = header_.ndpi;
  const unsigned count_size = header_.big_tiff ? 8 : 2;
  const unsigned entry_size = header_.big_tiff ? 20 : 12;
  const unsigned field_size = header_.big_tiff ? 8 : 4;  // the value / offset field of an entry
  const unsigned next_size = header_.big_tiff || ndpi ? 8 : 4;
  const std::uint64_t size = source_.size();
  check<FormatError>(offset < size && size - offset >= count_size, name, ": ", label, " at offset ",
                     offset, " lies past the end of the file (", size, " bytes)");
  std::array<std::byte, 8> count_bytes{};
  source_.read_exact(offset, std::span(count_bytes).first(count_size));
  const std::uint64_t count = read_uint(count_bytes.data(), count_size);
  check<FormatError>(count > 0 && count <= limits_.max_entries_per_ifd, name, ": ", label,
                     " at offset ", offset, " has ", count, " entries (allowed 1 to ",
                     limits_.max_entries_per_ifd, ")");
  // NDPI: the high 32 bits of each entry's value field follow the next-IFD offset, 4 bytes an entry.
  const std::uint64_t table_bytes = count * entry_size + next_size + (ndpi ? 4 * count : 0);
  check<FormatError>(size - offset - count_size >= table_bytes, name, ": ", label, " at offset ",
                     offset, " with ", count, " entries", ndpi ? " and their NDPI high offset bits" : "",
                     " extends past the end of the file (", size, " bytes)");
  std::vector<std::byte> table(table_bytes);
  source_.read_exact(offset + count_size, table);
  const std::byte* high_bits = table.data() + count * entry_size + next_size;

  Ifd ifd;
  ifd.offset = offset;
  ifd.label = std::move(label);
  ifd.entries.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::byte* p = table.data() + i * entry_size;
    Entry e;
    e.tag = static_cast<std::uint16_t>(read_uint(p, 2));
    e.type = static_cast<std::uint16_t>(read_uint(p + 2, 2));
    e.count = header_.big_tiff ? read_uint(p + 4, 8) : read_uint(p + 4, 4);
    // The value field, NDPI's high bits appended: one 8-byte field in the file's byte order, as
    // OpenSlide reads it.
    std::memcpy(e.inline_bytes, p + (header_.big_tiff ? 12 : 8), field_size);
    if (ndpi) std::memcpy(e.inline_bytes + 4, high_bits + i * 4, 4);
    const unsigned wide = ndpi ? 8 : field_size;
    e.value_field = read_uint(reinterpret_cast<const std::byte*>(e.inline_bytes), wide);
    const std::uint32_t unit = type_size(e.type);
    if (unit == 0) continue;  // unknown field types are skipped, as TIFF 6.0 asks of readers
    // NDPI stores ASCII out of line even when it would fit (OpenSlide 4.0.1 reads it so).
    e.is_inline = e.count <= field_size / unit && !(ndpi && e.type == 2);
    const std::uint64_t high = ndpi ? read_uint(high_bits + i * 4, 4) : 0;
    if (e.is_inline && high != 0) {
      // A LONG (SLONG) whose high bits are set is a 64-bit value: a strip offset or byte count
      // beyond 4 GiB. On any other inline value the bits have no meaning: refused, as by OpenSlide.
      check<FormatError>(e.type == 4 || e.type == 9, name, ": ", ifd.label, ": ", tag_name(e.tag),
                         " (field type ", e.type, ", inline) has NDPI high offset bits ", high,
                         ", which only a LONG or SLONG value can take");
      e.type = e.type == 4 ? 16 : 17;
    }
    ifd.entries.push_back(e);
  }
  ifd.next = read_uint(table.data() + count * entry_size, next_size);
  return ifd;
}

std::vector<std::byte> IfdReader::field_bytes(const Ifd& ifd, const Entry& entry) const {
  const std::uint64_t unit = type_size(entry.type);
  check<FormatError>(entry.count <= limits_.max_tag_bytes / unit, source_.name(), ": ", ifd.label,
                     ": ", tag_name(entry.tag), " has ", entry.count, " values, more than allowed (",
                     limits_.max_tag_bytes, " bytes)");
  const std::uint64_t bytes = entry.count * unit;
  if (entry.is_inline) {
    std::vector<std::byte> out(bytes);
    if (bytes > 0) std::memcpy(out.data(), entry.inline_bytes, bytes);  // count 0: data() may be null
    return out;
  }
  // Checked before allocating, so that a small file cannot make us allocate max_tag_bytes.
  const std::uint64_t size = source_.size();
  check<FormatError>(entry.value_field <= size && bytes <= size - entry.value_field, source_.name(),
                     ": ", ifd.label, ": ", tag_name(entry.tag), " values (", bytes,
                     " bytes at offset ", entry.value_field, ") extend past the end of the file (",
                     size, " bytes)");
  std::vector<std::byte> out(bytes);
  source_.read_exact(entry.value_field, out);
  return out;
}

std::vector<std::uint64_t> IfdReader::uints(const Ifd& ifd, const Entry& entry) const {
  switch (entry.type) {
    case 1: case 3: case 4: case 6: case 7: case 8: case 9: case 13: case 16: case 17: case 18: break;
    default:
      throw FormatError(concat(source_.name(), ": ", ifd.label, ": ", tag_name(entry.tag),
                               " has field type ", entry.type, ", expected an integer type"));
  }
  const std::vector<std::byte> bytes = field_bytes(ifd, entry);
  const unsigned unit = type_size(entry.type);
  std::vector<std::uint64_t> values(entry.count);
  for (std::uint64_t i = 0; i < entry.count; ++i) values[i] = read_uint(bytes.data() + i * unit, unit);
  return values;
}

std::uint64_t IfdReader::uint(const Ifd& ifd, const Entry& entry) const {
  check<FormatError>(entry.count >= 1, source_.name(), ": ", ifd.label, ": ", tag_name(entry.tag),
                     " has no values");
  Entry first = entry;  // only the first value is needed: never read a whole array for it
  first.count = 1;
  return uints(ifd, first).front();
}

std::optional<std::uint64_t> IfdReader::uint(const Ifd& ifd, std::uint16_t tag) const {
  const Entry* e = ifd.find(tag);
  if (e == nullptr) return std::nullopt;
  return uint(ifd, *e);
}

std::optional<double> IfdReader::real(const Ifd& ifd, std::uint16_t tag) const {
  const Entry* e = ifd.find(tag);
  if (e == nullptr || e->count == 0) return std::nullopt;
  Entry first = *e;
  first.count = 1;
  const std::vector<std::byte> b = field_bytes(ifd, first);
  switch (e->type) {
    case 5: {
      const auto num = read_uint(b.data(), 4), den = read_uint(b.data() + 4, 4);
      return den == 0 ? std::nullopt : std::optional<double>(static_cast<double>(num) / static_cast<double>(den));
    }
    case 10: {
      const auto num = static_cast<std::int32_t>(read_uint(b.data(), 4));
      const auto den = static_cast<std::int32_t>(read_uint(b.data() + 4, 4));
      return den == 0 ? std::nullopt : std::optional<double>(static_cast<double>(num) / den);
    }
    case 11: return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(read_uint(b.data(), 4))));
    case 12: return std::bit_cast<double>(read_uint(b.data(), 8));
    default: return static_cast<double>(uint(ifd, *e));
  }
}

std::optional<std::string> IfdReader::text(const Ifd& ifd, std::uint16_t tag) const {
  const Entry* e = ifd.find(tag);
  if (e == nullptr || (e->type != 2 && e->type != 1 && e->type != 7)) return std::nullopt;
  const std::vector<std::byte> b = field_bytes(ifd, *e);
  std::string s(reinterpret_cast<const char*>(b.data()), b.size());
  if (const auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
  return s;
}

std::vector<std::byte> IfdReader::raw(const Ifd& ifd, const Entry& entry) const {
  return field_bytes(ifd, entry);
}

}  // namespace tilestream::tiff::detail
