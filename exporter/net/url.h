// URLs and addresses as the exporter meets them: a target's pprof base URL
// in the config, a file_sd address, the URL a scrape fetches, and the
// --web.listen-address. One grammar for IPv6 brackets, one rule for
// credentials ("user:pass@" never belongs in a URL: it would reach logs and
// the landing page; basic_auth holds them) and for control characters.
#ifndef PPROF_EXPORTER_EXPORTER_NET_URL_H_
#define PPROF_EXPORTER_EXPORTER_NET_URL_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace exporter {

// An absolute http(s) URL split into what an HTTP client needs.
struct ParsedUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // IPv6 literals without brackets
  int port = 0;        // explicit, or the scheme's default
  std::string target;  // path and query as written; "/" if empty; no fragment
  // "user:pass@" was present. It is dropped: credentials come from the
  // target's basic_auth or authorization only.
  bool had_credentials = false;

  // "scheme://host:port/target" with no credentials, for logs.
  std::string ForLog() const;
  // The Host header: the host, bracketed if IPv6, and the port unless it
  // is the scheme's default.
  std::string HostHeader() const;
};

// Accepts only absolute http:// or https:// URLs without whitespace or
// control characters (they would end up in the request line).
absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url);

// Checks that `url` is http:// or https:// with a host, no credentials
// (the message does not echo such a URL) and no query or fragment, and
// turns it into the base URL that profile endpoint names are appended to:
// a missing or "/" path becomes /debug/pprof/, any other path gets a
// trailing '/'. The scheme is lower-cased; the rest is kept.
absl::StatusOr<std::string> NormalizePprofBaseUrl(absl::string_view url);

// A file_sd target entry, "host:port" (given `scheme`) or a full URL, as a
// pprof base URL (see NormalizePprofBaseUrl).
absl::StatusOr<std::string> PprofBaseUrlOfAddress(absl::string_view entry,
                                                  absl::string_view scheme);

// Splits a listen address, "host:port" or "[v6]:port"; an empty host means
// all interfaces ("0.0.0.0").
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& address);

// `host` as written in a URL: IPv6 literals in brackets.
std::string BracketHost(absl::string_view host);

// `text` for an error message, unless it may hold a password ('@').
absl::string_view ShownOrHidden(absl::string_view text);

// Control characters other than tab: they would split a request header.
bool HasControlChar(absl::string_view s);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_NET_URL_H_
