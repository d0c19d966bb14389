# cufile.h for the GPUDirect Storage backend (src/io/cufile.cpp). libcufile itself is never linked:
# src/io/cufile.cpp loads it with dlopen at first use, so tilestream builds and runs where it is absent.
# The header comes with the CUDA toolkit where GDS is installed, else from the nvidia-cufile wheel that
# scripts/install-deps.sh installs into .venv. Without it, every cuFile entry point throws UnsupportedError.
file(GLOB TILESTREAM_VENV_CUFILE_INCLUDE_DIRS
     ${CMAKE_SOURCE_DIR}/.venv/lib/python3*/site-packages/nvidia/cu13/include)
find_path(TILESTREAM_CUFILE_INCLUDE_DIR cufile.h
          HINTS ${CUDAToolkit_INCLUDE_DIRS} ${TILESTREAM_VENV_CUFILE_INCLUDE_DIRS})
if(TILESTREAM_CUFILE_INCLUDE_DIR)
  message(STATUS "tilestream: cuFile (GPUDirect Storage) through dlopen, cufile.h from "
                 "${TILESTREAM_CUFILE_INCLUDE_DIR}")
else()
  message(STATUS "tilestream: cufile.h not found, the cuFile (GPUDirect Storage) backend is built "
                 "as a stub that reports it is unavailable")
endif()

# Gives `target` (the library) what src/io/cufile.cpp needs: cufile.h as a private include, never a
# public one (the public header keeps cuFile types out), and dlopen.
function(tilestream_use_cufile target)
  if(TILESTREAM_CUFILE_INCLUDE_DIR)
    target_include_directories(${target} SYSTEM PRIVATE ${TILESTREAM_CUFILE_INCLUDE_DIR})
    target_compile_definitions(${target} PRIVATE TILESTREAM_HAVE_CUFILE_H=1)
  endif()
  target_link_libraries(${target} PRIVATE ${CMAKE_DL_LIBS})
endfunction()
