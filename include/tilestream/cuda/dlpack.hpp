// The DLPack v0.8 C ABI (the unversioned DLManagedTensor exchanged by __dlpack__ and from_dlpack), the
// subset tilestream exports: written from the public specification, layout-compatible with dlpack.h.
// In our namespace so that code which also includes the real dlpack.h does not see two definitions;
// pointers to these structs may be passed where dlpack.h's are expected (same standard layout).
#pragma once

#include <cstdint>

namespace tilestream::cuda {

typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
} DLDeviceType;

typedef struct {
  std::int32_t device_type;  // a DLDeviceType
  std::int32_t device_id;
} DLDevice;

typedef enum {
  kDLInt = 0U,
  kDLUInt = 1U,
  kDLFloat = 2U,
} DLDataTypeCode;

typedef struct {
  std::uint8_t code;  // a DLDataTypeCode
  std::uint8_t bits;
  std::uint16_t lanes;
} DLDataType;

typedef struct {
  void* data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t* shape;    // ndim entries
  std::int64_t* strides;  // ndim entries, in elements; null means C order
  std::uint64_t byte_offset;
} DLTensor;

typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;

}  // namespace tilestream::cuda
