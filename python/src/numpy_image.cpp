#include "numpy_image.hpp"

#include <cstdint>
#include <memory>

namespace nb = nanobind;

namespace tilestream::python {

nb::dlpack::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::uint8: return nb::dtype<std::uint8_t>();
    case DType::uint16: return nb::dtype<std::uint16_t>();
    case DType::int8: return nb::dtype<std::int8_t>();
    case DType::int16: return nb::dtype<std::int16_t>();
    case DType::float32: return nb::dtype<float>();
    case DType::uint32: return nb::dtype<std::uint32_t>();
    case DType::int32: return nb::dtype<std::int32_t>();
    case DType::float16: return nb::dlpack::dtype{static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
  }
  return nb::dtype<std::uint8_t>();
}

namespace {

NumpyArray owning_array(HostImage image, std::size_t ndim, const std::size_t* shape) {
  auto held = std::make_unique<HostImage>(std::move(image));
  std::byte* data = held->data();
  const nb::dlpack::dtype dtype = numpy_dtype(held->dtype());
  // The capsule owns the image from here on; NumPy keeps the capsule as the array's base.
  nb::capsule owner(held.release(), [](void* p) noexcept { delete static_cast<HostImage*>(p); });
  return NumpyArray(data, ndim, shape, owner, nullptr, dtype);
}

}  // namespace

NumpyArray to_numpy(HostImage image) {
  const std::size_t shape[3] = {static_cast<std::size_t>(image.height()), static_cast<std::size_t>(image.width()),
                                image.samples()};
  return owning_array(std::move(image), 3, shape);
}

NumpyArray to_numpy_batch(HostImage image, std::size_t n, std::size_t rows) {
  const std::size_t shape[4] = {n, rows, static_cast<std::size_t>(image.width()), image.samples()};
  return owning_array(std::move(image), 4, shape);
}

}  // namespace tilestream::python
