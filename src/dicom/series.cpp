// open_series / index_series: a series' files parsed, their instances sorted into levels and
// associated images, each level's frames laid out as the tiles of a tiff::ImageInfo.
#include "tilestream/dicom/series.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "dicom/data_set.hpp"
#include "dicom/instance.hpp"
#include "dicom/pixel_data.hpp"
#include "dicom/properties.hpp"
#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/photometric.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/sha256.hpp"

namespace tilestream::dicom {
namespace {

std::string base_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string folder_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool is_folder(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The regular files of `folder` that start with the DICOM prefix, sorted by name.
std::vector<std::string> dicom_files_in(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  check<IoError>(dir != nullptr, folder, ": cannot list the folder");
  std::vector<std::string> paths;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = folder == "/" ? "/" + name : folder + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    try {
      if (is_dicom(io::ReadFile(path))) paths.push_back(path);
    } catch (const IoError&) {
      // an unreadable file that is not ours to judge: the series is what can be read
    }
  }
  ::closedir(dir);
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The codec of a transfer syntax, or 0 with its name for those we do not read.
struct Syntax {
  std::uint16_t compression = 0;
  const char* name = "";
  bool high_throughput = false;  // HTJ2K: read only where OpenJPEG decodes it (codec::decodes_htj2k)
};

Syntax syntax_of(const std::string& uid) {
  static const std::map<std::string, Syntax> table = {
      {"1.2.840.10008.1.2", {codec::compression::none, "Implicit VR Little Endian"}},
      {"1.2.840.10008.1.2.1", {codec::compression::none, "Explicit VR Little Endian"}},
      {"1.2.840.10008.1.2.4.50", {codec::compression::jpeg, "JPEG Baseline"}},
      {"1.2.840.10008.1.2.4.51", {codec::compression::jpeg, "JPEG Extended"}},
      {"1.2.840.10008.1.2.4.90", {codec::compression::jpeg2000, "JPEG 2000 (lossless only)"}},
      {"1.2.840.10008.1.2.4.91", {codec::compression::jpeg2000, "JPEG 2000"}},
      {"1.2.840.10008.1.2.4.201", {codec::compression::jpeg2000, "High-Throughput JPEG 2000 (lossless only)", true}},
      {"1.2.840.10008.1.2.4.202",
       {codec::compression::jpeg2000, "High-Throughput JPEG 2000 with RPCL (lossless only)", true}},
      {"1.2.840.10008.1.2.4.203", {codec::compression::jpeg2000, "High-Throughput JPEG 2000", true}},
      {"1.2.840.10008.1.2.4.57", {0, "JPEG Lossless"}},
      {"1.2.840.10008.1.2.4.70", {0, "JPEG Lossless (first-order prediction)"}},
      {"1.2.840.10008.1.2.4.80", {0, "JPEG-LS Lossless"}},
      {"1.2.840.10008.1.2.4.81", {0, "JPEG-LS Near-Lossless"}},
      {"1.2.840.10008.1.2.5", {0, "RLE Lossless"}},
      {"1.2.840.10008.1.2.4.110", {0, "JPEG XL Lossless"}},
      {"1.2.840.10008.1.2.4.112", {0, "JPEG XL"}},
  };
  const auto found = table.find(uid);
  return found == table.end() ? Syntax{0, "unknown"} : found->second;
}

// The TIFF photometric that decodes a DICOM photometric interpretation under `compression`, or a
// reason it cannot.
std::uint16_t photometric_of(const Instance& in, std::uint16_t compression, std::string& refusal) {
  const std::string& p = in.photometric;
  if (p == "MONOCHROME2" && in.samples == 1) return codec::photometric::min_is_black;
  if (p == "MONOCHROME1" && in.samples == 1) return codec::photometric::min_is_white;
  if (p == "RGB" && in.samples == 3) return codec::photometric::rgb;
  // JPEG's YCbCr is converted by libjpeg (and nvJPEG); JPEG 2000's component transform (ICT, RCT) by
  // the decoder: both give RGB.
  if ((p == "YBR_FULL_422" || p == "YBR_FULL") && in.samples == 3 && compression == codec::compression::jpeg)
    return codec::photometric::ycbcr;
  if ((p == "YBR_ICT" || p == "YBR_RCT") && in.samples == 3 && compression == codec::compression::jpeg2000)
    return codec::photometric::rgb;
  refusal = concat("PhotometricInterpretation ", p, " with ", in.samples, " sample", in.samples == 1 ? "" : "s",
                   " in transfer syntax ", syntax_of(in.parsed.transfer_syntax).name, " is not read");
  return codec::photometric::rgb;
}

// The size of an instance's ICC profile (OpticalPathSequence's first item), or 0 without one.
std::uint64_t icc_size(const Instance& in) {
  const DataSet* path = first_item(in.parsed.data, make_tag(0x0048, 0x0105));
  const Element* icc = path == nullptr ? nullptr : path->find(make_tag(0x0028, 0x2000));
  return icc == nullptr ? 0 : icc->length;
}

// One level or associated image: an instance, or the instances of a concatenation in order.
using Group = std::vector<const Instance*>;

std::string label_of(const Group& group) {
  std::string label = concat("file ", base_name(group.front()->path));
  if (group.size() > 1) label += concat(" and ", group.size() - 1, " more of its concatenation");
  return label;
}

// The sample layout and codec of `first`, into `im`; unsupported_reason says why it cannot be read.
void describe_pixels(const Instance& first, const tiff::PixelOptions& pixels, tiff::ImageInfo& im) {
  const Syntax syntax = syntax_of(first.parsed.transfer_syntax);
  im.stored_samples = first.samples;
  im.samples = first.samples;
  im.bits_per_sample = static_cast<std::uint16_t>(first.bits_allocated);
  im.planar_config = first.planar_configuration == 1 && first.samples > 1 ? 2 : 1;
  im.compression = syntax.compression != 0 ? syntax.compression : codec::compression::none;
  std::string refusal;
  if (syntax.compression == 0) {
    refusal = concat("transfer syntax ", syntax.name, " (", first.parsed.transfer_syntax, ") is not read");
  } else if (first.bits_allocated != 8 && first.bits_allocated != 16) {
    refusal = concat("BitsAllocated ", first.bits_allocated, " is not read (8 or 16)");
  } else if (syntax.compression == codec::compression::jpeg && first.bits_allocated != 8) {
    refusal = concat("JPEG frames of ", first.bits_allocated, " bits are not read (8)");
  } else if (im.planar_config == 2 && syntax.compression != codec::compression::none) {
    refusal = "PlanarConfiguration 1 is read for native frames only";
  } else if (syntax.high_throughput && !codec::decodes_htj2k()) {
    refusal = concat("transfer syntax ", syntax.name, " (", first.parsed.transfer_syntax, ") needs OpenJPEG 2.5.4 or later",
                     " to decode correctly; this build decodes with OpenJPEG ",
                     codec::openjpeg_version().empty() ? std::string("(none)") : codec::openjpeg_version());
  } else if (!codec::is_supported(im.compression)) {
    refusal = concat("compression ", codec::compression_name(im.compression), " is not built in (",
                     codec::not_built_reason(im.compression), ")");
  }
  im.stored_dtype = first.bits_allocated == 16 ? (first.pixel_representation == 1 ? DType::int16 : DType::uint16)
                                               : DType::uint8;
  im.photometric = refusal.empty() ? photometric_of(first, syntax.compression, refusal) : codec::photometric::rgb;
  const codec::StoredPixels stored = im.stored_pixels();
  if (refusal.empty() && !pixels.stored_samples) {
    try {
      im.conversion = codec::plan_conversion(stored);
    } catch (const UnsupportedError& e) {
      refusal = e.what();
    }
  }
  if (!refusal.empty() || pixels.stored_samples) im.conversion = codec::as_stored(stored);
  if (!refusal.empty()) im.unsupported_reason = concat(first.path, ": ", refusal);
  im.samples = im.conversion.samples;
  im.dtype = im.conversion.dtype;
}

// The tile (and plane) a frame of `group` fills, for TILED_FULL frames: the first tiles_across x
// tiles_down frames (the first focal plane and optical path), by tile number.
void place_full(const Group& group, const std::vector<std::vector<FrameBytes>>& frames, tiff::ImageInfo& im) {
  const std::uint64_t tiles = std::uint64_t{im.tiles_across()} * im.tiles_down();
  std::vector<bool> filled(tiles, false);
  const std::uint32_t planes = im.planes();
  for (std::size_t part = 0; part < group.size(); ++part) {
    const Instance& in = *group[part];
    for (std::size_t k = 0; k < frames[part].size(); ++k) {
      const std::uint64_t tile = in.concatenation_frame_offset + k;
      if (tile >= tiles) continue;
      filled[tile] = true;
      const std::uint64_t plane_bytes = frames[part][k].length / planes;
      for (std::uint32_t p = 0; p < planes; ++p) {
        const std::size_t number = static_cast<std::size_t>(std::uint64_t{p} * tiles + tile);
        im.tile_offsets[number] = io::FileSeries::base_of(in.file) + frames[part][k].offset + p * plane_bytes;
        im.tile_byte_counts[number] = planes == 1 ? frames[part][k].length : plane_bytes;
      }
    }
  }
  const auto missing = std::find(filled.begin(), filled.end(), false);
  check<FormatError>(missing == filled.end(), group.front()->path, ": a TILED_FULL image of ", im.tiles_across(), " x ",
                     im.tiles_down(), " tiles needs ", tiles, " frames; frame ", (missing - filled.begin()) + 1,
                     " is missing (NumberOfFrames ", group.front()->frames,
                     group.size() > 1 ? concat(" in the first of ", group.size(), " files") : std::string(), ")");
}

// The focal plane and optical path a TILED_SPARSE image is read at: the first optical path (the first
// item of OpticalPathSequence, where frames name it) and, of its frames, the lowest focal plane.
FramePosition first_plane(const Group& group) {
  FramePosition chosen = group.front()->positions.front();
  const DataSet* first_path = first_item(group.front()->parsed.data, make_tag(0x0048, 0x0105));
  const std::string listed = first_path == nullptr ? std::string()
                                                   : string(first_path->find(make_tag(0x0048, 0x0106))).value_or("");
  bool listed_used = false;
  for (const Instance* in : group)
    for (const FramePosition& at : in->positions) listed_used = listed_used || at.optical_path == listed;
  if (listed_used) chosen.optical_path = listed;
  for (const Instance* in : group)
    for (const FramePosition& at : in->positions)
      if (at.optical_path == chosen.optical_path && at.z < chosen.z) chosen.z = at.z;
  return chosen;
}

// TILED_SPARSE frames: each placed at its position; frames of other focal planes or optical paths than
// first_plane's are passed over; tiles without a frame stay empty (read as zeros).
void place_sparse(const Group& group, const std::vector<std::vector<FrameBytes>>& frames, tiff::ImageInfo& im) {
  const FramePosition chosen = first_plane(group);
  std::vector<std::uint64_t> frame_of(im.tile_offsets.size(), 0);  // 1-based frame filling each tile
  for (std::size_t part = 0; part < group.size(); ++part) {
    const Instance& in = *group[part];
    for (std::size_t k = 0; k < frames[part].size(); ++k) {
      const FramePosition& at = in.positions[k];
      if (at.z != chosen.z || at.optical_path != chosen.optical_path) continue;
      const std::uint64_t frame = in.concatenation_frame_offset + k + 1;
      if (at.column % im.tile_width != 0 || at.row % im.tile_height != 0 || at.column < 0 || at.row < 0 ||
          static_cast<std::uint64_t>(at.column) >= im.width || static_cast<std::uint64_t>(at.row) >= im.height) {
        im.unsupported_reason = concat(in.path, ": frame ", k + 1, " lies at column ", at.column + 1, ", row ",
                                       at.row + 1, ", off the grid of ", im.tile_width, " x ", im.tile_height,
                                       " tiles inside the ", im.width, " x ", im.height, " pixel matrix");
        return;
      }
      const std::size_t number = im.tile_number(static_cast<std::uint32_t>(at.column / im.tile_width),
                                                static_cast<std::uint32_t>(at.row / im.tile_height));
      check<FormatError>(frame_of[number] == 0, in.path, ": frames ", frame_of[number], " and ", frame,
                         " both lie at column ", at.column + 1, ", row ", at.row + 1);
      frame_of[number] = frame;
      im.tile_offsets[number] = io::FileSeries::base_of(in.file) + frames[part][k].offset;
      im.tile_byte_counts[number] = frames[part][k].length;
    }
  }
}

tiff::ImageInfo image_of(const Group& group, const std::vector<const io::ByteSource*>& files,
                         const tiff::PixelOptions& pixels) {
  const Instance& first = *group.front();
  tiff::ImageInfo im;
  im.ifd_number = static_cast<std::uint32_t>(first.file);
  im.ifd_label = label_of(group);
  im.width = first.width;
  im.height = first.height;
  im.tiled = true;
  im.tile_width = first.tile_width;
  im.tile_height = first.tile_height;
  im.bilevel_max = pixels.bilevel_max;
  describe_pixels(first, pixels, im);
  const std::uint64_t tiles = std::uint64_t{im.tiles_across()} * im.tiles_down();
  check<FormatError>(tiles * im.planes() <= (std::uint64_t{1} << 26), first.path, ": ", tiles, " tiles of ",
                     im.tile_width, " x ", im.tile_height, " is more than a slide is read with");
  // The tile index grows with the pixel matrix, not with the files: a frame holds a tile's bytes, so
  // more tiles than the files hold bytes is a matrix no file fills (a hostile one would make a
  // gigabyte index of a kilobyte file). Small images pass whatever their files.
  std::uint64_t held = 0;
  for (const Instance* in : group) held += files[in->file]->size();
  check<FormatError>(tiles * im.planes() <= std::max<std::uint64_t>(held, std::uint64_t{1} << 16), first.path, ": ",
                     im.width, " x ", im.height, " pixels in ", tiles, " tiles of ", im.tile_width, " x ",
                     im.tile_height, " and ", held, " bytes of file", group.size() > 1 ? "s" : "",
                     ": more tiles than bytes");
  im.tile_offsets.assign(tiles * im.planes(), 0);
  im.tile_byte_counts.assign(tiles * im.planes(), 0);
  if (!im.unsupported_reason.empty()) return im;
  // Damage in one image (frames missing or past the end of its file) leaves the slide's other images
  // readable: it is kept as the image's reason, and reading the image throws it.
  try {
    std::vector<std::vector<FrameBytes>> frames;
    for (const Instance* in : group)
      frames.push_back(locate_frames(*files[in->file], in->parsed, in->frames, in->native_frame_bytes()));
    if (first.tiled_full) {
      place_full(group, frames, im);
    } else {
      place_sparse(group, frames, im);
    }
  } catch (const FormatError& e) {
    im.unsupported_reason = e.what();
    im.malformed = true;
  } catch (const UnsupportedError& e) {
    im.unsupported_reason = e.what();
  }
  if (!im.unsupported_reason.empty()) {
    std::fill(im.tile_offsets.begin(), im.tile_offsets.end(), 0);
    std::fill(im.tile_byte_counts.begin(), im.tile_byte_counts.end(), 0);
  }
  return im;
}

// The instances of each kind, grouped: a concatenation's parts together (by InConcatenationNumber),
// every other instance alone; groups in the order of their first file.
std::vector<Group> groups_of(const std::vector<Instance>& instances) {
  std::vector<Group> groups;
  std::map<std::string, std::size_t> by_concatenation;
  for (const Instance& in : instances) {
    if (in.concatenation_uid.empty()) {
      groups.push_back({&in});
      continue;
    }
    const auto [it, fresh] = by_concatenation.emplace(in.concatenation_uid, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&in);
  }
  for (Group& g : groups)
    std::stable_sort(g.begin(), g.end(), [](const Instance* a, const Instance* b) {
      return a->in_concatenation_number < b->in_concatenation_number;
    });
  return groups;
}

// The index of `files`, parsed already (parsed[k] is files[k]'s).
tiff::SlideIndex index_parsed(const std::vector<const io::ByteSource*>& files, std::vector<ParsedFile> parsed,
                              const std::string& name, const tiff::PixelOptions& pixels) {
  std::vector<Instance> instances;
  std::set<std::string> series;
  for (std::size_t k = 0; k < files.size(); ++k) {
    if (sop_class_of(parsed[k]) != wsi_sop_class) continue;
    series.insert(series_of(parsed[k]));
    instances.push_back(describe_instance(k, files[k]->name(), std::move(parsed[k])));
  }
  check<FormatError>(!instances.empty(), name, ": no VL Whole Slide Microscopy image (SOP class ", wsi_sop_class,
                     ") among ", files.size(), " DICOM file", files.size() == 1 ? "" : "s");
  check<UsageError>(series.size() == 1, name, ": the files hold ", series.size(),
                    " whole slide image series; open one of the files of the series wanted");

  tiff::SlideIndex index;
  index.path = name;
  for (const io::ByteSource* f : files) index.file_size += f->size();
  index.vendor = "dicom";
  index.format = "DICOM";
  index.file_count = files.size();
  index.stored_samples = pixels.stored_samples;
  std::vector<tiff::ImageInfo> levels;
  std::vector<const Instance*> level_firsts;
  std::set<std::pair<std::uint64_t, std::uint64_t>> level_sizes;
  static const std::map<std::string, std::string> associated_names = {
      {"LABEL", "label"}, {"OVERVIEW", "macro"}, {"THUMBNAIL", "thumbnail"}};
  for (const Group& group : groups_of(instances)) {
    const Instance& first = *group.front();
    if (first.flavor == "VOLUME") {
      // One instance per size: further ones (other focal planes or optical paths kept in their own
      // files) are passed over, as the first frame's plane is in sparse files.
      if (!level_sizes.insert({first.width, first.height}).second) continue;
      levels.push_back(image_of(group, files, pixels));
      level_firsts.push_back(&first);
      continue;
    }
    const auto named = associated_names.find(first.flavor);
    if (named == associated_names.end()) continue;
    const bool taken = std::any_of(index.associated.begin(), index.associated.end(),
                                   [&](const tiff::AssociatedImage& a) { return a.name == named->second; });
    if (taken) continue;
    index.associated.push_back({named->second, image_of(group, files, pixels)});
    if (const std::uint64_t icc = icc_size(first))
      index.properties[concat("openslide.associated.", named->second, ".icc-size")] = std::to_string(icc);
  }
  check<FormatError>(!levels.empty(), name, ": no VOLUME image (ImageType's third value) in the series");
  const auto base = std::max_element(level_firsts.begin(), level_firsts.end(), [](const Instance* a, const Instance* b) {
    return a->width < b->width;
  });
  tiff::set_levels(index, levels);
  for (const tiff::Level& level : index.levels) index.images.push_back(level.image);
  for (const tiff::AssociatedImage& a : index.associated) index.images.push_back(a.image);

  add_properties((*base)->parsed.meta, index.properties);
  add_properties((*base)->parsed.data, index.properties);
  index.properties["openslide.vendor"] = "dicom";
  if (const std::uint64_t icc = icc_size(**base)) index.properties["openslide.icc-size"] = std::to_string(icc);
  const auto spacing_key = std::string("dicom.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing");
  const auto row_spacing = index.properties.find(spacing_key + "[0]");
  const auto column_spacing = index.properties.find(spacing_key + "[1]");
  if (row_spacing != index.properties.end() && column_spacing != index.properties.end()) {
    // PixelSpacing is (row, column) spacing in millimetres.
    if (const auto y = tiff::parse_openslide_double(row_spacing->second))
      index.properties["openslide.mpp-y"] = tiff::openslide_double(*y * 1000);
    if (const auto x = tiff::parse_openslide_double(column_spacing->second))
      index.properties["openslide.mpp-x"] = tiff::openslide_double(*x * 1000);
  }
  // OpenSlide's objective power is the optical path's ObjectiveLensPower, read and printed as a number.
  if (const auto power = index.properties.find("dicom.OpticalPathSequence[0].ObjectiveLensPower");
      power != index.properties.end()) {
    if (const auto value = tiff::parse_openslide_double(power->second))
      index.properties["openslide.objective-power"] = tiff::openslide_double(*value);
  }
  // OpenSlide's quickhash-1 of a DICOM slide hashes its Series Instance UID (with the C string's NUL).
  Sha256 hash;
  hash.update(*series.begin());
  hash.update(std::string_view("\0", 1));
  index.properties["openslide.quickhash-1"] = hash.hex_digest();
  tiff::add_layout_properties(index);
  return index;
}

// The series' files and what parsing each gave.
OpenedSeries index_files(std::string name, const std::vector<std::string>& paths, std::vector<ParsedFile> parsed,
                         const tiff::PixelOptions& pixels) {
  auto source = std::make_shared<const io::FileSeries>(std::move(name), paths);
  std::vector<const io::ByteSource*> files;
  for (std::size_t k = 0; k < source->count(); ++k) files.push_back(&source->file(k));
  return {source, index_parsed(files, std::move(parsed), source->name(), pixels)};
}

}  // namespace

bool is_dicom(const io::ByteSource& source) { return has_dicom_prefix(source); }

bool is_dicom_path(const std::string& path) {
  if (is_folder(path)) return true;
  try {
    return is_dicom(io::ReadFile(path));
  } catch (const IoError&) {
    return false;  // the TIFF path reports what is wrong with it
  }
}

tiff::SlideIndex index_series(const std::vector<const io::ByteSource*>& files, const std::string& name,
                              const tiff::PixelOptions& pixels) {
  std::vector<ParsedFile> parsed;
  for (const io::ByteSource* file : files) parsed.push_back(parse_file(*file));
  return index_parsed(files, std::move(parsed), name, pixels);
}

OpenedSeries open_files(const std::vector<std::string>& paths, const tiff::PixelOptions& pixels) {
  check<UsageError>(!paths.empty(), "open: no file given");
  std::vector<ParsedFile> parsed;
  for (const std::string& p : paths) parsed.push_back(parse_file(io::ReadFile(p)));  // names a non-DICOM file
  return index_files(paths.size() == 1 ? paths.front() : concat(paths.front(), " and ", paths.size() - 1, " more"),
                     paths, std::move(parsed), pixels);
}

OpenedSeries open_series(const std::string& path, const tiff::PixelOptions& pixels) {
  const bool folder = is_folder(path);
  const std::string where = folder ? path : folder_of(path);
  std::vector<std::string> paths = dicom_files_in(where);
  check<FormatError>(!paths.empty(), where,
                     ": no DICOM file in the folder (a folder opens as a DICOM whole slide image series)");
  // Each file parsed once: a folder takes all of them; a file, the files of the folder with its Series
  // Instance UID.
  std::vector<ParsedFile> parsed;
  if (folder) {
    for (const std::string& p : paths) parsed.push_back(parse_file(io::ReadFile(p)));
    return index_files(path, paths, std::move(parsed), pixels);
  }
  ParsedFile given = parse_file(io::ReadFile(path));
  const std::string wanted = series_of(given);
  std::vector<std::string> mine;
  for (const std::string& p : paths) {
    if (p == path || base_name(p) == base_name(path)) {
      mine.push_back(p);
      parsed.push_back(std::move(given));
      continue;
    }
    // A neighbour that does not parse is passed over, as OpenSlide passes it over: it may be anything
    // (another slide's broken file); a broken file of this series shows as a level or image missing.
    try {
      ParsedFile neighbour = parse_file(io::ReadFile(p));
      if (series_of(neighbour) != wanted) continue;
      mine.push_back(p);
      parsed.push_back(std::move(neighbour));
    } catch (const Error&) {
    }
  }
  return index_files(path, mine, std::move(parsed), pixels);
}

}  // namespace tilestream::dicom
