// A small, independent TIFF structure reader for the writer and synth tests: header, IFD chain,
// tag values and the byte ranges they point at, both byte orders, classic TIFF and BigTIFF. It
// checks structure as it goes (gtest assertions), so tests do not depend on the real parser.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace tilestream::testing {

class MiniTiff {
 public:
  struct Tag {
    std::uint16_t type = 0;
    std::uint64_t count = 0;
    std::uint64_t value_offset = 0;  // where the value bytes are in the file
    bool is_inline = false;
    std::vector<std::uint64_t> values;  // integer types
    std::string text;                   // ASCII, without the trailing NUL
    std::vector<std::uint8_t> raw;      // the value bytes as stored
  };
  struct Page {
    std::uint64_t offset = 0;
    std::vector<std::uint16_t> order;  // tag codes as stored
    std::map<std::uint16_t, Tag> tags;

    bool has(std::uint16_t code) const { return tags.count(code) != 0; }
    const Tag& tag(std::uint16_t code) const {
      static const Tag missing;
      const auto it = tags.find(code);
      EXPECT_NE(it, tags.end()) << "missing tag " << code;
      return it == tags.end() ? missing : it->second;
    }
    std::uint64_t value(std::uint16_t code) const {
      const Tag& t = tag(code);
      EXPECT_FALSE(t.values.empty()) << "tag " << code;
      return t.values.empty() ? 0 : t.values[0];
    }
    const std::vector<std::uint64_t>& values(std::uint16_t code) const { return tag(code).values; }
  };

  bool big_endian = false;
  bool big_tiff = false;
  std::vector<std::uint8_t> bytes;
  std::vector<Page> pages;

  explicit MiniTiff(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << path;
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    parse();
  }

  std::uint64_t uint(std::uint64_t offset, unsigned size) const {
    EXPECT_LE(offset + size, bytes.size()) << "read past the end at " << offset;
    if (offset + size > bytes.size()) return 0;
    std::uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i) {
      const std::uint64_t b = bytes[offset + i];
      v |= b << (8 * (big_endian ? size - 1 - i : i));
    }
    return v;
  }

 private:
  static unsigned type_size(std::uint16_t type) {
    switch (type) {
      case 1: case 2: case 6: case 7: return 1;
      case 3: case 8: return 2;
      case 4: case 9: case 11: case 13: return 4;
      case 5: case 10: case 12: case 16: case 17: case 18: return 8;
      default: return 0;
    }
  }

  void parse() {
    ASSERT_GE(bytes.size(), 8u);
    ASSERT_TRUE((bytes[0] == 'I' && bytes[1] == 'I') || (bytes[0] == 'M' && bytes[1] == 'M'));
    big_endian = bytes[0] == 'M';
    const std::uint64_t magic = uint(2, 2);
    ASSERT_TRUE(magic == 42 || magic == 43) << magic;
    big_tiff = magic == 43;
    std::uint64_t next = 0;
    if (big_tiff) {
      ASSERT_EQ(uint(4, 2), 8u);
      ASSERT_EQ(uint(6, 2), 0u);
      next = uint(8, 8);
    } else {
      next = uint(4, 4);
    }
    const unsigned word = big_tiff ? 8 : 4;
    const unsigned count_size = big_tiff ? 8 : 2;
    const unsigned entry_size = big_tiff ? 20 : 12;
    while (next != 0) {
      ASSERT_LT(pages.size(), 100u) << "IFD loop?";
      ASSERT_EQ(next % 2, 0u) << "IFD at odd offset " << next;
      Page page;
      page.offset = next;
      const std::uint64_t n = uint(next, count_size);
      ASSERT_LE(next + count_size + n * entry_size + word, bytes.size());
      for (std::uint64_t e = 0; e < n; ++e) {
        const std::uint64_t at = next + count_size + e * entry_size;
        const auto code = static_cast<std::uint16_t>(uint(at, 2));
        Tag tag;
        tag.type = static_cast<std::uint16_t>(uint(at + 2, 2));
        tag.count = uint(at + 4, word);
        const unsigned size = type_size(tag.type);
        ASSERT_NE(size, 0u) << "tag " << code << " has unknown type " << tag.type;
        const std::uint64_t total = size * tag.count;
        tag.is_inline = total <= word;
        tag.value_offset = tag.is_inline ? at + 4 + word : uint(at + 4 + word, word);
        ASSERT_LE(tag.value_offset + total, bytes.size()) << "tag " << code << " value past the end";
        if (!tag.is_inline) EXPECT_EQ(tag.value_offset % 2, 0u) << "tag " << code << " unaligned";
        tag.raw.assign(bytes.begin() + static_cast<std::ptrdiff_t>(tag.value_offset),
                       bytes.begin() + static_cast<std::ptrdiff_t>(tag.value_offset + total));
        if (tag.type == 2) {
          EXPECT_FALSE(tag.raw.empty());
          EXPECT_EQ(tag.raw.back(), 0) << "ASCII tag " << code << " not NUL-terminated";
          tag.text.assign(tag.raw.begin(), tag.raw.end() - (tag.raw.empty() ? 0 : 1));
        } else if (tag.type != 7) {
          for (std::uint64_t i = 0; i < tag.count; ++i)
            tag.values.push_back(uint(tag.value_offset + i * size, size));
        }
        page.order.push_back(code);
        page.tags[code] = std::move(tag);
      }
      next = uint(next + count_size + n * entry_size, word);
      pages.push_back(std::move(page));
    }
  }
};

}  // namespace tilestream::testing
