// PNG writer: one IHDR, the image deflated (filter type 0 on every row; speed over size) in
// IDAT chunks, IEND. 16-bit samples are written big-endian as PNG requires.
#include <zlib.h>

#include <array>
#include <cstring>
#include <bit>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/image_io/image_file.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::image_io {
namespace {

void put_u32(std::vector<std::byte>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::byte>((v >> shift) & 0xff));
}

void write_chunk(io::WriteFile& file, const char type[4], std::span<const std::byte> data) {
  std::vector<std::byte> head;
  put_u32(head, static_cast<std::uint32_t>(data.size()));
  for (int i = 0; i < 4; ++i) head.push_back(static_cast<std::byte>(type[i]));
  uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(type), 4);
  // A null buffer would make zlib return the initial value instead of continuing the CRC.
  if (!data.empty()) crc = crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size());
  std::vector<std::byte> tail;
  put_u32(tail, static_cast<std::uint32_t>(crc));
  file.append(head);
  file.append(data);
  file.append(tail);
}

}  // namespace

void save_png(const HostImage& image, const std::string& path) {
  const DType dtype = image.dtype();
  check<UsageError>(dtype == DType::uint8 || dtype == DType::uint16, path, ": PNG cannot hold ",
                    is_signed(dtype) ? "signed" : is_float(dtype) ? "floating-point" : "32-bit", " samples (",
                    to_string(dtype), "); write .npy instead");
  check<UsageError>(image.samples() >= 1 && image.samples() <= 4, path, ": PNG holds 1 to 4 samples, not ",
                    image.samples());
  check<UsageError>(image.width() < (1u << 31) && image.height() < (1u << 31), path,
                    ": image too large for PNG");
  static constexpr std::array<std::uint8_t, 5> color_type = {0, 0, 4, 2, 6};
  const bool wide = bytes_per_sample(image.dtype()) == 2;

  io::WriteFile file(path);
  static constexpr std::byte signature[] = {std::byte{0x89}, std::byte{'P'}, std::byte{'N'}, std::byte{'G'},
                                            std::byte{'\r'}, std::byte{'\n'}, std::byte{0x1a}, std::byte{'\n'}};
  file.append(signature);
  std::vector<std::byte> ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(image.width()));
  put_u32(ihdr, static_cast<std::uint32_t>(image.height()));
  for (std::uint8_t v : {std::uint8_t(wide ? 16 : 8), color_type[image.samples()], std::uint8_t(0),
                         std::uint8_t(0), std::uint8_t(0)})
    ihdr.push_back(static_cast<std::byte>(v));
  write_chunk(file, "IHDR", ihdr);

  z_stream z{};
  check<IoError>(deflateInit(&z, 1) == Z_OK, path, ": deflateInit failed");
  std::vector<std::byte> row(1 + image.row_bytes());
  std::vector<std::byte> out(1 << 20);
  auto drain = [&](int flush) {
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, flush);
      check<IoError>(rc != Z_STREAM_ERROR, path, ": deflate failed");
      const std::size_t produced = out.size() - z.avail_out;
      if (produced > 0) write_chunk(file, "IDAT", std::span(out.data(), produced));
    } while (z.avail_out == 0);
  };
  try {
    for (std::uint64_t y = 0; y < image.height(); ++y) {
      row[0] = std::byte{0};
      std::memcpy(row.data() + 1, image.row(y), image.row_bytes());
      if (wide && std::endian::native == std::endian::little) {
        for (std::size_t i = 1; i + 1 < row.size(); i += 2) std::swap(row[i], row[i + 1]);
      }
      z.next_in = reinterpret_cast<Bytef*>(row.data());
      z.avail_in = static_cast<uInt>(row.size());
      drain(Z_NO_FLUSH);
    }
    drain(Z_FINISH);
  } catch (...) {
    deflateEnd(&z);
    throw;
  }
  deflateEnd(&z);
  write_chunk(file, "IEND", {});
  file.commit();
}

}  // namespace tilestream::image_io
