#pragma once
// The per_op table of the HTML report as a heatmap: one row per layer (and one `model` row for
// the whole-model stages embedding, final_norm, lm_head), one column per stage in forward
// order, each cell coloured by the row's min cosine over positions, the first divergence
// outlined. An HTML <table> (no script), styled by the page's CSS (.hm ...).

#include <string>

#include "reports/result.h"

namespace parity::reports {

/// "<div class=\"hm\">...</div>" for a per_op result (falsifier `per_op` with per-layer rows),
/// or "" for any other result.
std::string html_stage_heatmap(const TestResult& result);

/// The background of a cell whose min cosine is `cosine`: an "hsl(...)" colour from red (cosine
/// 0 or below) to green (cosine within 1e-6 of 1), by the number of nines, -log10(1 - cosine);
/// "#4b5563" (dark grey) for NaN.
std::string heatmap_colour(double cosine);

}  // namespace parity::reports
