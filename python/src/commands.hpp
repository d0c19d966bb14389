// tilestream.convert() and tilestream.process() (python/tilestream/_commands.py): the command line's
// sub-commands run in-process with the same options, on a thread of their own, while the calling
// thread hands progress to Python and turns Ctrl-C (or an exception from the progress callback) into a
// clean stop: the blocks being written are committed, and resume=True finishes the store.
#pragma once

#include <nanobind/nanobind.h>

namespace tilestream::python {

void bind_commands(nanobind::module_& m);

}  // namespace tilestream::python
