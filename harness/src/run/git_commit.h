#pragma once
// Defined in a file generated at build time (cmake/build_info/git_commit.cmake).

namespace parity::run {

/// Short git commit of the source tree the binary was built from; "unknown" outside git.
const char* git_commit() noexcept;

}  // namespace parity::run
