#include "exporter/fetch.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace exporter {
namespace {

constexpr absl::string_view kVersion = "0.1.0";

// Connecting to a sidecar or a pod should take milliseconds; waiting longer
// than this only delays the kConnect/kTimeout verdict.
constexpr absl::Duration kMaxConnectTimeout = absl::Seconds(5);
// The request is one small header block.
constexpr absl::Duration kMaxWriteTimeout = absl::Seconds(5);
// An error body is only read for the log line; pprof's are one line long.
constexpr size_t kErrorBodyCap = 4096;
constexpr size_t kErrorSnippetBytes = 200;
// A read that failed this close to the deadline is taken for the read
// timeout firing (httplib reports both that and a reset as Error::Read).
constexpr absl::Duration kDeadlineSlack = absl::Milliseconds(50);
// Content-Length is the server's claim; do not allocate more than this
// on its word before bytes arrive.
constexpr size_t kMaxReserve = size_t{16} << 20;

// Token and password files are small; do not read a whole disk on a typo
// such as /dev/zero.
constexpr size_t kMaxSecretFileBytes = size_t{64} << 10;

bool IsHostChar(char c, bool bracketed) {
  if (bracketed) return absl::ascii_isxdigit(c) || c == ':' || c == '.';
  return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
}

std::string HostForUrl(const ParsedUrl& u) {
  return u.host.find(':') != std::string::npos ? absl::StrCat("[", u.host, "]")
                                               : u.host;
}

int DefaultPort(absl::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

// Everything a Get learns through httplib's callbacks; they all run on the
// calling thread.
struct Observed {
  int status = 0;
  bool busy_header = false;
  bool deadline_hit = false;
  bool too_large = false;
  uint64_t content_length = 0;  // when too_large came from the header
  std::string error_body;       // start of a non-2xx body
};

bool Is2xx(int status) { return status >= 200 && status < 300; }

std::string Snippet(absl::string_view body) {
  body = absl::StripTrailingAsciiWhitespace(body);
  const bool cut = body.size() > kErrorSnippetBytes;
  return absl::StrCat("\"", absl::CHexEscape(body.substr(0, kErrorSnippetBytes)),
                      cut ? "...\"" : "\"");
}

// httplib 0.11 sends with flags 0, so writing to a connection that the
// peer or StopAll has shut down raises SIGPIPE, which kills the process
// unless it is ignored. Rather than change the process-wide disposition,
// block it on the calling thread for one Get and discard any that arrived.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;  // not ours to eat
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_mask_);
  }
  ~ScopedSigpipeBlock() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      const timespec no_wait = {0, 0};
      sigtimedwait(&pipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// Secrets end up in a request header: CR or LF would split it.
bool HasControlChar(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// The whole file with surrounding whitespace trimmed. Errors name `key` and
// the path, never the contents.
absl::StatusOr<std::string> ReadSecretFile(absl::string_view key,
                                           const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot read ", key, " ", path));
  }
  std::string data(kMaxSecretFileBytes + 1, '\0');
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (file.bad()) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot read ", key, " ", path));
  }
  data.resize(static_cast<size_t>(file.gcount()));
  if (data.size() > kMaxSecretFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, " ", path, " is larger than ", kMaxSecretFileBytes, " bytes"));
  }
  return std::string(absl::StripAsciiWhitespace(data));
}

// An inline secret or the contents of its file.
absl::StatusOr<std::string> Secret(absl::string_view inline_key,
                                   const std::string& inline_value,
                                   absl::string_view file_key,
                                   const std::string& file) {
  if (file.empty()) {
    if (HasControlChar(inline_value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(inline_key, " contains control characters"));
    }
    return inline_value;
  }
  absl::StatusOr<std::string> value = ReadSecretFile(file_key, file);
  if (value.ok() && HasControlChar(*value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_key, " ", file, " contains control characters"));
  }
  return value;
}

