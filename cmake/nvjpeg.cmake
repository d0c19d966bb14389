# nvjpeg.h for the GPU JPEG decode stage (src/codec/nvjpeg.cpp). libnvjpeg itself is never linked:
# src/codec/nvjpeg.cpp loads it with dlopen at first use, so tilestream builds and runs where it is
# absent. The header comes with the CUDA toolkit, else from the nvidia-nvjpeg wheel that
# scripts/install-deps.sh installs into .venv. Without it, `--decode auto` decodes on the CPU and
# `--decode gpu` says nvJPEG is unavailable.
file(GLOB TILESTREAM_VENV_NVJPEG_INCLUDE_DIRS
     ${CMAKE_SOURCE_DIR}/.venv/lib/python3*/site-packages/nvidia/cu13/include)
find_path(TILESTREAM_NVJPEG_INCLUDE_DIR nvjpeg.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS} ${TILESTREAM_VENV_NVJPEG_INCLUDE_DIRS})
if(TILESTREAM_NVJPEG_INCLUDE_DIR)
  message(STATUS "tilestream: nvJPEG through dlopen, nvjpeg.h from ${TILESTREAM_NVJPEG_INCLUDE_DIR}")
else()
  message(STATUS "tilestream: nvjpeg.h not found, GPU JPEG decoding is built as a stub that reports it "
                 "is unavailable")
endif()

# Gives `target` (the library) nvjpeg.h as a private include (the public header keeps nvJPEG types
# out) and dlopen.
function(tilestream_use_nvjpeg target)
  if(TILESTREAM_NVJPEG_INCLUDE_DIR)
    target_include_directories(${target} SYSTEM PRIVATE ${TILESTREAM_NVJPEG_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE TILESTREAM_HAVE_NVJPEG_H=1)
  endif()
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
endfunction()
