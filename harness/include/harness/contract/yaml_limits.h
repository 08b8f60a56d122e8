#pragma once
// Limits on untrusted YAML (contracts and the suite config), so that no text makes a reader
// hang, exhaust memory or overflow the stack:
//  - nesting: flow collections ([ ] and { }) deeper than kMaxYamlFlowDepth levels are refused
//    by a cheap scan before yaml-cpp parses the text (yaml-cpp recurses once per level, stops
//    any nesting at 500 levels, and on deep flow text first spends ~10 us per level);
//  - aliases: yaml-cpp shares an aliased node instead of copying it, so a small file can reach
//    one big scalar or subtree millions of times ("billion laughs"). Readers walking the
//    document charge a YamlBudget for each node they visit and each scalar byte they read, and
//    refuse the document when it runs out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "harness/contract/contract.h"

namespace parity::contract {

inline constexpr int kMaxYamlFlowDepth = 256;

/// The place (1-based line and column) of the first `[` or `{` nested deeper than
/// kMaxYamlFlowDepth, or nullopt. Brackets in quoted scalars, comments and block scalars do
/// not count.
std::optional<Mark> find_too_deep_nesting(std::string_view text);

/// The walk allowed to a reader of a YAML text: kYamlBudgetBase plus kYamlBudgetPerByte per
/// byte of the text, in units of one node visited or one scalar byte read.
inline constexpr std::uint64_t kYamlBudgetBase = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kYamlBudgetPerByte = 16;

class YamlBudget {
public:
    explicit YamlBudget(std::size_t text_size) noexcept
        : left_(kYamlBudgetBase + kYamlBudgetPerByte * static_cast<std::uint64_t>(text_size)) {}

    /// Charges one node whose scalar (if any) is `scalar_bytes` long; false once spent.
    bool spend(std::size_t scalar_bytes) noexcept {
        const std::uint64_t cost = 1 + static_cast<std::uint64_t>(scalar_bytes);
        if (cost > left_) {
            left_ = 0;
            return false;
        }
        left_ -= cost;
        return true;
    }

    std::uint64_t limit() const noexcept { return limit_; }

private:
    std::uint64_t left_;
    std::uint64_t limit_ = left_;
};

}  // namespace parity::contract
