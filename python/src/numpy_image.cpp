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
  }
  return nb::dtype<std::uint8_t>();
}

NumpyArray to_numpy(HostImage image) {
  auto held = std::make_unique<HostImage>(std::move(image));
  const std::size_t shape[3] = {static_cast<std::size_t>(held->height()), static_cast<std::size_t>(held->width()),
                                held->samples()};
  std::byte* data = held->data();
  const nb::dlpack::dtype dtype = numpy_dtype(held->dtype());
  // The capsule owns the image from here on; NumPy keeps the capsule as the array's base.
  nb::capsule owner(held.release(), [](void* p) noexcept { delete static_cast<HostImage*>(p); });
  return NumpyArray(data, 3, shape, owner, nullptr, dtype);
}

}  // namespace tilestream::python
