# Installation and packages.
#
# `cmake --install BUILD [--prefix DIR]` lays out
#   bin/pv
#   lib/parity-harness/libparity_cuda.so                    the CUDA module pv loads on demand (CUDA builds)
#   include/parity-harness/{engine,reports,falsifiers}/... the public headers (#include "engine/...")
#   lib/libparity_*.a                                      the engine, reports and falsifier libraries
#   lib/cmake/ParityHarness/ParityHarness{Config,ConfigVersion,Targets}.cmake
#   share/parity-harness/contracts/*.yaml                  the contracts
#   share/parity-harness/schema/parity-report-1.json       the JSON Schema of report.json
#   share/bash-completion/completions/pv, share/zsh/vendor-completions/_pv   `pv completion ...`
# so that a downstream project can
#   find_package(ParityHarness 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE ParityHarness::engine ParityHarness::falsifiers)
# (tested by cmake/install/check_install.cmake). CPack makes a .tar.gz and a .deb of the same tree:
#   cpack -G TGZ    cpack -G DEB
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PARITY_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/ParityHarness")
set(PARITY_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/parity-harness")

# The exported libraries, with their names in the package (ParityHarness::<name>).
set(_parity_exported
  parity_engine_base:engine_base parity_engine_quant:engine_quant parity_engine_format:engine_format
  parity_engine_model:engine_model parity_engine_tokenizer:engine_tokenizer parity_engine_trace:engine_trace
  parity_engine_synth:engine_synth parity_engine_runtime:engine_runtime parity_engine_cpu:engine_cpu
  parity_engine_cuda:engine_cuda parity_engine_f64:engine_f64 parity_engine:engine parity_reports:reports parity_falsifiers:falsifiers)
if(TARGET parity_engine_cuda_kernels)
  list(APPEND _parity_exported parity_engine_cuda_kernels:engine_cuda_kernels)
endif()
set(_parity_targets "")
foreach(_pair IN LISTS _parity_exported)
  string(REPLACE ":" ";" _pair "${_pair}")
  list(GET _pair 0 _target)
  list(GET _pair 1 _name)
  set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_name})
  add_library(ParityHarness::${_name} ALIAS ${_target})  # the same names inside this build
  list(APPEND _parity_targets ${_target})
endforeach()

install(TARGETS pv RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
# Where pv looks for it: bin/../lib/parity-harness (engine/src/runtime/CMakeLists.txt). cuBLAS is
# found through the toolkit's folder or the loader's cache; without it the module does not load and
# pv runs CPU-only.
if(TARGET parity_cuda)
  set_target_properties(parity_cuda PROPERTIES INSTALL_RPATH "${CUDAToolkit_LIBRARY_DIR}")
  install(TARGETS parity_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/parity-harness COMPONENT runtime)
endif()
install(TARGETS ${_parity_targets} EXPORT ParityHarnessTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parity-harness)
install(DIRECTORY engine/include/engine reports/include/reports falsifiers/include/falsifiers
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/parity-harness COMPONENT development)
install(EXPORT ParityHarnessTargets NAMESPACE ParityHarness::
  DESTINATION ${PARITY_INSTALL_CMAKEDIR} COMPONENT development)

configure_package_config_file(cmake/install/ParityHarnessConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ParityHarnessConfig.cmake
  INSTALL_DESTINATION ${PARITY_INSTALL_CMAKEDIR}
  PATH_VARS PARITY_INSTALL_DATADIR CMAKE_INSTALL_BINDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ParityHarnessConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ParityHarnessConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ParityHarnessConfigVersion.cmake
  DESTINATION ${PARITY_INSTALL_CMAKEDIR} COMPONENT development)

install(DIRECTORY contracts/ DESTINATION ${PARITY_INSTALL_DATADIR}/contracts COMPONENT runtime
  FILES_MATCHING PATTERN "*.yaml" PATTERN "*.md")
install(FILES reports/schema/parity-report-1.json DESTINATION ${PARITY_INSTALL_DATADIR}/schema COMPONENT runtime)

# Shell completion scripts, written by the freshly built pv.
set(_completions ${CMAKE_BINARY_DIR}/completions)
add_custom_command(OUTPUT ${_completions}/pv ${_completions}/_pv
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_completions}
  COMMAND pv completion bash > ${_completions}/pv
  COMMAND pv completion zsh > ${_completions}/_pv
  DEPENDS pv
  COMMENT "pv completion: bash and zsh scripts in ${_completions}")
add_custom_target(shell_completions ALL DEPENDS ${_completions}/pv ${_completions}/_pv)
install(FILES ${_completions}/pv DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT runtime)
install(FILES ${_completions}/_pv DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions COMPONENT runtime)

# Packages: cpack -G TGZ / cpack -G DEB in the build directory.
set(CPACK_PACKAGE_NAME "parity-harness")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "parity-harness maintainers")
set(CPACK_PACKAGE_CONTACT "parity-harness maintainers <maintainers@users.noreply.r-seed-a143d762.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Contract-driven parity testing of LLM inference (APR and GGUF, CPU and CUDA): pv and its libraries")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(CPACK_GENERATOR "TGZ;DEB")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# What pv loads (Debian 12 names); the headers and CMake package additionally need the -dev ones.
# The CUDA module's cuBLAS and driver are not dependencies: without them the module is not loaded
# and the cuda paths are skipped.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libstdc++6, libgcc-s1, libgomp1, libyaml-cpp0.7, libboost-program-options1.74.0")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nlohmann-json3-dev, libboost-dev")
include(CPack)
