# cmake -DBUILD_DIR=dir -DWORK=dir -DSOURCE_DIR=dir -DGENERATOR=gen [-DBUILD_TYPE=cfg] [-DCUDA_MODULE=ON]
#       -P check_install.cmake
#
# Installs BUILD_DIR into WORK/prefix, checks the layout, runs the installed pv, then configures,
# builds and runs cmake/install/consumer against the prefix with find_package(ParityHarness).
# Any failure is a FATAL_ERROR naming the step and its output.
function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "check_install: ${what} failed (${rc}): ${ARGN}\n${out}${err}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
set(prefix "${WORK}/prefix")
file(REMOVE_RECURSE "${WORK}")

step("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}" --config "${BUILD_TYPE}")
foreach(f bin/pv
          share/parity-harness/contracts/ship-cpu-v1.yaml
          share/parity-harness/schema/parity-report-1.json
          share/bash-completion/completions/pv
          share/zsh/vendor-completions/_pv
          include/parity-harness/engine/quant/ggml_type.h
          include/parity-harness/falsifiers/registry.h
          include/parity-harness/reports/result.h)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "check_install: ${prefix}/${f} was not installed")
  endif()
endforeach()
file(GLOB module "${prefix}/lib*/parity-harness/libparity_cuda.so")
if(CUDA_MODULE AND NOT module)
  message(FATAL_ERROR "check_install: a CUDA build installed no lib*/parity-harness/libparity_cuda.so under ${prefix}")
endif()
file(GLOB config "${prefix}/lib*/cmake/ParityHarness/ParityHarnessConfig.cmake")
if(NOT config)
  message(FATAL_ERROR "check_install: no lib*/cmake/ParityHarness/ParityHarnessConfig.cmake under ${prefix}")
endif()

step("installed pv --version" "${prefix}/bin/pv" --version)
if(NOT step_output MATCHES "^pv [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ")
  message(FATAL_ERROR "check_install: unexpected `pv --version` output:\n${step_output}")
endif()
string(FIND "${step_output}" "\ncuda module: ${module}\n" at)
if(CUDA_MODULE AND at EQUAL -1)
  message(FATAL_ERROR "check_install: the installed pv does not find its CUDA module ${module}:\n${step_output}")
endif()
step("installed pv validate" "${prefix}/bin/pv" validate --quiet "${prefix}/share/parity-harness/contracts")

step("consumer configure" "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/cmake/install/consumer" -B "${WORK}/consumer"
     -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
step("consumer build" "${CMAKE_COMMAND}" --build "${WORK}/consumer" --config "${BUILD_TYPE}")
file(GLOB_RECURSE exe "${WORK}/consumer/consumer" "${WORK}/consumer/*/consumer")
step("consumer run" ${exe})
foreach(line "q8_0: Q8_0" "stat_ratio_band: registered" "contracts: ${prefix}/share/parity-harness/contracts\n")
  string(FIND "${step_output}" "${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "check_install: the consumer did not print \"${line}\":\n${step_output}")
  endif()
endforeach()
message(STATUS "check_install: installed into ${prefix}; the consumer found, built and ran against it")
