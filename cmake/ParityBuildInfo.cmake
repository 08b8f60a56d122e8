# parity_git_commit_source(VAR): the path of a generated C++ file defining
# `const char* parity::run::git_commit() noexcept`, the short commit of the source tree
# ("unknown" outside a git work tree or without git), in VAR.
#
# The file is rewritten at every build by cmake/build_info/git_commit.cmake, but only when the
# commit changed, so a new commit recompiles that one small file and relinks; nothing else.
function(parity_git_commit_source out_var)
  set(_out "${CMAKE_CURRENT_BINARY_DIR}/generated/git_commit.cpp")
  find_package(Git QUIET)
  add_custom_target(parity_git_commit
    COMMAND ${CMAKE_COMMAND} "-DSOURCE_DIR=${PROJECT_SOURCE_DIR}" "-DGIT=${GIT_EXECUTABLE}" "-DOUT=${_out}"
            -P "${PROJECT_SOURCE_DIR}/cmake/build_info/git_commit.cmake"
    BYPRODUCTS "${_out}"
    COMMENT "Reading the git commit of ${PROJECT_SOURCE_DIR}"
    VERBATIM)
  set(${out_var} "${_out}" PARENT_SCOPE)
endfunction()
