// The C++ half of tilestream.PatchLoader (python/tilestream/_patches.py): grids of patches over a
// level (kept where a mask is set), the epoch's order, and the stream that reads batches ahead on
// worker threads (slide/patch_plan, slide/patch_stream), handing them out as NumPy arrays or, copied
// to the GPU on the workers, as DeviceArrays.
#pragma once

#include <nanobind/nanobind.h>

namespace tilestream::python {

void bind_patch_loader(nanobind::module_& m);

}  // namespace tilestream::python
