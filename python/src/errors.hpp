// tilestream's errors as Python exceptions: one class per ErrorKind, each deriving from
// tilestream.Error and from the built-in exception a Python user would catch for it (OSError for
// files, ValueError for bad input or arguments, MemoryError for memory). Messages are the library's.
#pragma once

#include <nanobind/nanobind.h>

namespace tilestream::python {

// Creates the classes on module `m` and registers the translator of tilestream::Error.
void bind_errors(nanobind::module_& m);

}  // namespace tilestream::python
