#pragma once
// Writes the reports of one run into a directory, one file per requested format:
//   json -> report.json   junit -> report.junit.xml   md -> report.md   html -> report.html

#include <string>
#include <vector>

#include "reports/result.h"

namespace parity::reports {

/// The format names write_reports accepts, in the order above.
const std::vector<std::string>& report_formats();

/// Creates `dir` (and its parents) when missing and writes one file per format, in the order
/// given (a repeated name is written once); returns the paths written. Throws
/// std::invalid_argument naming every unknown format before anything is written, and
/// std::runtime_error naming the file when one cannot be created or written. Each file is
/// replaced atomically (write_file_atomically): an interrupted run leaves the previous reports
/// whole.
std::vector<std::string> write_reports(const RunReport& report, const std::string& dir,
                                       const std::vector<std::string>& formats);

}  // namespace parity::reports
