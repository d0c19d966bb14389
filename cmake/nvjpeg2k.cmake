# nvjpeg2k.h for the GPU JPEG 2000 decode stage (src/codec/nvjpeg2k.cpp). libnvjpeg2k itself is never
# linked: src/codec/nvjpeg2k.cpp loads it with dlopen at first use, so tilestream builds and runs where it
# is absent. nvJPEG2000 is not part of the CUDA toolkit: the header comes from the nvidia-nvjpeg2k-cu13
# wheel that scripts/install-deps.sh installs into .venv (or the copy bench/device/fetch-nvjpeg2k.sh makes
# for the GPU machine). Without it, `--decode auto` decodes JPEG 2000 on the CPU and `--decode gpu` says
# nvJPEG2000 is unavailable.
file(GLOB TILESTREAM_VENV_NVJPEG2K_INCLUDE_DIRS
     ${CMAKE_SOURCE_DIR}/.venv/lib/python3*/site-packages/nvidia/nvjpeg2k/include)
find_path(TILESTREAM_NVJPEG2K_INCLUDE_DIR nvjpeg2k.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS} ${TILESTREAM_VENV_NVJPEG2K_INCLUDE_DIRS}
                ${CMAKE_SOURCE_DIR}/.nvjpeg2k/include)
if(TILESTREAM_NVJPEG2K_INCLUDE_DIR)
  message(STATUS "tilestream: nvJPEG2000 through dlopen, nvjpeg2k.h from ${TILESTREAM_NVJPEG2K_INCLUDE_DIR}")
else()
  message(STATUS "tilestream: nvjpeg2k.h not found, GPU JPEG 2000 decoding is built as a stub that reports "
                 "it is unavailable")
endif()

# Gives `target` (the library) nvjpeg2k.h as a private include (the public header keeps nvJPEG2000 types
# out) and dlopen.
function(tilestream_use_nvjpeg2k target)
  if(TILESTREAM_NVJPEG2K_INCLUDE_DIR)
    target_include_directories(${target} SYSTEM PRIVATE ${TILESTREAM_NVJPEG2K_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE TILESTREAM_HAVE_NVJPEG2K_H=1)
  endif()
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
endfunction()
