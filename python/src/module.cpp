// The extension module tilestream._tilestream: the C++ library's API for Python. The package
// (python/tilestream/__init__.py) re-exports it; no pixel logic lives in Python.
#include <nanobind/nanobind.h>

#include "commands.hpp"
#include "device_array.hpp"
#include "errors.hpp"
#include "patch_loader.hpp"
#include "slide_binding.hpp"

NB_MODULE(_tilestream, m) {
  m.doc() = "tilestream's C++ engine: slides read into NumPy arrays, with the GIL released.";
  m.attr("__version__") = TILESTREAM_VERSION;
  m.attr("with_cuda") = static_cast<bool>(TILESTREAM_WITH_CUDA);
  tilestream::python::bind_errors(m);
  tilestream::python::bind_device_array(m);
  tilestream::python::bind_slide(m);
  tilestream::python::bind_patch_loader(m);
  tilestream::python::bind_commands(m);
}
