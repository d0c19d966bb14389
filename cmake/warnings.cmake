# Warnings for our own targets, errors when TILESTREAM_WERROR; sanitizer flags when asked.
# TILESTREAM_FUZZ instruments everything for libFuzzer coverage (fuzzer-no-link) with ASan + UBSan;
# only the fuzz targets themselves link the libFuzzer driver (fuzz/CMakeLists.txt).
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

if(TILESTREAM_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

if(TILESTREAM_TSAN)
  if(TILESTREAM_SANITIZE OR TILESTREAM_FUZZ)
    message(FATAL_ERROR "TILESTREAM_TSAN cannot be combined with TILESTREAM_SANITIZE or TILESTREAM_FUZZ")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
endif()

if(TILESTREAM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "TILESTREAM_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
endif()

# GCC's -Wmaybe-uninitialized gives false positives inside libstdc++ (<regex>, std::function)
# once ASan instruments the code (GCC bug 105562 and friends); it would break -Werror builds.
if(TILESTREAM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
endif()
