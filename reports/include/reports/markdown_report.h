#pragma once
// Markdown report (GitHub-flavoured): run info, the summary line
//   "N tests, K evaluated: P passed, F failed, E errors, S skipped, U unbound",
// one table row per test (status, id, falsifier, message, first divergence), then a section per
// FAIL and ERROR with its metrics, failing per-layer rows and the repro line in a code block.
//
// Text outside code is escaped so it renders literally: Markdown punctuation is
// backslash-escaped, < > & become entities (no raw HTML gets through), `|` becomes `\|` and
// line breaks become <br>, so a cell never splits a table row. Code blocks use a fence longer
// than any backtick run inside them.

#include <ostream>

#include "reports/result.h"

namespace parity::reports {

void write_markdown(const RunReport& report, std::ostream& out);

}  // namespace parity::reports
