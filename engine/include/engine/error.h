#pragma once
// Errors raised by the engine. Every error about input names the file, the place in it
// (a byte offset for binary formats) and what was expected.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace parity {

/// A malformed or unsupported model file. `what()` reads "FILE: at byte OFFSET: CAUSE".
class FormatError : public std::runtime_error {
public:
    FormatError(std::string file, std::uint64_t offset, std::string cause);

    const std::string& file() const noexcept { return file_; }
    std::uint64_t offset() const noexcept { return offset_; }
    const std::string& cause() const noexcept { return cause_; }

private:
    std::string file_;
    std::uint64_t offset_;
    std::string cause_;
};

/// An operating-system failure (open, mmap, write) on a named file. `what()` reads "FILE: CAUSE".
class IoError : public std::runtime_error {
public:
    IoError(const std::string& file, const std::string& cause);
};

/// A request the engine cannot serve (an unsupported tensor type for an operation, a name
/// that does not exist). Not about a file's bytes.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace parity
