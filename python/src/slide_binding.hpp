// tilestream.Slide: a whole-slide image opened for reading, with OpenSlide's names (dimensions,
// level_count, level_dimensions, level_downsamples, properties, associated_images,
// get_best_level_for_downsample, read_region) and pixels as NumPy arrays. Every read releases the GIL,
// and one Slide may be read from many Python threads at once.
#pragma once

#include <nanobind/nanobind.h>

namespace tilestream::python {

void bind_slide(nanobind::module_& m);

}  // namespace tilestream::python
