// PackBits run-length decoding and encoding.
#include "codec/packbits.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

// Appends the PackBits encoding of one row: runs of 3+ equal bytes (up to 128) as repeats,
// everything else as literals (up to 128).
void encode_row(std::span<const std::byte> row, std::vector<std::byte>& out) {
  std::size_t i = 0;
  const std::size_t n = row.size();
  while (i < n) {
    std::size_t run = 1;
    while (i + run < n && run < 128 && row[i + run] == row[i]) ++run;
    if (run >= 3) {
      out.push_back(static_cast<std::byte>(257 - run));  // -(run - 1) as a signed byte
      out.push_back(row[i]);
      i += run;
      continue;
    }
    // Literal: extend until a run of 3 starts or 128 bytes are collected.
    std::size_t end = i;
    while (end < n && end - i < 128) {
      if (end + 2 < n && row[end] == row[end + 1] && row[end] == row[end + 2]) break;
      ++end;
    }
    out.push_back(static_cast<std::byte>(end - i - 1));
    out.insert(out.end(), row.begin() + static_cast<std::ptrdiff_t>(i), row.begin() + static_cast<std::ptrdiff_t>(end));
    i = end;
  }
}

}  // namespace

void packbits_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  std::size_t in = 0;
  std::size_t out = 0;
  while (out < dst.size()) {
    check<CodecError>(in < src.size(), "PackBits stream ended after ", out, " of ", dst.size(), " bytes");
    const auto header = static_cast<signed char>(std::to_integer<unsigned char>(src[in++]));
    if (header >= 0) {
      const std::size_t count = static_cast<std::size_t>(header) + 1;
      check<CodecError>(in + count <= src.size(), "PackBits literal of ", count, " bytes at input byte ",
                        in - 1, " runs past the end of the ", src.size(), "-byte stream");
      const std::size_t copy = std::min(count, dst.size() - out);
      std::memcpy(dst.data() + out, src.data() + in, copy);
      in += count;
      out += copy;
    } else if (header != -128) {  // -128 is a no-op
      check<CodecError>(in < src.size(), "PackBits run at input byte ", in - 1, " lacks its value");
      const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(1 - header), dst.size() - out);
      std::memset(dst.data() + out, std::to_integer<int>(src[in++]), count);
      out += count;
    }
  }
}

std::vector<std::byte> packbits_encode(std::span<const std::byte> data, const TileLayout& layout,
                                       const EncodeOptions& /*options*/) {
  std::vector<std::byte> out;
  out.reserve(data.size() + data.size() / 64 + 16);
  const std::size_t row_bytes = layout.rows == 0 ? data.size() : data.size() / layout.rows;
  if (row_bytes == 0) return out;
  for (std::size_t start = 0; start < data.size(); start += row_bytes) {
    encode_row(data.subspan(start, std::min(row_bytes, data.size() - start)), out);
  }
  return out;
}

}  // namespace tilestream::codec
