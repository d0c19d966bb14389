// Saving host images to files a user can open: NumPy .npy (any dtype, shape height x width x
// samples) and PNG (1 to 4 samples, 8 or 16 bit unsigned). Written to a temporary name and renamed.
#pragma once

#include <string>

#include "tilestream/core/host_image.hpp"

namespace tilestream::image_io {

void save_npy(const HostImage& image, const std::string& path);
void save_png(const HostImage& image, const std::string& path);
// Chooses by extension (.npy or .png); UsageError for anything else.
void save_image(const HostImage& image, const std::string& path);

// Reads a .npy written by save_npy (or NumPy: C order, uint8/uint16/int8/int16, 2 or 3 dims).
HostImage load_npy(const std::string& path);

}  // namespace tilestream::image_io
