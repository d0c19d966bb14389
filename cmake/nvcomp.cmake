# nvcomp.h for GPU chunk compression (src/zarr/nvcomp.cpp, src/zarr/device_encoder.cpp). libnvcomp
# itself is never linked: src/zarr/nvcomp.cpp loads it with dlopen at first use, so tilestream builds
# and runs where it is absent. The header comes with the CUDA toolkit where nvCOMP is installed there,
# else from the nvidia-libnvcomp-cu13 wheel that scripts/install-deps.sh installs into .venv. Without
# it, every nvCOMP entry point throws UnsupportedError.
file(GLOB TILESTREAM_VENV_NVCOMP_INCLUDE_DIRS
     ${CMAKE_SOURCE_DIR}/.venv/lib/python3*/site-packages/nvidia/libnvcomp/include)
find_path(TILESTREAM_NVCOMP_INCLUDE_DIR nvcomp.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS} ${TILESTREAM_VENV_NVCOMP_INCLUDE_DIRS}
                # the copy bench/device/fetch-nvcomp.sh makes for the GPU machine, which has no nvCOMP
                ${CMAKE_SOURCE_DIR}/.nvcomp/include)
if(TILESTREAM_NVCOMP_INCLUDE_DIR)
  message(STATUS "tilestream: nvCOMP (GPU chunk compression) through dlopen, nvcomp.h from "
                 "${TILESTREAM_NVCOMP_INCLUDE_DIR}")
else()
  message(STATUS "tilestream: nvcomp.h not found, GPU chunk compression is built as a stub that reports "
                 "it is unavailable")
endif()

# Gives `target` (the library) nvcomp.h as a private include (the public header keeps nvCOMP types
# out) and dlopen.
function(tilestream_use_nvcomp target)
  if(TILESTREAM_NVCOMP_INCLUDE_DIR)
    target_include_directories(${target} SYSTEM PRIVATE ${TILESTREAM_NVCOMP_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE TILESTREAM_HAVE_NVCOMP_H=1)
  endif()
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
endfunction()
