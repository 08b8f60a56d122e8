# parity_add_gtest(NAME SOURCES src... [LIBS lib...] [LABELS label...])
# One GoogleTest executable; each TEST becomes its own CTest test (gtest_discover_tests).
# Tests find the llama.cpp fixtures through the PARITY_FIXTURES_DIR environment variable
# (the CMake cache variable of the same name) and skip with a message when they are absent.
# (One variable only: a list in ENVIRONMENT would be split apart by gtest_discover_tests.)
function(parity_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} parity_test_support GTest::gtest GTest::gtest_main)
  parity_set_warnings(${name})
  if(NOT ARG_LABELS)
    set(ARG_LABELS cpu)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    NO_PRETTY_VALUES
    PROPERTIES
      LABELS "${ARG_LABELS}"
      ENVIRONMENT "PARITY_FIXTURES_DIR=${PARITY_FIXTURES_DIR}"
      SKIP_RETURN_CODE 77)
endfunction()
