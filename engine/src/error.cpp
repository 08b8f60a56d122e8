#include "engine/error.h"

namespace parity {

FormatError::FormatError(std::string file, std::uint64_t offset, std::string cause)
    : std::runtime_error(file + ": at byte " + std::to_string(offset) + ": " + cause),
      file_(std::move(file)),
      offset_(offset),
      cause_(std::move(cause)) {}

IoError::IoError(const std::string& file, const std::string& cause)
    : std::runtime_error(file + ": " + cause) {}

}  // namespace parity
