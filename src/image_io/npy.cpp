// NumPy .npy format version 1.0: magic, header length, a Python-literal dict header padded to a
// multiple of 64 bytes, then the raw C-order data.
#include <bit>
#include <cstring>
#include <regex>

#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"
#include "tilestream/image_io/image_file.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::image_io {
namespace {

const char* npy_descr(DType t) {
  constexpr bool little = std::endian::native == std::endian::little;
  switch (t) {
    case DType::uint8: return "|u1";
    case DType::int8: return "|i1";
    case DType::uint16: return little ? "<u2" : ">u2";
    case DType::int16: return little ? "<i2" : ">i2";
    case DType::float32: return little ? "<f4" : ">f4";
    case DType::uint32: return little ? "<u4" : ">u4";
    case DType::int32: return little ? "<i4" : ">i4";
    case DType::float16: return little ? "<f2" : ">f2";
  }
  return "";
}

}  // namespace

void save_npy(const HostImage& image, const std::string& path) {
  std::string header = concat("{'descr': '", npy_descr(image.dtype()), "', 'fortran_order': False, 'shape': (",
                              image.height(), ", ", image.width(), ", ", image.samples(), "), }");
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string preamble = "\x93NUMPY";
  preamble += '\x01';
  preamble += '\x00';
  preamble += static_cast<char>(header.size() & 0xff);
  preamble += static_cast<char>(header.size() >> 8);
  preamble += header;

  io::WriteFile file(path);
  file.append(std::as_bytes(std::span(preamble)));
  file.append(image.bytes());
  file.commit();
}

HostImage load_npy(const std::string& path) {
  io::ReadFile file(path);
  std::byte head[10];
  check<FormatError>(file.size() >= 10, path, ": not a .npy file (too short)");
  file.read_exact(0, head);
  check<FormatError>(std::memcmp(head, "\x93NUMPY", 6) == 0 && head[6] == std::byte{1}, path,
                     ": not a version 1 .npy file");
  const std::size_t header_len = static_cast<std::size_t>(head[8]) | (static_cast<std::size_t>(head[9]) << 8);
  check<FormatError>(file.size() >= 10 + header_len, path, ": .npy header truncated");
  std::string header(header_len, '\0');
  file.read_exact(10, std::as_writable_bytes(std::span(header)));
  std::smatch m;
  check<FormatError>(std::regex_search(header, m, std::regex("'descr': '([<>|])([uif])([124])'")), path,
                     ": unsupported .npy dtype in header ", header);
  const std::string kind = m[2], width = m[3];
  check<FormatError>(width == "1" || m[1] == (std::endian::native == std::endian::little ? "<" : ">"), path,
                     ": .npy data is not in native byte order");
  DType dtype;
  if (kind == "f" && width == "4") dtype = DType::float32;
  else if (kind == "f" && width == "2") dtype = DType::float16;
  else if (kind == "u" && width == "4") dtype = DType::uint32;
  else if (kind == "i" && width == "4") dtype = DType::int32;
  else if (kind == "u" && width == "1") dtype = DType::uint8;
  else if (kind == "u" && width == "2") dtype = DType::uint16;
  else if (kind == "i" && width == "1") dtype = DType::int8;
  else if (kind == "i" && width == "2") dtype = DType::int16;
  else throw FormatError(concat(path, ": unsupported .npy dtype ", m[0].str()));
  check<FormatError>(header.find("'fortran_order': False") != std::string::npos, path, ": Fortran-order .npy");
  check<FormatError>(std::regex_search(header, m, std::regex(R"('shape': \((\d+), (\d+)(?:, (\d+))?,?\))")),
                     path, ": .npy shape is not 2-D or 3-D: ", header);
  const std::uint64_t h = std::stoull(m[1]), w = std::stoull(m[2]);
  const std::uint32_t s = m[3].matched ? static_cast<std::uint32_t>(std::stoul(m[3])) : 1;
  // The file's size bounds what its header may ask for: checked before allocating.
  const std::uint64_t bytes = image_bytes(h, w, s, dtype);
  check<FormatError>(file.size() - 10 - header_len == bytes, path, ": .npy holds ", file.size() - 10 - header_len,
                     " data bytes, shape needs ", bytes);
  check_host_memory({.file = path, .place = "", .what = concat("loading ", h, " x ", w, " x ", s, " ", to_string(dtype)),
                     .bytes = bytes, .ways_out = {}});
  HostImage image(h, w, s, dtype);
  file.read_exact(10 + header_len, std::span(image.data(), image.size_bytes()));
  return image;
}

void save_image(const HostImage& image, const std::string& path) {
  auto ends_with = [&](const char* ext) {
    const std::size_t n = std::strlen(ext);
    return path.size() >= n && path.compare(path.size() - n, n, ext) == 0;
  };
  if (ends_with(".npy")) return save_npy(image, path);
  if (ends_with(".png")) return save_png(image, path);
  throw UsageError(concat(path, ": unknown output format (use .npy or .png)"));
}

}  // namespace tilestream::image_io
