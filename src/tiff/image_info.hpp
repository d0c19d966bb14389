// Turns one IFD into a validated ImageInfo: dimensions, layout, compression, tile offsets.
#pragma once

#include "tiff/ifd_reader.hpp"

namespace tilestream::tiff::detail {

// Throws FormatError (inconsistent tags, offsets past the end, absurd sizes) or UnsupportedError
// (valid TIFF features we do not read: bit depths, sample formats), naming file and IFD.
ImageInfo build_image_info(const IfdReader& reader, const Ifd& ifd, std::uint32_t ifd_number,
                           const ParseLimits& limits);

}  // namespace tilestream::tiff::detail
