// hed: the constants and the uint8 table that the CPU op (src/ops/hed.cpp) and its CUDA twin
// (src/ops/hed.cu) both compute with, so that they use the very same values.
#pragma once

#include <array>

namespace tilestream::ops::detail {

// skimage.color.hed_from_rgb: the inverse of skimage's rgb_from_hed = [[0.65, 0.70, 0.29],
// [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]] (the haematoxylin, eosin and DAB stain vectors of Ruifrok
// and Johnston, 2001), which skimage computes at import with scipy.linalg.inv. These are the doubles
// that skimage 0.26 holds with scipy 1.17, written as Python's repr prints them (the shortest decimal
// that reads back as the same double, so they are exact). numpy.linalg.inv's result differs from
// them in the last bit of four entries; skimage uses scipy's. Row i: input channel R, G, B; column j:
// stain H, E, D.
inline constexpr std::array<std::array<double, 3>, 3> hed_from_rgb = {{
    {1.8779827368521356, -1.0076786862855642, -0.5561158181996246},
    {-0.06590806222356334, 1.1347303724996625, -0.13552179862837116},
    {-0.6019073634392891, -0.4804141884970579, 1.5735880719641926},
}};

// skimage's log_adjust = np.log(1e-6) (-0x1.ba18a998fffa0p+3), the optical density of the floor below.
inline constexpr double hed_log_adjust = -13.815510557964274;
// The floor skimage puts under the intensities before the log (np.maximum(rgb, 1e-6)): the double
// for integer input (whose img_as_float is float64), the float32 nearest 1e-6 for float32 input
// (numpy keeps the array's float32).
inline constexpr double hed_floor = 1e-6;
inline constexpr float hed_floor_float32 = static_cast<float>(1e-6);

// The optical density od = log(max(I * (1.0 / 255), 1e-6)) / log_adjust of each uint8 sample I, in
// double with std::log. The CUDA twin reads its uint8 densities from this table too, so that its
// uint8 output equals the CPU's bit for bit (CUDA's log differs from std::log on one of these inputs).
const std::array<double, 256>& hed_density_uint8();

}  // namespace tilestream::ops::detail
