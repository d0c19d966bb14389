// Host images handed to Python as NumPy arrays without a copy: the array owns the image.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>

#include "tilestream/core/host_image.hpp"

namespace tilestream::python {

using NumpyArray = nanobind::ndarray<nanobind::numpy>;

// The NumPy dtype of a tilestream sample type.
nanobind::dlpack::dtype numpy_dtype(DType dtype);
// An (h, w, samples) array that takes ownership of `image`. Needs the GIL.
NumpyArray to_numpy(HostImage image);
// An (n, rows, w, samples) array of `n` images of `rows` rows stacked in `image`, taking ownership.
NumpyArray to_numpy_batch(HostImage image, std::size_t n, std::size_t rows);

}  // namespace tilestream::python
