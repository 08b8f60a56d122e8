# cmake -DWORK=<scratch dir> -P check_test.cmake
# The layering check accepts a clean tree and rejects each kind of forbidden #include.
cmake_minimum_required(VERSION 3.25)
set(_check "${CMAKE_CURRENT_LIST_DIR}/check.cmake")
set(_rules "base:|low: base|high: base low|high/a: base low high|high/b: base low high")

# A tree "lib" with concerns low, high, high/a, high/b; `extra` is written into one file.
function(run_case name file extra expect_fail)
  set(_root "${WORK}/${name}/lib")
  file(REMOVE_RECURSE "${WORK}/${name}")
  file(WRITE "${_root}/include/lib/error.h" "#pragma once\n")
  file(WRITE "${_root}/include/lib/low/low.h" "#pragma once\n#include \"lib/error.h\"\n")
  file(WRITE "${_root}/include/lib/high/high.h" "#pragma once\n#include \"lib/low/low.h\"\n")
  file(WRITE "${_root}/src/low/low.cpp" "#include \"lib/low/low.h\"\n#include <vector>\n")
  file(WRITE "${_root}/src/high/a/private.h" "#pragma once\n")
  file(WRITE "${_root}/src/high/a/a.cpp" "#include \"private.h\"\n#include \"lib/high/high.h\"\n")
  file(WRITE "${_root}/src/high/b/b.cpp" "#include \"lib/high/high.h\"\n#include \"other/api.h\"\n")
  file(WRITE "${_root}/src/assemble.cpp" "#include \"high/a/private.h\"\n")
  if(file)
    file(APPEND "${_root}/${file}" "${extra}\n")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} "-DROOT=${_root}" "-DRULES=${_rules}" -DEXTERNAL=other
                          -P "${_check}"
                  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _out)
  if(expect_fail AND _rc EQUAL 0)
    message(FATAL_ERROR "${name}: the check accepted a forbidden include")
  elseif(NOT expect_fail AND NOT _rc EQUAL 0)
    message(FATAL_ERROR "${name}: the check rejected a clean tree:\n${_out}")
  endif()
  message(STATUS "${name}: ok")
endfunction()

run_case(clean "" "" OFF)
run_case(upward src/low/low.cpp "#include \"lib/high/high.h\"" ON)
run_case(base_upward include/lib/error.h "#include \"lib/low/low.h\"" ON)
run_case(sibling src/high/b/b.cpp "#include \"../a/private.h\"" ON)
run_case(sibling_by_path src/high/b/b.cpp "#include \"high/a/private.h\"" ON)
run_case(unknown_library src/low/low.cpp "#include \"stranger/api.h\"" ON)
