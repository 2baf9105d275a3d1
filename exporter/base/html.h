// Escaping text for the HTML pages the exporter serves: the landing page
// and the re-served archive listings. Target names, URLs and scrape errors
// come from configuration and from targets, so none goes out unescaped.
#ifndef PPROF_EXPORTER_EXPORTER_BASE_HTML_H_
#define PPROF_EXPORTER_EXPORTER_BASE_HTML_H_

#include <string>

#include "absl/strings/string_view.h"

namespace exporter {

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(absl::string_view text);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_BASE_HTML_H_
