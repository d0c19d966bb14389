// Where each frame of a file's Pixel Data lies: native frames back to back, or encapsulated frames
// (one fragment each) found through the Extended Offset Table, else by walking the fragments (the
// Basic Offset Table, when there is one, must agree with them).
#pragma once

#include <cstdint>
#include <vector>

#include "dicom/data_set.hpp"

namespace tilestream::dicom {

struct FrameBytes {
  std::uint64_t offset = 0;  // in the file
  std::uint64_t length = 0;
};

// The first `frames` frames of `file` (NumberOfFrames), each `native_frame_bytes` long when the pixels
// are not encapsulated. FormatError naming the file and the first missing frame (1-based, as DICOM
// numbers them) when the Pixel Data holds fewer frames or a frame lies past the end of the file;
// UnsupportedError naming the frame when one spans several fragments.
std::vector<FrameBytes> locate_frames(const io::ByteSource& source, const ParsedFile& file, std::uint64_t frames,
                                      std::uint64_t native_frame_bytes);

}  // namespace tilestream::dicom
