// One file of a VL Whole Slide Microscopy series as the slide index needs it: what kind of image it is
// (ImageType's third value), its pixel matrix and frames' size and sample layout, how its frames are
// organised (TILED_FULL, or TILED_SPARSE positions), its concatenation, and the codec its transfer
// syntax names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dicom/data_set.hpp"

namespace tilestream::dicom {

inline constexpr const char* wsi_sop_class = "1.2.840.10008.5.1.4.1.1.77.1.6";

// Where a TILED_SPARSE frame lies (per-frame Plane Position (Slide) and Optical Path Identification).
struct FramePosition {
  std::int64_t column = 0, row = 0;  // of its top-left pixel, 0-based (DICOM's are 1-based)
  double z = 0;                      // ZOffsetInSlideCoordinateSystem (0 when absent)
  std::string optical_path;          // OpticalPathIdentifier ("" when absent)
};

struct Instance {
  std::size_t file = 0;  // index among the series' files (io::FileSeries)
  std::string path;
  ParsedFile parsed;

  std::string sop_instance_uid;
  std::string series_uid;
  std::string flavor;          // VOLUME, LABEL, OVERVIEW, THUMBNAIL (ImageType[2])
  std::int64_t instance_number = 0;
  std::uint64_t width = 0, height = 0;   // TotalPixelMatrixColumns / Rows (Columns / Rows without them)
  std::uint32_t tile_width = 0, tile_height = 0;  // Columns, Rows
  std::uint64_t frames = 0;    // NumberOfFrames (1 when absent)
  std::uint32_t samples = 1;
  std::uint32_t bits_allocated = 8;
  std::uint32_t pixel_representation = 0;
  std::uint32_t planar_configuration = 0;
  std::string photometric;     // PhotometricInterpretation
  bool tiled_full = true;      // DimensionOrganizationType TILED_FULL (or frames without positions)
  std::vector<FramePosition> positions;  // TILED_SPARSE: one per frame
  std::string concatenation_uid;
  std::uint64_t concatenation_frame_offset = 0;  // ConcatenationFrameOffsetNumber
  std::uint32_t in_concatenation_number = 0;

  // Bytes of one native frame (all its planes).
  std::uint64_t native_frame_bytes() const {
    return std::uint64_t{tile_width} * tile_height * samples * (bits_allocated / 8);
  }
};

// The instance `parsed` describes. FormatError naming the file when an attribute the reader needs is
// missing or out of range.
Instance describe_instance(std::size_t file, const std::string& path, ParsedFile parsed);

// The SOP Class UID and Series Instance UID of a parsed file ("" when absent).
std::string sop_class_of(const ParsedFile& parsed);
std::string series_of(const ParsedFile& parsed);

}  // namespace tilestream::dicom