// Replaces every secret in `text` (an error body a target sent back, which
// may echo the request) with <secret>.
std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (!secret.empty()) absl::StrReplaceAll({{secret, "<secret>"}}, &text);
  }
  return text;
}

// `host` as a numeric address, resolving a name if need be; for
// httplib's host-to-address map, which only takes numeric addresses. Only
// used with tls_config.server_name; a name lookup here blocks without the
// request's timeout (like httplib's own lookups).
absl::StatusOr<std::string> NumericAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1 ||
      inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    return host;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot resolve ", host, ": ", rc != 0 ? gai_strerror(rc) : "none"));
  }
  char numeric[NI_MAXHOST];
  const int ni = getnameinfo(found->ai_addr, found->ai_addrlen, numeric,
                             sizeof(numeric), nullptr, 0, NI_NUMERICHOST);
  freeaddrinfo(found);
  if (ni != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", host, ": ", gai_strerror(ni)));
  }
  return std::string(numeric);
}

// Checks that a TLS file can be opened, for an error that names it rather
// than httplib's generic "SSL certificates loading failed".
absl::Status CheckReadable(absl::string_view key, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot read tls_config.", key, " ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> AuthorizationHeader(const FetchOptions& options) {
  switch (options.auth) {
    case FetchOptions::Auth::kNone:
      return std::string();
    case FetchOptions::Auth::kBasic: {
      if (HasControlChar(options.username) ||
          options.username.find(':') != std::string::npos) {
        return absl::InvalidArgumentError(
            "basic_auth.username contains ':' or control characters");
      }
      absl::StatusOr<std::string> password =
          Secret("basic_auth.password", options.password,
                 "basic_auth.password_file", options.password_file);
      if (!password.ok()) return password.status();
      return absl::StrCat(
          "Basic ",
          absl::Base64Escape(absl::StrCat(options.username, ":", *password)));
    }
    case FetchOptions::Auth::kAuthorization: {
      absl::StatusOr<std::string> credentials =
          Secret("authorization.credentials", options.credentials,
                 "authorization.credentials_file", options.credentials_file);
      if (!credentials.ok()) return credentials.status();
      if (HasControlChar(options.auth_type) ||
          options.auth_type.find(' ') != std::string::npos) {
        return absl::InvalidArgumentError(
            "authorization.type must be a single word");
      }
      return absl::StrCat(options.auth_type, " ", *credentials);
    }
  }
  return std::string();
}

absl::string_view FailureReason(FetchFailure failure) {
  switch (failure) {
    case FetchFailure::kNone: return "";
    case FetchFailure::kConnect: return "connect";
    case FetchFailure::kTimeout: return "timeout";
    case FetchFailure::kHttpStatus: return "http_status";
    case FetchFailure::kProfilerBusy: return "profiler_busy";
    case FetchFailure::kTooLarge: return "too_large";
    case FetchFailure::kCancelled: return "cancelled";
  }
  return "";
}

std::string ParsedUrl::ForLog() const {
  return absl::StrCat(scheme, "://", HostForUrl(*this), ":", port, target);
}

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  auto bad = [url](absl::string_view why) {
    // The message ends up in logs: never echo a URL that may hold a password.
    return absl::InvalidArgumentError(absl::StrCat(
        "bad URL (", why, "): ",
        url.find('@') == url.npos ? url : "<not shown: contains '@'>"));
  };
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return bad("whitespace or control character");
  }
  const size_t sep = url.find("://");
  if (sep == url.npos) return bad("not absolute");
  ParsedUrl out;
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return bad("scheme must be http or https");
  }
  absl::string_view rest = url.substr(sep + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, authority_end);
  absl::string_view target =
      authority_end == rest.npos ? "" : rest.substr(authority_end);

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

// One Get in flight. The client is shared so that StopAll can call stop()
// on it without holding mu_ while the Get finishes and drops it.
struct Fetcher::InFlight {
  std::unique_ptr<httplib::ClientImpl> client;
  // Set when httplib creates the socket, under the client's own socket
  // mutex. From then on a stop() is sure to hit the request: it waits for
  // that mutex and finds the request in flight. Before it, stop() sees no
  // socket and does nothing, so StopAll has to call it again.
  std::atomic<bool> socket_created{false};
};

