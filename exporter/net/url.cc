#include "exporter/net/url.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace exporter {
namespace {

constexpr char kDefaultPprofPath[] = "/debug/pprof/";

bool HasSpaceOrControlChar(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// The "user:pass@host:port" part of an absolute URL ("" if not absolute).
absl::string_view Authority(absl::string_view url) {
  const size_t sep = url.find("://");
  if (sep == url.npos) return "";
  absl::string_view rest = url.substr(sep + 3);
  return rest.substr(0, rest.find_first_of("/?#"));
}

bool HasCredentials(absl::string_view url) {
  return absl::StrContains(Authority(url), '@');
}

bool IsHostChar(char c, bool bracketed) {
  if (bracketed) return absl::ascii_isxdigit(c) || c == ':' || c == '.';
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

int DefaultPort(absl::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

}  // namespace

std::string BracketHost(absl::string_view host) {
  return absl::StrContains(host, ':') ? absl::StrCat("[", host, "]")
                                      : std::string(host);
}

absl::string_view ShownOrHidden(absl::string_view text) {
  return absl::StrContains(text, '@') ? "<not shown: contains '@'>" : text;
}

bool HasControlChar(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string ParsedUrl::ForLog() const {
  return absl::StrCat(scheme, "://", BracketHost(host), ":", port, target);
}

std::string ParsedUrl::HostHeader() const {
  return port == DefaultPort(scheme)
             ? BracketHost(host)
             : absl::StrCat(BracketHost(host), ":", port);
}

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  auto bad = [url](absl::string_view why) {
    // The message ends up in logs: never echo a URL that may hold a password.
    return absl::InvalidArgumentError(
        absl::StrCat("bad URL (", why, "): ", ShownOrHidden(url)));
  };
  if (HasSpaceOrControlChar(url)) {
    return bad("whitespace or control character");
  }
  const size_t sep = url.find("://");
  if (sep == url.npos) return bad("not absolute");
  ParsedUrl out;
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return bad("scheme must be http or https");
  }
  absl::string_view authority = Authority(url);
  absl::string_view target = url.substr(sep + 3 + authority.size());
  if (const size_t at = authority.rfind('@'); at != authority.npos) {
    out.had_credentials = true;
    authority.remove_prefix(at + 1);
  }
  absl::string_view host = authority;
  absl::string_view port;
  bool has_port = false;
  const bool bracketed = absl::ConsumePrefix(&host, "[");
  if (bracketed) {
    const size_t close = host.find(']');
    if (close == host.npos) return bad("unterminated [");
    absl::string_view after = host.substr(close + 1);
    host = host.substr(0, close);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after ]");
      has_port = true;
      port = after.substr(1);
    }
  } else if (const size_t colon = host.find(':'); colon != host.npos) {
    has_port = true;
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return bad("no host");
  for (char c : host) {
    if (!IsHostChar(c, bracketed)) return bad("bad character in host");
  }
  out.host = std::string(host);
  out.port = DefaultPort(out.scheme);
  if (has_port && !port.empty()) {  // "host:" means the default port
    int p = 0;
    if (!std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(port, &p) || p < 1 || p > 65535) {
      return bad("bad port");
    }
    out.port = p;
  }
  target = target.substr(0, target.find('#'));  // fragments stay client-side
  out.target = absl::StrCat(absl::StartsWith(target, "/") ? "" : "/", target);
  return out;
}

absl::StatusOr<std::string> NormalizePprofBaseUrl(absl::string_view url) {
  // First, and without echoing the URL: it may hold a password.
  if (HasCredentials(url)) {
    return absl::InvalidArgumentError(
        "URL must not contain credentials (user:password@); use basic_auth");
  }
  if (HasSpaceOrControlChar(url)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "URL \"%s\" must not contain spaces or control characters", url));
  }
  absl::string_view scheme;
  for (absl::string_view candidate : {"http://", "https://"}) {
    if (absl::StartsWithIgnoreCase(url, candidate)) scheme = candidate;
  }
  if (scheme.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("URL \"%s\" must start with http:// or https://", url));
  }
  const absl::string_view rest = url.substr(scheme.size());
  const size_t path_start = std::min(rest.find('/'), rest.size());
  const absl::string_view host = rest.substr(0, path_start);
  absl::string_view path = rest.substr(path_start);
  if (host.empty() || host.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("URL \"%s\" has no host", url));
  }
  // Endpoint names are appended to the path; a query would end up in front.
  if (path.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("URL \"%s\" must not have a query or fragment", url));
  }
  if (path.empty() || path == "/") path = kDefaultPprofPath;
  return absl::StrCat(scheme, host, path, absl::EndsWith(path, "/") ? "" : "/");
}

absl::StatusOr<std::string> PprofBaseUrlOfAddress(absl::string_view entry,
                                                  absl::string_view scheme) {
  if (absl::StrContains(entry, "://")) return NormalizePprofBaseUrl(entry);
  if (entry.empty()) return absl::InvalidArgumentError("must not be empty");
  if (entry.find_first_of("/?#@") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("\"%s\" is neither host:port nor an http(s):// URL",
                        ShownOrHidden(entry)));
  }
  return NormalizePprofBaseUrl(absl::StrCat(scheme, "://", entry));
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(
    const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\" lacks a :port"));
  }
  absl::string_view host = absl::string_view(address).substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", address, "\" has a bad port"));
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(std::string(host), port);
}

}  // namespace exporter
