// Deflate through zlib: inflate into the caller's buffer, compress2 for writing.
#include "codec/deflate.hpp"

#include <zlib.h>

#include <climits>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

// Owns an inflate stream.
class Inflater {
 public:
  Inflater() {
    const int status = inflateInit(&stream_);
    check<CodecError>(status == Z_OK, "zlib inflateInit failed: ", message(status));
  }
  ~Inflater() { inflateEnd(&stream_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  z_stream& stream() { return stream_; }
  const char* message(int status) const { return stream_.msg != nullptr ? stream_.msg : zError(status); }

 private:
  z_stream stream_{};
};

}  // namespace

void deflate_decode(std::span<const std::byte> src, const TileLayout& /*layout*/, std::span<std::byte> dst) {
  check<CodecError>(src.size() <= UINT_MAX && dst.size() <= UINT_MAX, "deflate tile of ", src.size(),
                    " bytes into ", dst.size(), " bytes exceeds zlib's 4 GiB limit");
  Inflater inflater;
  z_stream& stream = inflater.stream();
  // zlib does not write through next_in; its API predates const.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(src.data()));
  stream.avail_in = static_cast<uInt>(src.size());
  stream.next_out = reinterpret_cast<Bytef*>(dst.data());
  stream.avail_out = static_cast<uInt>(dst.size());
  int status = inflate(&stream, Z_FINISH);
  // Output full before the end of the stream: writers sometimes compress more rows than a tile
  // holds, so the excess is inflated into a discard buffer and dropped, but the stream must still
  // reach its end, where zlib checks the Adler-32 of everything (corruption in the part we kept
  // would otherwise pass silently).
  std::byte discard[4096];
  while (status == Z_BUF_ERROR && stream.avail_out == 0 && stream.avail_in > 0) {
    stream.next_out = reinterpret_cast<Bytef*>(discard);
    stream.avail_out = sizeof discard;
    status = inflate(&stream, Z_FINISH);
  }
  if (status == Z_STREAM_END) {
    check<CodecError>(stream.total_out >= dst.size(), "deflate stream decoded to ", stream.total_out,
                      " bytes, expected ", dst.size());
    return;
  }
  if (status == Z_BUF_ERROR) {
    if (stream.total_out >= dst.size()) {
      throw CodecError(concat("deflate stream truncated: the tile's ", dst.size(),
                              " bytes decoded but the stream ends before its checksum"));
    }
    throw CodecError(concat("deflate stream truncated: decoded ", stream.total_out, " of ", dst.size(),
                            " bytes"));
  }
  throw CodecError(concat("deflate stream is corrupt: ", inflater.message(status), " (after ",
                          stream.total_out, " of ", dst.size(), " bytes)"));
}

std::vector<std::byte> deflate_encode(std::span<const std::byte> data, const TileLayout& /*layout*/,
                                      const EncodeOptions& options) {
  check<UsageError>(options.deflate_level >= -1 && options.deflate_level <= 9,
                    "deflate level must be -1 or 0..9, not ", options.deflate_level);
  check<UsageError>(data.size() <= UINT_MAX, "deflate tile of ", data.size(), " bytes exceeds 4 GiB");
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::vector<std::byte> out(size);
  const int status = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                               reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
                               options.deflate_level);
  check<CodecError>(status == Z_OK, "zlib compress2 failed: ", zError(status));
  out.resize(size);
  return out;
}

}  // namespace tilestream::codec