Fetcher::Fetcher() : Fetcher(kVersion) {}

Fetcher::Fetcher(absl::string_view version)
    : user_agent_(absl::StrCat("pprof_exporter/", version)) {}

Fetcher::~Fetcher() = default;

FetchResult Fetcher::Get(const std::string& url, absl::Duration timeout,
                         size_t max_bytes, const FetchOptions& options) {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + timeout;
  FetchResult result;
  auto fail = [&result](FetchFailure f, std::string why) {
    result.failure = f;
    result.body.clear();
    result.error = std::move(why);
    return std::move(result);
  };

  absl::StatusOr<ParsedUrl> parsed = ParseUrl(url);
  // A malformed URL is a configuration error that config loading should
  // have caught; here it can only mean "cannot connect".
  if (!parsed.ok()) {
    return fail(FetchFailure::kConnect, std::string(parsed.status().message()));
  }
  const std::string what = absl::StrCat("GET ", parsed->ForLog());
  if (timeout <= absl::ZeroDuration()) {
    return fail(FetchFailure::kTimeout, absl::StrCat(what, ": no time left"));
  }
  if (stopped_.load()) {  // cheap early exit; re-checked under mu_ below
    return fail(FetchFailure::kCancelled, absl::StrCat(what, ": stopped"));
  }

  // Read secret files now, so that rotated tokens take effect at once.
  absl::StatusOr<std::string> authorization = AuthorizationHeader(options);
  if (!authorization.ok()) {
    return fail(FetchFailure::kConnect,
                absl::StrCat(what, ": ", authorization.status().message()));
  }
  // What must never show in result.error, even if the target echoes it.
  std::vector<std::string> secrets;
  if (!authorization->empty()) {
    secrets.push_back(*authorization);
    const size_t space = authorization->find(' ');
    secrets.push_back(authorization->substr(space + 1));
    if (options.auth == FetchOptions::Auth::kBasic) {
      std::string decoded;
      absl::Base64Unescape(secrets.back(), &decoded);
      secrets.push_back(decoded.substr(decoded.find(':') + 1));  // password
    }
    // Longest first, so a secret's parts are not replaced inside it first.
    std::sort(secrets.begin(), secrets.end(),
              [](const std::string& a, const std::string& b) {
                return a.size() > b.size();
              });
  }

  auto flight = std::make_shared<InFlight>();
  httplib::SSLClient* ssl = nullptr;
  // The name TLS verifies and sends as SNI.
  std::string tls_name = parsed->host;
  if (parsed->scheme == "https") {
    const TlsClientOptions& tls = options.tls;
    for (const auto& [key, path] :
         {std::pair<absl::string_view, const std::string&>{"ca_file",
                                                           tls.ca_file},
          {"cert_file", tls.cert_file},
          {"key_file", tls.key_file}}) {
      if (absl::Status readable = CheckReadable(key, path); !readable.ok()) {
        return fail(FetchFailure::kConnect,
                    absl::StrCat(what, ": ", readable.message()));
      }
    }
    if (!tls.server_name.empty()) tls_name = tls.server_name;
    std::unique_ptr<httplib::SSLClient> client =
        tls.cert_file.empty()
            ? std::make_unique<httplib::SSLClient>(tls_name, parsed->port)
            : std::make_unique<httplib::SSLClient>(tls_name, parsed->port,
                                                   tls.cert_file,
                                                   tls.key_file);
    if (!client->is_valid()) {
      return fail(FetchFailure::kConnect,
                  absl::StrCat(what, ": cannot load the client certificate ",
                               tls.cert_file, " with key ", tls.key_file));
    }
    if (tls_name != parsed->host) {
      // httplib connects to the host it verifies; point that name at the
      // URL's host.
      absl::StatusOr<std::string> address = NumericAddress(parsed->host);
      if (!address.ok()) {
        return fail(FetchFailure::kConnect,
                    absl::StrCat(what, ": ", address.status().message()));
      }
      client->set_hostname_addr_map({{tls_name, *address}});
    }
    if (tls.insecure_skip_verify) {
      client->enable_server_certificate_verification(false);
    } else if (!tls.ca_file.empty()) {
      client->set_ca_cert_path(tls.ca_file);
    }
    if (tls.min_version != 0) {
      SSL_CTX_set_min_proto_version(client->ssl_context(), tls.min_version);
    }
    ssl = client.get();
    flight->client = std::move(client);
  } else {
    flight->client =
        std::make_unique<httplib::ClientImpl>(parsed->host, parsed->port);
  }
  httplib::ClientImpl& cli = *flight->client;
  cli.set_connection_timeout(
      absl::ToChronoMicroseconds(std::min(timeout, kMaxConnectTimeout)));
  // Idle limit per read: a CPU profile sends nothing for `seconds`.
  cli.set_read_timeout(absl::ToChronoMicroseconds(timeout));
  cli.set_write_timeout(
      absl::ToChronoMicroseconds(std::min(timeout, kMaxWriteTimeout)));
  cli.set_keep_alive(false);
  cli.set_follow_location(false);  // a redirect is a misconfigured target
  cli.set_decompress(false);       // the gzip payload must arrive unchanged
  cli.set_url_encode(false);       // the URL is already encoded; keep "+"
  // Replaces httplib's default options (SO_REUSEADDR, meaningless for a
  // client) with the marker StopAll relies on.
  cli.set_socket_options([f = flight.get()](socket_t) {
    f->socket_created.store(true);
  });

  httplib::Headers headers = {
      {"User-Agent", user_agent_},
      // httplib would offer gzip/br here; a compressed answer would either
      // be unpacked (pprof wants the gzip bytes) or double-wrapped.
      {"Accept-Encoding", "identity"},
      // httplib 0.11 writes IPv6 hosts without brackets.
      {"Host", parsed->port == DefaultPort(parsed->scheme)
                   ? HostForUrl(*parsed)
                   : absl::StrCat(HostForUrl(*parsed), ":", parsed->port)},
  };
  if (!authorization->empty()) {
    headers.emplace("Authorization", *authorization);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_.load()) {
      return fail(FetchFailure::kCancelled, absl::StrCat(what, ": stopped"));
    }
    in_flight_.push_back(flight);
  }

  Observed p;
  std::string& body = result.body;
  std::optional<ScopedSigpipeBlock> no_sigpipe(std::in_place);
  httplib::Result res = cli.Get(
      parsed->target, headers,
      [&](const httplib::Response& r) {
        p.status = r.status;
        p.busy_header = r.get_header_value("X-Go-Pprof") == "1";
        if (absl::Now() > deadline) {
          p.deadline_hit = true;
          return false;
        }
        if (!Is2xx(r.status) || !r.has_header("Content-Length")) return true;
        uint64_t len = 0;
        if (absl::SimpleAtoi(r.get_header_value("Content-Length"), &len)) {
          if (len > max_bytes) {
            p.too_large = true;
            p.content_length = len;
            return false;
          }
          body.reserve(std::min<uint64_t>(len, kMaxReserve));
        }
        return true;
      },
      [&](const char* data, size_t n) {
        // The read timeout restarts with every byte; a slow drip is only
        // caught here.
        if (absl::Now() > deadline) {
          p.deadline_hit = true;
          return false;
        }
        if (!Is2xx(p.status)) {
          const size_t take = std::min(n, kErrorBodyCap - p.error_body.size());
          p.error_body.append(data, take);
          return p.error_body.size() < kErrorBodyCap;
        }
        if (n > max_bytes - body.size()) {
          p.too_large = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
  no_sigpipe.reset();

  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), flight));
  }
  const httplib::Error err = res.error();
  result.http_status = p.status;

  // Order matters: a complete error answer outranks how reading it ended,
  // and our own aborts outrank the Canceled error they cause.
  if (p.status != 0 && !Is2xx(p.status)) {
    const bool busy = p.status == 500 && p.busy_header;
    return fail(busy ? FetchFailure::kProfilerBusy : FetchFailure::kHttpStatus,
                absl::StrCat(what, ": HTTP ", p.status, ", body ",
                             Snippet(Redact(p.error_body, secrets))));
  }
  if (p.too_large) {
    return fail(FetchFailure::kTooLarge,
                absl::StrCat(what, ": body (Content-Length ",
                             p.content_length > 0
                                 ? absl::StrCat(p.content_length)
                                 : std::string("unknown"),
                             ") exceeds the cap of ", max_bytes, " bytes"));
  }
  if (p.deadline_hit) {
    return fail(FetchFailure::kTimeout,
                absl::StrCat(what, ": not complete within ",
                             absl::FormatDuration(timeout)));
  }
  if (err == httplib::Error::Success) {
    result.error.clear();
    return result;
  }
  const std::string cause =
      absl::StrCat(" (httplib: ", httplib::to_string(err), ")");
  if (stopped_.load()) {
    return fail(FetchFailure::kCancelled, absl::StrCat(what, ": stopped", cause));
  }
  switch (err) {
    case httplib::Error::ConnectionTimeout:
      return fail(FetchFailure::kTimeout,
                  absl::StrCat(what, ": connect timed out", cause));
    case httplib::Error::Read:
      // Either the read timeout fired (it equals the whole budget, so the
      // deadline has passed) or the peer closed or reset the connection
      // early, which is counted as a connection failure.
      if (absl::Now() >= deadline - kDeadlineSlack) {
        return fail(FetchFailure::kTimeout,
                    absl::StrCat(what, ": no answer within ",
                                 absl::FormatDuration(timeout), cause));
      }
      return fail(FetchFailure::kConnect,
                  absl::StrCat(what, ": connection closed early", cause));
    case httplib::Error::SSLServerVerification: {
      const long verify = ssl != nullptr ? ssl->get_openssl_verify_result()
                                         : X509_V_OK;
      return fail(FetchFailure::kConnect,
                  verify != X509_V_OK
                      ? absl::StrCat(what, ": TLS certificate not trusted: ",
                                     X509_verify_cert_error_string(verify),
                                     cause)
                      : absl::StrCat(what, ": TLS certificate is not valid "
                                           "for ",
                                     tls_name, cause));
    }
    case httplib::Error::SSLConnection:
      return fail(FetchFailure::kConnect,
                  absl::StrCat(what, ": TLS handshake failed", cause));
    default:
      // Connection (refused, DNS, unreachable), Write, SSL*, and anything
      // unexpected: the target could not be talked to.
      return fail(FetchFailure::kConnect,
                  absl::StrCat(what, ": connection failed", cause));
  }
}

void Fetcher::StopAll() {
  std::vector<std::shared_ptr<InFlight>> pending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_.store(true);
    pending = in_flight_;
  }
  // A Get registered but not yet at its socket would ignore stop(); keep
  // stopping it until it has one (see InFlight) or has returned.
  while (true) {
    std::vector<std::shared_ptr<InFlight>> again;
    for (const auto& f : pending) {
      const bool had_socket = f->socket_created.load();
      f->client->stop();
      if (!had_socket) again.push_back(f);
    }
    if (again.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      again.erase(std::remove_if(again.begin(), again.end(),
                                 [this](const auto& f) {
                                   return std::find(in_flight_.begin(),
                                                    in_flight_.end(),
                                                    f) == in_flight_.end();
                                 }),
                  again.end());
    }
    if (again.empty()) return;
    pending = std::move(again);
    absl::SleepFor(absl::Milliseconds(1));
  }
}

}  // namespace exporter
