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
#include "exporter/url.h"
#include "exporter/version.h"

namespace exporter {
namespace {

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

// Everything a Get learns through httplib's callbacks; they all run on the
// calling thread.
struct Observed {
  int status = 0;
  bool busy_header = false;
  bool deadline_hit = false;
  bool too_large = false;
  uint64_t content_length = 0;  // when too_large came from the header
  std::string error_body;       // start of a non-2xx body
  httplib::Error error = httplib::Error::Success;
  long verify_result = X509_V_OK;  // https only: OpenSSL's verdict
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

FetchResult Failed(FailureReason reason, std::string message) {
  FetchResult result;
  result.failure = ScrapeFailure{reason, std::move(message)};
  return result;
}

// What a Get sends, and what must never show in its failure message.
struct Request {
  std::string what;  // "GET <URL without credentials>", for messages
  std::string tls_name;  // the name TLS verifies and sends as SNI
  httplib::Headers headers;
  std::vector<std::string> secrets;  // longest first
};

// Reads secret files now, so that rotated tokens take effect at once.
absl::StatusOr<Request> BuildRequest(const ParsedUrl& url,
                                     const FetchOptions& options,
                                     const std::string& user_agent) {
  absl::StatusOr<std::string> authorization = AuthorizationHeader(options);
  if (!authorization.ok()) return authorization.status();
  Request request;
  request.what = absl::StrCat("GET ", url.ForLog());
  request.tls_name =
      options.tls.server_name.empty() ? url.host : options.tls.server_name;
  request.headers = {
      {"User-Agent", user_agent},
      // httplib would offer gzip/br here; a compressed answer would either
      // be unpacked (pprof wants the gzip bytes) or double-wrapped.
      {"Accept-Encoding", "identity"},
      // httplib 0.11 writes IPv6 hosts without brackets.
      {"Host", url.HostHeader()},
  };
  if (authorization->empty()) return request;
  request.headers.emplace("Authorization", *authorization);
  std::vector<std::string>& secrets = request.secrets;
  secrets.push_back(*authorization);
  secrets.push_back(authorization->substr(authorization->find(' ') + 1));
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
  return request;
}

// A client for https://, set up as tls_config says.
absl::StatusOr<std::unique_ptr<httplib::SSLClient>> MakeTlsClient(
    const ParsedUrl& url, const TlsClientOptions& tls,
    const std::string& tls_name) {
  for (const auto& [key, path] :
       {std::pair<absl::string_view, const std::string&>{"ca_file",
                                                         tls.ca_file},
        {"cert_file", tls.cert_file},
        {"key_file", tls.key_file}}) {
    if (absl::Status readable = CheckReadable(key, path); !readable.ok()) {
      return readable;
    }
  }
  std::unique_ptr<httplib::SSLClient> client =
      tls.cert_file.empty()
          ? std::make_unique<httplib::SSLClient>(tls_name, url.port)
          : std::make_unique<httplib::SSLClient>(tls_name, url.port,
                                                 tls.cert_file, tls.key_file);
  if (!client->is_valid()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load the client certificate ", tls.cert_file,
                     " with key ", tls.key_file));
  }
  if (tls_name != url.host) {
    // httplib connects to the host it verifies; point that name at the
    // URL's host.
    absl::StatusOr<std::string> address = NumericAddress(url.host);
    if (!address.ok()) return address.status();
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
  return client;
}

void SetLimits(httplib::ClientImpl& client, absl::Duration timeout) {
  client.set_connection_timeout(
      absl::ToChronoMicroseconds(std::min(timeout, kMaxConnectTimeout)));
  // Idle limit per read: a CPU profile sends nothing for `seconds`.
  client.set_read_timeout(absl::ToChronoMicroseconds(timeout));
  client.set_write_timeout(
      absl::ToChronoMicroseconds(std::min(timeout, kMaxWriteTimeout)));
  client.set_keep_alive(false);
  client.set_follow_location(false);  // a redirect is a misconfigured target
  client.set_decompress(false);  // the gzip payload must arrive unchanged
  client.set_url_encode(false);  // the URL is already encoded; keep "+"
}

// Sends the request and reads the answer into `body` (2xx) or
// `seen.error_body`, giving up at `deadline` or past max_bytes.
Observed Send(httplib::ClientImpl& client, const ParsedUrl& url,
              const Request& request, absl::Time deadline, size_t max_bytes,
              std::string& body) {
  Observed seen;
  ScopedSigpipeBlock no_sigpipe;
  httplib::Result res = client.Get(
      url.target, request.headers,
      [&](const httplib::Response& r) {
        seen.status = r.status;
        seen.busy_header = r.get_header_value("X-Go-Pprof") == "1";
        if (absl::Now() > deadline) {
          seen.deadline_hit = true;
          return false;
        }
        if (!Is2xx(r.status) || !r.has_header("Content-Length")) return true;
        uint64_t len = 0;
        if (absl::SimpleAtoi(r.get_header_value("Content-Length"), &len)) {
          if (len > max_bytes) {
            seen.too_large = true;
            seen.content_length = len;
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
          seen.deadline_hit = true;
          return false;
        }
        if (!Is2xx(seen.status)) {
          const size_t take =
              std::min(n, kErrorBodyCap - seen.error_body.size());
          seen.error_body.append(data, take);
          return seen.error_body.size() < kErrorBodyCap;
        }
        if (n > max_bytes - body.size()) {
          seen.too_large = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
  seen.error = res.error();
  if (auto* ssl = dynamic_cast<httplib::SSLClient*>(&client)) {
    seen.verify_result = ssl->get_openssl_verify_result();
  }
  return seen;
}

// Why a transfer that httplib ended with an error (not Success) failed.
ScrapeFailure ClassifyTransportError(const Observed& seen,
                                     const Request& request,
                                     absl::Duration timeout,
                                     absl::Time deadline) {
  const std::string cause =
      absl::StrCat(" (httplib: ", httplib::to_string(seen.error), ")");
  const std::string& what = request.what;
  switch (seen.error) {
    case httplib::Error::ConnectionTimeout:
      return {FailureReason::kTimeout,
              absl::StrCat(what, ": connect timed out", cause)};
    case httplib::Error::Read:
      // Either the read timeout fired (it equals the whole budget, so the
      // deadline has passed) or the peer closed or reset the connection
      // early, which is counted as a connection failure.
      if (absl::Now() >= deadline - kDeadlineSlack) {
        return {FailureReason::kTimeout,
                absl::StrCat(what, ": no answer within ",
                             absl::FormatDuration(timeout), cause)};
      }
      return {FailureReason::kConnect,
              absl::StrCat(what, ": connection closed early", cause)};
    case httplib::Error::SSLServerVerification:
      return {FailureReason::kConnect,
              seen.verify_result != X509_V_OK
                  ? absl::StrCat(what, ": TLS certificate not trusted: ",
                                 X509_verify_cert_error_string(
                                     seen.verify_result),
                                 cause)
                  : absl::StrCat(what, ": TLS certificate is not valid for ",
                                 request.tls_name, cause)};
    case httplib::Error::SSLConnection:
      return {FailureReason::kConnect,
              absl::StrCat(what, ": TLS handshake failed", cause)};
    default:
      // Connection (refused, DNS, unreachable), Write, SSL*, and anything
      // unexpected: the target could not be talked to.
      return {FailureReason::kConnect,
              absl::StrCat(what, ": connection failed", cause)};
  }
}

// The failure a finished transfer amounts to, if any. Order matters: a
// complete error answer outranks how reading it ended, and our own aborts
// outrank the Canceled error they cause.
std::optional<ScrapeFailure> Classify(const Observed& seen,
                                      const Request& request,
                                      size_t max_bytes, absl::Duration timeout,
                                      absl::Time deadline, bool stopped) {
  const std::string& what = request.what;
  if (seen.status != 0 && !Is2xx(seen.status)) {
    const bool busy = seen.status == 500 && seen.busy_header;
    return ScrapeFailure{
        busy ? FailureReason::kProfilerBusy : FailureReason::kHttpStatus,
        absl::StrCat(what, ": HTTP ", seen.status, ", body ",
                     Snippet(Redact(seen.error_body, request.secrets))),
        seen.status};
  }
  if (seen.too_large) {
    return ScrapeFailure{
        FailureReason::kTooLarge,
        absl::StrCat(what, ": body (Content-Length ",
                     seen.content_length > 0
                         ? absl::StrCat(seen.content_length)
                         : std::string("unknown"),
                     ") exceeds the cap of ", max_bytes, " bytes")};
  }
  if (seen.deadline_hit) {
    return ScrapeFailure{FailureReason::kTimeout,
                         absl::StrCat(what, ": not complete within ",
                                      absl::FormatDuration(timeout))};
  }
  if (seen.error == httplib::Error::Success) return std::nullopt;
  if (stopped) {
    return ScrapeFailure{
        FailureReason::kCancelled,
        absl::StrCat(what, ": stopped (httplib: ",
                     httplib::to_string(seen.error), ")")};
  }
  return ClassifyTransportError(seen, request, timeout, deadline);
}

}  // namespace

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
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<ParsedUrl> parsed = ParseUrl(url);
  // A malformed URL is a configuration error that config loading should
  // have caught; here it can only mean "cannot connect".
  if (!parsed.ok()) {
    return Failed(FailureReason::kConnect,
                  std::string(parsed.status().message()));
  }
  const std::string what = absl::StrCat("GET ", parsed->ForLog());
  if (timeout <= absl::ZeroDuration()) {
    return Failed(FailureReason::kTimeout,
                  absl::StrCat(what, ": no time left"));
  }
  if (stopped_.load()) {  // cheap early exit; re-checked under mu_ below
    return Failed(FailureReason::kCancelled, absl::StrCat(what, ": stopped"));
  }
  absl::StatusOr<Request> request = BuildRequest(*parsed, options, user_agent_);
  if (!request.ok()) {
    return Failed(FailureReason::kConnect,
                  absl::StrCat(what, ": ", request.status().message()));
  }
  auto flight = std::make_shared<InFlight>();
  if (parsed->scheme == "https") {
    auto client = MakeTlsClient(*parsed, options.tls, request->tls_name);
    if (!client.ok()) {
      return Failed(FailureReason::kConnect,
                    absl::StrCat(what, ": ", client.status().message()));
    }
    flight->client = *std::move(client);
  } else {
    flight->client =
        std::make_unique<httplib::ClientImpl>(parsed->host, parsed->port);
  }
  SetLimits(*flight->client, timeout);
  // Replaces httplib's default options (SO_REUSEADDR, meaningless for a
  // client) with the marker StopAll relies on.
  flight->client->set_socket_options(
      [f = flight.get()](socket_t) { f->socket_created.store(true); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_.load()) {
      return Failed(FailureReason::kCancelled, absl::StrCat(what, ": stopped"));
    }
    in_flight_.push_back(flight);
  }
  FetchResult result;
  const Observed seen = Send(*flight->client, *parsed, *request, deadline,
                             max_bytes, result.body);
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), flight));
  }
  result.http_status = seen.status;
  result.failure = Classify(seen, *request, max_bytes, timeout, deadline,
                            stopped_.load());
  if (result.failure) result.body.clear();
  return result;
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
