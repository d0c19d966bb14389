// describe_instance: the attributes of a WSI instance the slide index is built from.
#include "dicom/instance.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::dicom {
namespace {

namespace tag {
constexpr std::uint32_t sop_class = make_tag(0x0008, 0x0016);
constexpr std::uint32_t media_sop_class = make_tag(0x0002, 0x0002);
constexpr std::uint32_t sop_instance = make_tag(0x0008, 0x0018);
constexpr std::uint32_t image_type = make_tag(0x0008, 0x0008);
constexpr std::uint32_t series_instance = make_tag(0x0020, 0x000E);
constexpr std::uint32_t instance_number = make_tag(0x0020, 0x0013);
constexpr std::uint32_t dimension_organization_type = make_tag(0x0020, 0x9311);
constexpr std::uint32_t concatenation_uid = make_tag(0x0020, 0x9161);
constexpr std::uint32_t in_concatenation_number = make_tag(0x0020, 0x9162);
constexpr std::uint32_t concatenation_frame_offset = make_tag(0x0020, 0x9228);
constexpr std::uint32_t samples_per_pixel = make_tag(0x0028, 0x0002);
constexpr std::uint32_t photometric = make_tag(0x0028, 0x0004);
constexpr std::uint32_t planar_configuration = make_tag(0x0028, 0x0006);
constexpr std::uint32_t number_of_frames = make_tag(0x0028, 0x0008);
constexpr std::uint32_t rows = make_tag(0x0028, 0x0010);
constexpr std::uint32_t columns = make_tag(0x0028, 0x0011);
constexpr std::uint32_t bits_allocated = make_tag(0x0028, 0x0100);
constexpr std::uint32_t bits_stored = make_tag(0x0028, 0x0101);
constexpr std::uint32_t pixel_representation = make_tag(0x0028, 0x0103);
constexpr std::uint32_t total_columns = make_tag(0x0048, 0x0006);
constexpr std::uint32_t total_rows = make_tag(0x0048, 0x0007);
constexpr std::uint32_t per_frame_groups = make_tag(0x5200, 0x9230);
constexpr std::uint32_t plane_position_slide = make_tag(0x0048, 0x021A);
constexpr std::uint32_t column_position = make_tag(0x0048, 0x021E);
constexpr std::uint32_t row_position = make_tag(0x0048, 0x021F);
constexpr std::uint32_t z_offset = make_tag(0x0040, 0x074A);
constexpr std::uint32_t optical_path_identification = make_tag(0x0048, 0x0207);
constexpr std::uint32_t optical_path_identifier = make_tag(0x0048, 0x0106);
}  // namespace tag

// A required whole number within [low, high]; FormatError naming file and attribute otherwise.
std::uint64_t required(const Instance& in, const DataSet& set, std::uint32_t t, const char* name, std::uint64_t low,
                       std::uint64_t high) {
  const Element* e = set.find(t);
  const std::optional<std::uint64_t> value = whole_number(e);
  check<FormatError>(e != nullptr, in.path, ": no ", name, " ", tag_text(t));
  // Binary values (US, UL) have no text: their number is what the message shows.
  const std::optional<double> written = number(e);
  check<FormatError>(value && *value >= low && *value <= high, in.path, ": ", name, " ", tag_text(t), " at offset ",
                     e->offset, " is ", written ? concat(*written) : string(e).value_or("not a number"),
                     ", not a whole number in [", low, ", ", high, "]");
  return *value;
}

std::uint64_t optional_number(const Instance& in, const DataSet& set, std::uint32_t t, const char* name,
                              std::uint64_t fallback, std::uint64_t low, std::uint64_t high) {
  return set.find(t) == nullptr ? fallback : required(in, set, t, name, low, high);
}

std::int64_t position(const Instance& in, const DataSet& plane, std::uint32_t t, const char* name,
                      std::size_t frame) {
  const Element* e = plane.find(t);
  const std::optional<double> value = number(e);
  check<FormatError>(value && *value >= 1 && *value <= 9.0e15, in.path, ": frame ", frame + 1, ": ", name, " ",
                     tag_text(t), e == nullptr ? " is missing" : " is not a position of at least 1");
  return static_cast<std::int64_t>(*value) - 1;
}

void read_positions(Instance& in) {
  const Element* groups = in.parsed.data.find(tag::per_frame_groups);
  if (groups == nullptr) return;
  check<FormatError>(groups->items.size() >= in.frames, in.path, ": PerFrameFunctionalGroupsSequence ",
                     tag_text(tag::per_frame_groups), " holds ", groups->items.size(), " items for ", in.frames,
                     " frames: frame ", groups->items.size() + 1, " has no position");
  std::vector<FramePosition> positions(in.frames);
  for (std::size_t k = 0; k < in.frames; ++k) {
    const DataSet& item = groups->items[k];
    const DataSet* plane = first_item(item, tag::plane_position_slide);
    if (plane == nullptr) {
      check<FormatError>(!in.tiled_full || k == 0, in.path, ": frame ", k + 1, " has no PlanePositionSlideSequence");
      return;  // TILED_FULL files need not state positions
    }
    positions[k].column = position(in, *plane, tag::column_position, "ColumnPositionInTotalImagePixelMatrix", k);
    positions[k].row = position(in, *plane, tag::row_position, "RowPositionInTotalImagePixelMatrix", k);
    positions[k].z = number(plane->find(tag::z_offset)).value_or(0.0);
    if (const DataSet* path = first_item(item, tag::optical_path_identification))
      positions[k].optical_path = string(path->find(tag::optical_path_identifier)).value_or("");
  }
  in.positions = std::move(positions);
}

}  // namespace

