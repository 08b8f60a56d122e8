# With PARITY_SANITIZE=ON every target is built and linked with ASan + UBSan, and UBSan
# findings abort (so a test that triggers one fails instead of printing and passing).
if(PARITY_SANITIZE)
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=all>
                      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>)
  add_link_options(-fsanitize=address,undefined)
endif()

# With PARITY_FUZZ=ON every library is instrumented for libFuzzer's coverage feedback (the
# fuzz targets themselves link with -fsanitize=fuzzer).
if(PARITY_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PARITY_FUZZ=ON needs Clang (libFuzzer); use the `fuzz` preset")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link>)
endif()
