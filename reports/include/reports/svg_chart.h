#pragma once
// The per-layer chart of the HTML report, as an inline SVG element (see html_report.h for what
// it draws). Styling comes from the page's CSS classes (.chart, .band, .s0 ... .s7, .f, .ax,
// .tk), so the element is small; on its own it still renders, in default colours.

#include <string>
#include <vector>

#include "reports/result.h"

namespace parity::reports {

/// "<svg ...>...</svg>" for `result.per_layer`, or "" when it has no rows.
std::string svg_layer_chart(const TestResult& result);

/// The chart's series: the distinct slots of `result.per_layer` in order of first appearance.
/// Series i is drawn with CSS class "s{i % kChartSeriesColours}".
std::vector<std::string> chart_series(const TestResult& result);

/// How many series colours the chart cycles through (CSS classes s0 .. s{N-1}).
inline constexpr int kChartSeriesColours = 8;

}  // namespace parity::reports
