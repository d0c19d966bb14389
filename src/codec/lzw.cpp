// TIFF LZW decoder and encoder. The decoder is a hot path: each table entry stores its length and
// first byte, so a code's string is written backwards straight into the output in one pass.
#include "codec/lzw.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

constexpr unsigned clear_code = 256;
constexpr unsigned eoi_code = 257;
constexpr unsigned first_code = 258;
constexpr unsigned min_bits = 9;
constexpr unsigned max_bits = 12;
constexpr unsigned table_size = 1u << max_bits;  // 4096 codes
constexpr unsigned encoder_reset_at = table_size - 2;  // libtiff emits ClearCode at 4094 entries

// Decoder dictionary: entry `c` is the string of entry prefix[c] followed by suffix[c].
struct DecodeTable {
  std::array<std::uint16_t, table_size> prefix;
  std::array<std::uint16_t, table_size> length;
  std::array<std::uint8_t, table_size> suffix;
  std::array<std::uint8_t, table_size> first;

  DecodeTable() {
    for (unsigned c = 0; c < 256; ++c) {
      prefix[c] = 0;
      length[c] = 1;
      suffix[c] = static_cast<std::uint8_t>(c);
      first[c] = static_cast<std::uint8_t>(c);
    }
  }
};

// Reads MSB-first codes of varying width.
class BitReader {
 public:
  explicit BitReader(std::span<const std::byte> src) : data_(src.data()), size_(src.size()) {}

  // False when fewer than `bits` bits remain.
  bool read(unsigned bits, unsigned& code) {
    if (count_ < bits) {
      while (count_ <= 56 && pos_ < size_) {
        buffer_ |= static_cast<std::uint64_t>(data_[pos_++]) << (56 - count_);
        count_ += 8;
      }
      if (count_ < bits) return false;
    }
    code = static_cast<unsigned>(buffer_ >> (64 - bits));
    buffer_ <<= bits;
    count_ -= bits;
    return true;
  }

 private:
  const std::byte* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::uint64_t buffer_ = 0;
  unsigned count_ = 0;
};

// Writes MSB-first codes of varying width.
class BitWriter {
 public:
  explicit BitWriter(std::vector<std::byte>& out) : out_(out) {}

  void write(unsigned code, unsigned bits) {
    buffer_ = (buffer_ << bits) | code;
    count_ += bits;
    while (count_ >= 8) {
      count_ -= 8;
      out_.push_back(static_cast<std::byte>(buffer_ >> count_));
    }
  }
  void flush() {
    if (count_ > 0) out_.push_back(static_cast<std::byte>(buffer_ << (8 - count_)));
    count_ = 0;
  }

 private:
  std::vector<std::byte>& out_;
  std::uint64_t buffer_ = 0;
  unsigned count_ = 0;
};

// Encoder dictionary: open addressing from (prefix code, byte) to code, cleared on ClearCode.
class EncodeTable {
 public:
  EncodeTable() { clear(); }
  void clear() { keys_.fill(empty); }

  // The code of (prefix, byte), or -1.
  int find(unsigned prefix, unsigned byte, std::size_t& slot) const {
    const std::uint32_t key = (prefix << 8) | byte;
    slot = (key * 2654435761u) >> (32 - slot_bits);
    while (keys_[slot] != empty) {
      if (keys_[slot] == key) return codes_[slot];
      slot = (slot + 1) & (slots - 1);
    }
    return -1;
  }
  void insert(std::size_t slot, unsigned prefix, unsigned byte, unsigned code) {
    keys_[slot] = (prefix << 8) | byte;
    codes_[slot] = static_cast<std::uint16_t>(code);
  }

 private:
  static constexpr unsigned slot_bits = 13;  // 8192 slots for at most 4094 entries
  static constexpr std::size_t slots = std::size_t{1} << slot_bits;
  static constexpr std::uint32_t empty = 0xffffffffu;
  std::array<std::uint32_t, slots> keys_;
  std::array<std::uint16_t, slots> codes_{};
};

}  // namespace

