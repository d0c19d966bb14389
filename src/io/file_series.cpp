// FileSeries: several files addressed as one byte source, and the mapping of a source's offsets back
// to its files (find_part, ByteSource::locate).
#include "tilestream/core/error.hpp"
#include "tilestream/io/file.hpp"

namespace tilestream::io {

std::string ByteSource::locate(std::uint64_t offset) const { return concat("offset ", offset); }

PartOffset find_part(const std::vector<FilePart>& files, const std::string& name, std::uint64_t offset,
                     std::uint64_t length) {
  for (std::size_t k = 0; k < files.size(); ++k) {
    const FilePart& f = files[k];
    if (offset < f.base || offset - f.base > f.size) continue;
    const std::uint64_t local = offset - f.base;
    check<IoError>(length <= f.size - local, f.path, ": read of ", length, " bytes at offset ", local,
                   " goes past the end of the file (", f.size, " bytes)");
    return {k, local};
  }
  throw IoError(concat(name, ": no file holds ", length, " bytes at offset ", offset));
}

FileSeries::FileSeries(std::string name, const std::vector<std::string>& paths) : name_(std::move(name)) {
  check<UsageError>(!paths.empty(), name_, ": a file series needs at least one file");
  files_.reserve(paths.size());
  for (const std::string& path : paths) {
    files_.push_back(std::make_unique<ReadFile>(path));
    check<UnsupportedError>(files_.back()->size() < part_stride, path, ": ", files_.back()->size(),
                            " bytes; files of a series are read up to ", part_stride, " bytes");
  }
}

std::uint64_t FileSeries::size() const { return base_of(files_.size() - 1) + files_.back()->size(); }

void FileSeries::read_exact(std::uint64_t offset, std::span<std::byte> dst) const {
  const std::size_t k = static_cast<std::size_t>(offset / part_stride);
  check<IoError>(k < files_.size(), name_, ": read of ", dst.size(), " bytes at offset ", offset,
                 " lies past the series' last file");
  files_[k]->read_exact(offset - base_of(k), dst);  // past its end: IoError naming the file
}

std::vector<FilePart> FileSeries::files() const {
  std::vector<FilePart> parts;
  parts.reserve(files_.size());
  for (std::size_t k = 0; k < files_.size(); ++k) parts.push_back({files_[k]->name(), base_of(k), files_[k]->size()});
  return parts;
}

std::string FileSeries::locate(std::uint64_t offset) const {
  const std::size_t k = static_cast<std::size_t>(offset / part_stride);
  if (k >= files_.size()) return concat("offset ", offset);
  return concat("offset ", offset - base_of(k), " of ", files_[k]->name());
}

}  // namespace tilestream::io
