#pragma once
// HTML report: one self-contained page (inline CSS, inline SVG; no scripts, fonts, images or
// links to anything outside the page), readable offline and attachable as one CI artifact.
//
// Header: run info and the summary counts coloured by status, then an index table linking to
// one card per test. A card shows the status badge, id, contract, falsifier, rule, prediction,
// what a failure means, the message, the first divergence, the metrics, the repro line in a
// <code> block, and, when the test has per-layer rows, an SVG chart of the per-layer metric:
// x is the layer, y the value (log scale when all values and bounds are positive and span two
// decades or more), one line per slot, the bounds drawn as a shaded band, failing rows as red
// points, and non-finite values as markers on the chart edge (+inf and NaN on top, -inf at the
// bottom) that are also listed under the chart. Every point has a tooltip with its row. A per_op
// test shows its table as a layer x stage heatmap instead (html_heatmap.h). Statuses have
// their own colours, UNMEASURED included; the summary counts it apart.
// All text is HTML-escaped (escape_xml), so any id or message renders literally.

#include <ostream>

#include "reports/result.h"

namespace parity::reports {

void write_html(const RunReport& report, std::ostream& out);

}  // namespace parity::reports