std::string sop_class_of(const ParsedFile& parsed) {
  if (auto uid = string(parsed.data.find(tag::sop_class))) return *uid;
  return string(parsed.meta.find(tag::media_sop_class)).value_or("");
}

std::string series_of(const ParsedFile& parsed) { return string(parsed.data.find(tag::series_instance)).value_or(""); }

Instance describe_instance(std::size_t file, const std::string& path, ParsedFile parsed) {
  Instance in;
  in.file = file;
  in.path = path;
  in.parsed = std::move(parsed);
  const DataSet& d = in.parsed.data;
  in.sop_instance_uid = string(d.find(tag::sop_instance)).value_or("");
  in.series_uid = series_of(in.parsed);
  const std::vector<std::string> type = strings(d.find(tag::image_type));
  check<FormatError>(type.size() >= 3, in.path, ": ImageType ", tag_text(tag::image_type), " has ", type.size(),
                     " values; a whole slide image has at least 3 (its third: VOLUME, LABEL, OVERVIEW or THUMBNAIL)");
  in.flavor = type[2];
  in.instance_number = static_cast<std::int64_t>(number(d.find(tag::instance_number)).value_or(0));
  in.tile_width = static_cast<std::uint32_t>(required(in, d, tag::columns, "Columns", 1, 65535));
  in.tile_height = static_cast<std::uint32_t>(required(in, d, tag::rows, "Rows", 1, 65535));
  in.width = optional_number(in, d, tag::total_columns, "TotalPixelMatrixColumns", in.tile_width, 1, 1u << 30);
  in.height = optional_number(in, d, tag::total_rows, "TotalPixelMatrixRows", in.tile_height, 1, 1u << 30);
  in.frames = optional_number(in, d, tag::number_of_frames, "NumberOfFrames", 1, 1, 1u << 26);
  in.samples = static_cast<std::uint32_t>(required(in, d, tag::samples_per_pixel, "SamplesPerPixel", 1, 4));
  in.bits_allocated = static_cast<std::uint32_t>(required(in, d, tag::bits_allocated, "BitsAllocated", 1, 64));
  in.pixel_representation =
      static_cast<std::uint32_t>(optional_number(in, d, tag::pixel_representation, "PixelRepresentation", 0, 0, 1));
  in.planar_configuration =
      static_cast<std::uint32_t>(optional_number(in, d, tag::planar_configuration, "PlanarConfiguration", 0, 0, 1));
  (void)optional_number(in, d, tag::bits_stored, "BitsStored", in.bits_allocated, 1, in.bits_allocated);
  in.photometric = string(d.find(tag::photometric)).value_or("");
  check<FormatError>(!in.photometric.empty(), in.path, ": no PhotometricInterpretation ", tag_text(tag::photometric));
  const std::string organization = string(d.find(tag::dimension_organization_type)).value_or("");
  in.tiled_full = organization == "TILED_FULL";
  in.concatenation_uid = string(d.find(tag::concatenation_uid)).value_or("");
  if (!in.concatenation_uid.empty()) {
    in.concatenation_frame_offset =
        optional_number(in, d, tag::concatenation_frame_offset, "ConcatenationFrameOffsetNumber", 0, 0, 1u << 26);
    in.in_concatenation_number = static_cast<std::uint32_t>(
        optional_number(in, d, tag::in_concatenation_number, "InConcatenationNumber", 1, 1, 1u << 20));
  }
  read_positions(in);
  // Without TILED_FULL, frames are placed by their positions; a file with neither is read in
  // TILED_FULL order, as a single-frame associated image is.
  if (!in.tiled_full && in.positions.empty()) in.tiled_full = true;
  if (in.tiled_full) in.positions.clear();
  return in;
}

}  // namespace tilestream::dicom
