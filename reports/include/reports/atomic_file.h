#pragma once
// Writing a file so that readers only ever see the previous content whole or the new content
// whole: the content goes to a temporary file beside the target, which is then renamed over it
// (rename(2) replaces the target atomically on POSIX file systems). A run that is killed or
// fails while writing leaves the previous file untouched, never a truncated one.

#include <functional>
#include <ostream>
#include <string>

namespace parity::reports {

/// Calls `write` with a stream to a temporary file in path's folder ("<name>.tmp.<pid>"), then
/// renames it to `path`. When `write` throws or the stream fails, the temporary file is removed,
/// `path` keeps its previous content, and the error propagates (a failed stream as
/// std::runtime_error naming the file).
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

}  // namespace parity::reports
