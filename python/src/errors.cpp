#include "errors.hpp"

#include <array>
#include <exception>

#include "tilestream/core/error.hpp"

namespace nb = nanobind;

namespace tilestream::python {
namespace {

struct ErrorClass {
  ErrorKind kind;
  const char* name;
  PyObject* builtin;  // the built-in base beside tilestream.Error
  const char* doc;
};

// One row per ErrorKind, in its order (tests/python_api/test_errors.py checks every class).
std::array<ErrorClass, 8> error_classes() {
  return {{
      {ErrorKind::format, "FormatError", PyExc_ValueError,
       "The file is not a valid slide, or its structure contradicts itself (offsets past the end, loops)."},
      {ErrorKind::codec, "CodecError", PyExc_ValueError, "A tile's compressed bytes could not be decoded."},
      {ErrorKind::unsupported, "UnsupportedError", PyExc_ValueError,
       "Valid input that uses a feature tilestream does not implement (a compression, a sample format)."},
      {ErrorKind::io, "IoError", PyExc_OSError,
       "A system call on a file failed, or a file is shorter than its index says."},
      {ErrorKind::cuda, "CudaError", PyExc_RuntimeError, "A CUDA call or kernel failed."},
      {ErrorKind::usage, "UsageError", PyExc_ValueError, "Bad arguments: the message names the argument."},
      {ErrorKind::resource, "ResourceError", PyExc_MemoryError,
       "Not enough host or device memory for what was asked, found before allocating it."},
      {ErrorKind::stopped, "StoppedError", PyExc_RuntimeError,
       "A run stopped on request; the store it leaves is finished by running it again with resume=True. "
       "(convert and process re-raise what stopped them instead: KeyboardInterrupt, or the exception of the "
       "progress callback.)"},
  }};
}

// The classes, by ErrorKind; they live as long as the interpreter (module attributes hold them too).
std::array<PyObject*, 8> classes{};

}  // namespace

void bind_errors(nb::module_& m) {
  PyObject* base = PyErr_NewExceptionWithDoc("tilestream.Error", "Every error tilestream raises.", PyExc_Exception,
                                             nullptr);
  if (base == nullptr) throw nb::python_error();
  m.attr("Error") = nb::handle(base);
  for (const ErrorClass& c : error_classes()) {
    const nb::tuple bases = nb::make_tuple(nb::handle(base), nb::handle(c.builtin));
    PyObject* type = PyErr_NewExceptionWithDoc(("tilestream." + std::string(c.name)).c_str(), c.doc, bases.ptr(),
                                               nullptr);
    if (type == nullptr) throw nb::python_error();
    classes[static_cast<std::size_t>(c.kind)] = type;
    m.attr(c.name) = nb::handle(type);
  }
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(classes[static_cast<std::size_t>(e.kind())], e.what());
    }
  });
}

}  // namespace tilestream::python
