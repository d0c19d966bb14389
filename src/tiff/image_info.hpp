// Turns one IFD into a validated ImageInfo: dimensions, layout, compression, tile offsets.
#pragma once

#include "tiff/ifd_reader.hpp"

namespace tilestream::tiff::detail {

// Throws FormatError (inconsistent tags, offsets past the end, absurd sizes) or UnsupportedError
// (valid TIFF features we do not read: bit depths, sample formats, photometrics the table does not
// convert), naming file and IFD. `pixels` decides whether stored samples go through the table.
ImageInfo build_image_info(const IfdReader& reader, const Ifd& ifd, std::uint32_t ifd_number,
                           const ParseLimits& limits, const PixelOptions& pixels);

}  // namespace tilestream::tiff::detail
