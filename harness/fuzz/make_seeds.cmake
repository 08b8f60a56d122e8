# cmake -DSRC=<repository> -DOUT=<dir> -P make_seeds.cmake
# Writes the seed corpora of the YAML fuzzers from the repository's own files: OUT/contract
# (contracts/*.yaml, harness/tests/data/*.yaml) and OUT/suite (ctest.cfg).
file(REMOVE_RECURSE ${OUT}/contract ${OUT}/suite)
file(MAKE_DIRECTORY ${OUT}/contract ${OUT}/suite)
file(GLOB contracts ${SRC}/contracts/*.yaml ${SRC}/harness/tests/data/*.yaml)
if(NOT contracts)
  message(FATAL_ERROR "no contract files under ${SRC}/contracts or ${SRC}/harness/tests/data")
endif()
file(COPY ${contracts} DESTINATION ${OUT}/contract)
file(COPY ${SRC}/ctest.cfg DESTINATION ${OUT}/suite)
