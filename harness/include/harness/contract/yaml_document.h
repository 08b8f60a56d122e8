#pragma once
// One YAML document from untrusted text, for the contract loader and the suite config reader.
// The nesting limit of yaml_limits.h is checked before yaml-cpp sees the text, and yaml-cpp's
// failure modes become one YamlError with a place: syntax errors, nesting past its own limit,
// and a stream of several documents. yaml-cpp 0.7's LoadAll never returns on a token that
// cannot start a node (a stray `,` at the top level: it appends empty documents until memory
// runs out), so documents are counted by a parse that builds nothing and stops there.

#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "harness/contract/contract.h"

namespace parity::contract {

/// Why a text is not one readable YAML document; `mark` may be unknown.
struct YamlError {
    Mark mark;
    std::string cause;
};

/// The document of `text`, which must hold at most one (`what` names the file's kind in the
/// error, e.g. "a contract"). An empty text gives a null node. Throws YamlError.
YAML::Node load_one_document(std::string_view text, std::string_view what);

}  // namespace parity::contract