void lzw_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  // libtiff's test for streams written by its pre-1995 LSB-first encoder.
  if (src.size() >= 2 && src[0] == std::byte{0} && (std::to_integer<unsigned>(src[1]) & 1u) != 0) {
    throw UnsupportedError("old-style (LSB-first) LZW is not supported");
  }
  DecodeTable table;
  BitReader reader(src);
  std::byte* const out_begin = dst.data();
  std::byte* const out_end = out_begin + dst.size();
  std::byte* out = out_begin;
  unsigned bits = min_bits;
  unsigned next = first_code;
  unsigned previous = clear_code;  // clear_code: no previous code (start, or just after ClearCode)
  unsigned code = 0;

  while (out < out_end) {
    if (!reader.read(bits, code)) {
      throw CodecError(concat("LZW stream ended without EOI after ", out - out_begin, " of ",
                              dst.size(), " bytes"));
    }
    if (code == eoi_code) break;
    if (code == clear_code) {
      bits = min_bits;
      next = first_code;
      previous = clear_code;
      continue;
    }
    if (previous == clear_code) {
      if (code > 255) {
        throw CodecError(concat("LZW code ", code, " after ClearCode (expected a literal) at output byte ",
                                out - out_begin));
      }
      *out++ = static_cast<std::byte>(code);
      previous = code;
      continue;
    }
    if (code > next) {
      throw CodecError(concat("invalid LZW code ", code, " (next code ", next, ") at output byte ",
                              out - out_begin));
    }
    // New entry: previous string + first byte of this code's string (of previous, when code == next).
    if (next < table_size) {
      const std::uint8_t first_byte = code == next ? table.first[previous] : table.first[code];
      table.prefix[next] = static_cast<std::uint16_t>(previous);
      table.suffix[next] = first_byte;
      table.first[next] = table.first[previous];
      table.length[next] = static_cast<std::uint16_t>(table.length[previous] + 1);
      ++next;
      if (next + 1 >= (1u << bits) && bits < max_bits) ++bits;
    }
    // Write the string backwards; a string crossing the end of dst is cut (libtiff does the same).
    unsigned c = code;
    std::size_t length = table.length[c];
    const auto room = static_cast<std::size_t>(out_end - out);
    for (std::size_t skip = length > room ? length - room : 0; skip > 0; --skip) c = table.prefix[c];
    length = std::min(length, room);
    for (std::byte* p = out + length; p > out;) {
      *--p = static_cast<std::byte>(table.suffix[c]);
      c = table.prefix[c];
    }
    out += length;
    previous = code;
  }
  check<CodecError>(out == out_end, "LZW stream decoded to ", out - out_begin, " bytes, expected ",
                    dst.size());
}

std::vector<std::byte> lzw_encode(std::span<const std::byte> data, const TileLayout& /*layout*/,
                                  const EncodeOptions& /*options*/) {
  std::vector<std::byte> out;
  out.reserve(data.size() / 2 + 16);
  BitWriter writer(out);
  auto table = std::make_unique<EncodeTable>();
  unsigned bits = min_bits;
  unsigned next = first_code;
  writer.write(clear_code, bits);

  // After emitting a code the table grows by one entry; this keeps width and resets as libtiff.
  auto grow = [&] {
    ++next;
    if (next == encoder_reset_at) {
      writer.write(clear_code, bits);
      table->clear();
      next = first_code;
      bits = min_bits;
    } else if (next > (1u << bits) - 1) {
      ++bits;
    }
  };

  if (!data.empty()) {
    unsigned current = std::to_integer<unsigned>(data[0]);
    for (std::size_t i = 1; i < data.size(); ++i) {
      const unsigned byte = std::to_integer<unsigned>(data[i]);
      std::size_t slot = 0;
      const int found = table->find(current, byte, slot);
      if (found >= 0) {
        current = static_cast<unsigned>(found);
        continue;
      }
      writer.write(current, bits);
      table->insert(slot, current, byte, next);
      grow();
      current = byte;
    }
    writer.write(current, bits);
    grow();
  }
  writer.write(eoi_code, bits);
  writer.flush();
  return out;
}

}  // namespace tilestream::codec
