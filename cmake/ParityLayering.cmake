# parity_check_layering(NAME ROOT dir RULES "concern: uses..." ... [EXTERNAL prefix...])
#
# Holds every quoted #include of a library tree to a layering table, at build time: the target
# NAME (part of ALL) fails the build on a violation. The tree is ROOT/src/<concern>/... with public
# headers in ROOT/include/<project>/<concern>/..., <project> being ROOT's folder name. A file's
# concern is the longest RULES key its folder starts with; public headers directly in
# include/<project>/ are the concern `base`, sources directly in src/ assemble the libraries and
# may use everything. A file may include
#   - "<project>/<concern>/x.h" when <concern> is its own or one its rule lists ("<project>/x.h"
#     is `base`);
#   - a private header of its own concern by a path relative to its folder, never with "../";
#   - "<prefix>/..." for each EXTERNAL prefix (other libraries of the project it may use).
# The check itself is cmake/layering/check.cmake; its test is cmake/layering/check_test.cmake.
function(parity_check_layering name)
  cmake_parse_arguments(ARG "" "ROOT" "RULES;EXTERNAL" ${ARGN})
  file(GLOB_RECURSE _files CONFIGURE_DEPENDS
    ${ARG_ROOT}/src/*.h ${ARG_ROOT}/src/*.cpp ${ARG_ROOT}/src/*.cu ${ARG_ROOT}/src/*.cuh
    ${ARG_ROOT}/include/*.h)
  set(_stamp ${CMAKE_CURRENT_BINARY_DIR}/${name}.stamp)
  string(REPLACE ";" "|" _rules "${ARG_RULES}")
  string(REPLACE ";" "|" _external "${ARG_EXTERNAL}")
  add_custom_command(OUTPUT ${_stamp}
    COMMAND ${CMAKE_COMMAND} "-DROOT=${ARG_ROOT}" "-DRULES=${_rules}" "-DEXTERNAL=${_external}"
            -P ${PROJECT_SOURCE_DIR}/cmake/layering/check.cmake
    COMMAND ${CMAKE_COMMAND} -E touch ${_stamp}
    DEPENDS ${_files} ${PROJECT_SOURCE_DIR}/cmake/layering/check.cmake
    COMMENT "Checking the layering of ${ARG_ROOT}"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${_stamp})
endfunction()
