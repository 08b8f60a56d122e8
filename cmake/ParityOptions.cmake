# Build options shared by every target.
option(PARITY_BUILD_TESTS "Build the GoogleTest suites" ON)
option(PARITY_FUZZ "Build the libFuzzer targets of the parsers (Clang only)" OFF)
option(PARITY_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
set(PARITY_CUDA "AUTO" CACHE STRING "Build the CUDA backend: AUTO (when nvcc is found), ON, OFF")
set_property(CACHE PARITY_CUDA PROPERTY STRINGS AUTO ON OFF)
# A build that travels to another machine must not use -march=native.
set(PARITY_CPU_ARCH "x86-64-v3" CACHE STRING "Value of -march for x86-64 builds (empty: compiler default)")

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
