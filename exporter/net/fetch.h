// Fetching: one HTTP GET of a pprof endpoint, bounded in time and in size,
// whose failure is sorted into one of a few reasons the exporter can count.
// A CPU profile answers only after `seconds`, so "slow" is normal here and
// the deadline is the caller's to choose.
//
// This module must not decode, decompress or parse the body (pprof bodies
// are gzip data and are handed over byte for byte), record metrics, retry,
// or schedule anything. Callers do those things with the FetchResult.
#ifndef PPROF_EXPORTER_EXPORTER_NET_FETCH_H_
#define PPROF_EXPORTER_EXPORTER_NET_FETCH_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/net/scrape_failure.h"

namespace exporter {

// What a Get produced: the body, or the failure (kConnect, kTimeout,
// kHttpStatus, kProfilerBusy, kTooLarge or kCancelled) and what happened.
struct FetchResult {
  // Set when the Get failed. Its message names the URL without
  // credentials, the status, and the start of an error body.
  std::optional<ScrapeFailure> failure;
  // The payload, exactly as received; empty on failure.
  std::string body;
  // The response status if one arrived, else 0.
  int http_status = 0;
};

// How to talk to a secured target (Prometheus's scrape-config keys
// basic_auth, authorization and tls_config). Part of TargetConfig, so
// compared on reload. Holds secrets: never log, print or export it.
struct TlsClientOptions {
  std::string ca_file;      // PEM CAs to verify the target; "" = system CAs
  std::string cert_file;    // client certificate (PEM), with key_file
  std::string key_file;
  std::string server_name;  // SNI and the name verified; "" = URL host
  bool insecure_skip_verify = false;
  // An OpenSSL *_VERSION constant (TLS1_2_VERSION = 0x0303, ...); 0 keeps
  // the library's default.
  int min_version = 0;

  bool operator==(const TlsClientOptions&) const = default;
};

struct FetchOptions {
  enum class Auth { kNone, kBasic, kAuthorization };
  Auth auth = Auth::kNone;
  // kBasic: username and either password or password_file.
  std::string username;
  std::string password;
  std::string password_file;
  // kAuthorization: "<type> <credentials>", credentials inline or from
  // credentials_file.
  std::string auth_type = "Bearer";
  std::string credentials;
  std::string credentials_file;
  // Only used for https:// URLs.
  TlsClientOptions tls;

  bool operator==(const FetchOptions&) const = default;
};

// The Authorization header value for `options` ("" for kNone), in
// fetch_auth.cc. Reads password_file / credentials_file now (surrounding
// whitespace trimmed, as Prometheus does), so rotated secrets are picked up
// by the next scrape. Errors name the file but never its contents.
absl::StatusOr<std::string> AuthorizationHeader(const FetchOptions& options);

// Thread-safe; one per daemon. Every Get uses its own connection (no
// keep-alive), so concurrent Gets do not wait for each other.
class Fetcher {
 public:
  Fetcher();  // User-Agent pprof_exporter/<this build's version>
  explicit Fetcher(absl::string_view version);
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;
  // No Get may be running when the Fetcher is destroyed.
  ~Fetcher();

  // GETs `url` and returns the body if the answer is 2xx and at most
  // max_bytes long. `timeout` covers the whole request: a target that
  // answers late fails at the deadline (plus the time spent connecting, at
  // most 5 s), and a trickling body at its first byte past the deadline.
  // Only a body that stops dead mid-way is cut later, by the idle read
  // timeout (= timeout), so at worst about one timeout late. Never buffers
  // more than max_bytes.
  //
  // `options` adds credentials and TLS settings. A secret file that cannot
  // be read, a client certificate that cannot be loaded and every TLS
  // failure (unknown CA, wrong name, handshake refused) are kConnect; a 401
  // or 403 is kHttpStatus like any other status. Secrets never appear in
  // the failure's message, not even when the target echoes them in its body.
  FetchResult Get(const std::string& url, absl::Duration timeout,
                  size_t max_bytes, const FetchOptions& options = {});

  // Interrupts every Get in flight (they return kCancelled) and makes all
  // later Gets return kCancelled at once. Returns when every Get in flight
  // has been interrupted; that can wait for a DNS lookup or connect that is
  // under way. Meant for SIGTERM.
  void StopAll();

  const std::string& user_agent() const { return user_agent_; }

 private:
  struct InFlight;

  const std::string user_agent_;
  // std::mutex rather than absl::Mutex: Debian's abseil is not built for
  // ThreadSanitizer, which would then report false races here.
  std::mutex mu_;
  std::atomic<bool> stopped_{false};  // written under mu_ only
  std::vector<std::shared_ptr<InFlight>> in_flight_;  // guarded by mu_
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_NET_FETCH_H_
