#pragma once
// Helpers shared by the falsifier implementations (private to the library).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/trace/activation_stats.h"
#include "engine/trace/trace.h"
#include "falsifiers/falsifier.h"
#include "reports/result.h"

namespace parity::falsifiers::detail {

// ---------------------------------------------------------------------------------------------
// Slots and layers.

enum class ModelSlot { Embed, FinalNorm, Logits };

/// A slot a binding names: one of the ten layer slots or a model-level one.
struct SlotRef {
    std::string name;
    bool model_level = false;
    TraceSlot slot = TraceSlot::AttnNorm;  ///< layer slots
    ModelSlot model = ModelSlot::Embed;    ///< model-level slots
};

/// The slot named `name`, or nullopt.
std::optional<SlotRef> slot_ref(std::string_view name);

/// Selected slots in trace order: embed, then the layer slots (each layer in turn), then
/// final_norm and logits. `all`: the selection was written as `all`.
struct SlotSelection {
    bool all = false;
    std::vector<SlotRef> before;  ///< embed
    std::vector<SlotRef> layer;   ///< layer slots, canonical order
    std::vector<SlotRef> after;   ///< final_norm, logits
};

/// From the Slot parameter `slot` or the SlotList parameter `slots` (whichever is given).
SlotSelection select_slots(const BoundParams& params);

/// The layers a `layers` parameter selects, ascending. Throws std::runtime_error naming an
/// index the model does not have.
std::vector<int> select_layers(const BoundParams& params, int n_layers);

/// The statistics of a slot (layer ignored for model-level slots): the whole sample, or the
/// last position's (`last_token`). embed and final_norm keep whole-sample statistics only:
/// nullptr for them with last_token (callers say so). logits_stats always describe the last
/// position.
const ActivationStats* find_stats(const ForwardTrace& trace, int layer, const SlotRef& slot, bool last_token);

/// The last-token values of a slot: layer slots' last_token_values and the logits; empty for
/// embed and final_norm (a trace keeps no values for them).
std::span<const float> find_values(const ForwardTrace& trace, int layer, const SlotRef& slot);

/// One ActivationStats field by name (count, min, max, mean, std_dev, nan_count, ...).
double stat_value(const ActivationStats& stats, std::string_view stat);

// ---------------------------------------------------------------------------------------------
// Element-wise tolerance.

struct Tolerance {
    std::optional<double> atol;
    std::optional<double> rtol;
    std::optional<double> nmse;
    bool elementwise() const noexcept { return atol.has_value() || rtol.has_value(); }
    /// "atol 0.001, rtol 0.005" / "NMSE <= 1e-6" (what the check holds values to).
    std::string describe() const;
};

struct ToleranceCheck {
    bool pass = true;
    /// How much of the tolerance was used: max over elements of |a-b| / (atol + rtol*|b|), and
    /// NMSE / nmse bound; <= 1 passes. NaN when a value is NaN.
    double usage = 0.0;
    double max_abs = 0.0;    ///< max |a - b| (NaN when any is NaN)
    double nmse = 0.0;       ///< sum (a-b)^2 / sum b^2
    double cosine = 1.0;
    std::string detail;      ///< for a failure: the worst element or the NMSE, one line
};

/// Compares candidate `a` with reference `b`.
ToleranceCheck check_tolerance(std::span<const float> a, std::span<const float> b, const Tolerance& tol);

/// Reads atol / rtol / nmse (when given) from the parameters.
Tolerance tolerance_from(const BoundParams& params);

// ---------------------------------------------------------------------------------------------
// Results.

/// A number as every report prints it.
std::string num(double v);

/// The optional number parameter `name`.
std::optional<double> opt_number(const BoundParams& params, std::string_view name);

/// "[3838, 374, 220]" (at most `max` ids, then "...").
std::string ids_text(std::span<const std::int32_t> ids, std::size_t max = 16);

/// Text for a one-line message: quoted, control characters escaped, cut after `max` bytes.
std::string quote_text(std::string_view text, std::size_t max = 80);

/// Throws std::runtime_error when two paths were fed different input tokens (the comparison
/// would not be like with like).
void require_same_input(const ForwardTrace& a, const ForwardTrace& b, const std::string& pa, const std::string& pb);

/// The first problem with a trace's layer list: fewer or more entries than the model has
/// layers, or entries out of order. nullopt when it has one entry per layer.
std::optional<reports::Divergence> check_layer_entries(const ForwardTrace& trace, int n_layers, const std::string& path);

/// The two paths a comparison reads: paths[0] (`a`, the candidate) and paths[1] (`b`, the
/// reference).
struct PathPair {
    std::string a, b;
};
PathPair path_pair(const Falsifier& f);

/// Both paths' traces of their own suite input, and their models' layer counts.
struct TracePair {
    const ForwardTrace& a;
    const ForwardTrace& b;
    int n_layers_a = 0;
    int n_layers_b = 0;
};
/// The traces of both paths; with `same_input`, throws (require_same_input) unless both were fed
/// the same tokens.
TracePair trace_pair(Evidence& ev, const PathPair& p, bool same_input);

/// check_layer_entries of both traces; on the first problem, fails `r` there and returns false.
bool layer_entries_complete(const TracePair& t, const PathPair& p, reports::TestResult& r);

/// A TestResult with falsifier name and paths set, status PASS.
reports::TestResult start_result(const Falsifier& f);

/// Sets FAIL with first_failure and message, the usual way.
void fail(reports::TestResult& r, reports::Divergence where, std::string message);

/// The factories of the built-ins (one per file).
std::shared_ptr<Falsifier> make_sample_count_parity(const BoundParams& p);
std::shared_ptr<Falsifier> make_stat_ratio_band(const BoundParams& p);
std::shared_ptr<Falsifier> make_slot_tolerance(const BoundParams& p);
std::shared_ptr<Falsifier> make_finite(const BoundParams& p);
std::shared_ptr<Falsifier> make_logits_agreement(const BoundParams& p);
std::shared_ptr<Falsifier> make_greedy_tokens_agree(const BoundParams& p);
std::shared_ptr<Falsifier> make_prefill_vs_decode(const BoundParams& p);
std::shared_ptr<Falsifier> make_output_matches(const BoundParams& p);
std::shared_ptr<Falsifier> make_reference_logits(const BoundParams& p);
std::shared_ptr<Falsifier> make_per_op(const BoundParams& p);
std::shared_ptr<Falsifier> make_contract_valid(const BoundParams& p);
std::shared_ptr<Falsifier> make_kl_divergence(const BoundParams& p);

// ---------------------------------------------------------------------------------------------
// Layer-by-layer value comparison, shared by slot_tolerance and prefill_vs_decode.

struct ValueComparison {
    const ForwardTrace* candidate = nullptr;
    const ForwardTrace* reference = nullptr;
    std::string candidate_name;  ///< in messages: "gguf_cuda", "incremental"
    std::string reference_name;
    SlotSelection slots;
    std::vector<int> layers;
    Tolerance tol;
};

/// Compares the last-token values slot by slot in trace order; fills per_layer, metrics,
/// first_failure, status and message of `r`. Slots without values (embed, final_norm) are left
/// out when selected by `all`, and make the test throw when named.
void compare_values(const ValueComparison& c, reports::TestResult& r);

/// Input for a test that takes `prompt` / `tokens` parameters.
InputRequest input_request(const BoundParams& params);

}  // namespace parity::falsifiers::detail
