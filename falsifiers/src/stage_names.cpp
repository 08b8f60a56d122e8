// The APRT stage vocabulary for the registry (kept apart: the registry's own text helpers must
// not meet the engine's headers).

#include "engine/trace/aprt.h"
#include "falsifiers/registry.h"

namespace parity::falsifiers {

std::span<const std::string_view> stage_names() { return aprt::kKnownStageNames; }

}  // namespace parity::falsifiers
