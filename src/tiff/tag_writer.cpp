// Encoding of TIFF headers, IFD entries and tag values (see tag_writer.hpp).
#include "tiff/tag_writer.hpp"

#include <algorithm>

#include "tilestream/core/error.hpp"

namespace tilestream::tiff::detail {
namespace {

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

std::uint64_t value_alignment(bool big_tiff) { return big_tiff ? 8 : 2; }
std::uint64_t inline_capacity(bool big_tiff) { return big_tiff ? 8 : 4; }
std::uint64_t entry_size(bool big_tiff) { return big_tiff ? 20 : 12; }
// Entry count field plus next-IFD pointer.
std::uint64_t ifd_fixed_size(bool big_tiff) { return big_tiff ? 16 : 6; }

}  // namespace

void check_classic_offset(std::uint64_t end, std::string_view what) {
  check<FormatError>(end <= classic_offset_limit, what, " would end at byte ", end,
                     ", past the 4 GiB that classic TIFF can address: write a BigTIFF instead");
}

void store_uint(std::byte* dst, std::uint64_t value, unsigned bytes, bool big_endian) {
  for (unsigned i = 0; i < bytes; ++i) {
    const unsigned shift = 8 * (big_endian ? bytes - 1 - i : i);
    dst[i] = static_cast<std::byte>((value >> shift) & 0xFF);
  }
}

void TagListBuilder::add_uints(std::uint16_t code, std::uint16_t type, unsigned bytes,
                               std::span<const std::uint64_t> values) {
  OutTag tag{code, type, values.size(), std::vector<std::byte>(values.size() * bytes)};
  for (std::size_t i = 0; i < values.size(); ++i)
    store_uint(tag.value.data() + i * bytes, values[i], bytes, big_endian_);
  tags_.push_back(std::move(tag));
}

void TagListBuilder::add_shorts(std::uint16_t code, std::span<const std::uint16_t> values) {
  const std::vector<std::uint64_t> wide(values.begin(), values.end());
  add_uints(code, field_type::short_, 2, wide);
}

void TagListBuilder::add_long(std::uint16_t code, std::uint32_t value) {
  const std::uint64_t wide = value;
  add_uints(code, field_type::long_, 4, {&wide, 1});
}

void TagListBuilder::add_longs(std::uint16_t code, std::span<const std::uint64_t> values) {
  for (const std::uint64_t v : values)
    check<UsageError>(v <= classic_offset_limit, "tag ", code, ": value ", v, " does not fit a LONG");
  add_uints(code, field_type::long_, 4, values);
}

void TagListBuilder::add_offsets(std::uint16_t code, std::span<const std::uint64_t> values) {
  if (big_tiff_) {
    add_uints(code, field_type::long8, 8, values);
    return;
  }
  for (const std::uint64_t v : values) check_classic_offset(v, concat("an offset in tag ", code));
  add_uints(code, field_type::long_, 4, values);
}

void TagListBuilder::add_ascii(std::uint16_t code, std::string_view text) {
  OutTag tag{code, field_type::ascii, text.size() + 1, std::vector<std::byte>(text.size() + 1)};
  std::transform(text.begin(), text.end(), tag.value.begin(),
                 [](char c) { return static_cast<std::byte>(c); });
  tags_.push_back(std::move(tag));  // the last byte stays NUL
}

void TagListBuilder::add_undefined(std::uint16_t code, std::span<const std::byte> bytes) {
  tags_.push_back(OutTag{code, field_type::undefined, bytes.size(), {bytes.begin(), bytes.end()}});
}

std::vector<OutTag> TagListBuilder::take() {
  std::stable_sort(tags_.begin(), tags_.end(),
                   [](const OutTag& a, const OutTag& b) { return a.code < b.code; });
  for (std::size_t i = 1; i < tags_.size(); ++i)
    check<UsageError>(tags_[i].code != tags_[i - 1].code, "tag ", tags_[i].code, " added twice");
  return std::move(tags_);
}

std::size_t header_size(bool big_tiff) { return big_tiff ? 16 : 8; }

std::uint64_t first_ifd_pointer_offset(bool big_tiff) { return big_tiff ? 8 : 4; }

std::vector<std::byte> encode_header(bool big_tiff, bool big_endian, std::uint64_t first_ifd) {
  std::vector<std::byte> out(header_size(big_tiff));
  const auto order = static_cast<std::byte>(big_endian ? 'M' : 'I');
  out[0] = out[1] = order;
  store_uint(&out[2], big_tiff ? 43 : 42, 2, big_endian);
  if (big_tiff) {
    store_uint(&out[4], 8, 2, big_endian);  // bytes per offset
    store_uint(&out[6], 0, 2, big_endian);
    store_uint(&out[8], first_ifd, 8, big_endian);
  } else {
    store_uint(&out[4], first_ifd, 4, big_endian);
  }
  return out;
}

std::uint64_t ifd_encoded_size(std::span<const OutTag> tags, bool big_tiff) {
  std::uint64_t size = ifd_fixed_size(big_tiff) + tags.size() * entry_size(big_tiff);
  for (const OutTag& tag : tags) {
    if (tag.value.size() > inline_capacity(big_tiff))
      size = align_up(size, value_alignment(big_tiff)) + tag.value.size();
  }
  return size;
}

std::vector<std::byte> encode_ifd(std::span<const OutTag> tags, std::uint64_t ifd_offset,
                                  std::uint64_t next_ifd, bool big_tiff, bool big_endian) {
  check<UsageError>(ifd_offset % value_alignment(big_tiff) == 0, "IFD offset ", ifd_offset,
                    " is not aligned");
  const std::uint64_t total = ifd_encoded_size(tags, big_tiff);
  if (!big_tiff) {
    check_classic_offset(ifd_offset + total, "an IFD");
    check_classic_offset(next_ifd, "the next IFD");
  }
  std::vector<std::byte> out(total);
  const unsigned word = big_tiff ? 8 : 4;
  const unsigned count_bytes = big_tiff ? 8 : 2;
  store_uint(out.data(), tags.size(), count_bytes, big_endian);
  std::uint64_t values_at = ifd_fixed_size(big_tiff) + tags.size() * entry_size(big_tiff);
  std::byte* entry = out.data() + count_bytes;
  for (const OutTag& tag : tags) {
    store_uint(entry, tag.code, 2, big_endian);
    store_uint(entry + 2, tag.type, 2, big_endian);
    store_uint(entry + 4, tag.count, word, big_endian);
    std::byte* field = entry + 4 + word;
    if (tag.value.size() <= inline_capacity(big_tiff)) {
      std::copy(tag.value.begin(), tag.value.end(), field);  // left-justified, rest stays 0
    } else {
      values_at = align_up(values_at, value_alignment(big_tiff));
      store_uint(field, ifd_offset + values_at, word, big_endian);
      std::copy(tag.value.begin(), tag.value.end(), out.begin() + static_cast<std::ptrdiff_t>(values_at));
      values_at += tag.value.size();
    }
    entry += entry_size(big_tiff);
  }
  store_uint(entry, next_ifd, word, big_endian);
  return out;
}

}  // namespace tilestream::tiff::detail
