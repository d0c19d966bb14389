# Warnings for our own targets, errors when TILESTREAM_WERROR; sanitizer flags when asked.
function(tilestream_set_warnings target)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow
                         -Wconversion -Wno-sign-conversion>)
  # .cu files: the host compiler's main warnings and nvcc's own.
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
  if(TILESTREAM_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>
                           $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>
                           $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Werror>)
  endif()
endfunction()

if(TILESTREAM_TSAN)
  if(TILESTREAM_SANITIZE OR TILESTREAM_FUZZ)
    message(FATAL_ERROR "TILESTREAM_TSAN cannot be combined with TILESTREAM_SANITIZE or TILESTREAM_FUZZ")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()

# ASan + UBSan: TILESTREAM_SANITIZE (any compiler) or TILESTREAM_FUZZ (clang), which adds libFuzzer's
# coverage instrumentation (fuzzer-no-link) so that one instrumented build serves both the sanitizer
# tests and the fuzz targets; only the fuzz targets link the libFuzzer driver (fuzz/CMakeLists.txt).
# TILESTREAM_ASAN tells the rest of the build that the AddressSanitizer runtime is in.
set(TILESTREAM_ASAN OFF)
if(TILESTREAM_SANITIZE OR TILESTREAM_FUZZ)
  set(TILESTREAM_ASAN ON)
  set(tilestream_sanitizers address,undefined)
  if(TILESTREAM_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
      message(FATAL_ERROR "TILESTREAM_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
    endif()
    set(tilestream_sanitizers fuzzer-no-link,address,undefined)
  endif()
  add_compile_options(-fsanitize=${tilestream_sanitizers} -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# GCC's -Wmaybe-uninitialized gives false positives inside libstdc++ (<regex>, std::function)
# once ASan instruments the code (GCC bug 105562 and friends); it would break -Werror builds.
if(TILESTREAM_ASAN AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
endif()
