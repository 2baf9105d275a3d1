// Security of the exporter's own endpoints: --web.config.file, in the
// format of Prometheus's exporter-toolkit web configuration:
//
//   tls_server_config:                 # absent or empty: plain HTTP
//     cert_file: server.crt            # PEM, may hold the chain
//     key_file: server.key
//     client_ca_file: ca.crt           # CAs that client certificates need
//     client_auth_type: RequireAndVerifyClientCert
//       # NoClientCert (default) | RequestClientCert | RequireAnyClientCert
//       # | VerifyClientCertIfGiven | RequireAndVerifyClientCert
//     min_version: TLS12               # TLS10..TLS13; default TLS12
//     max_version: TLS13               # default: the newest OpenSSL has
//   basic_auth_users:                  # user: bcrypt hash ($2a$/$2b$/$2y$)
//     alice: $2b$12$...
//
// Relative paths are relative to the web config file's directory. Unknown
// keys are errors ("file:line: key: problem"); exporter-toolkit keys that
// pprof_exporter does not implement (cipher_suites, http_server_config, ...)
// are errors that say so, rather than being silently ignored.
//
// With basic_auth_users set, every endpoint (metrics, landing page,
// /-/healthy, /-/ready, /-/reload, and unknown paths) answers 401 with
// "WWW-Authenticate: Basic" unless the request carries valid credentials.
#ifndef PPROF_EXPORTER_EXPORTER_WEB_WEB_CONFIG_H_
#define PPROF_EXPORTER_EXPORTER_WEB_WEB_CONFIG_H_

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace exporter {

enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // verified against client_ca_file if sent
  kRequireAndVerifyClientCert,  // required and verified
};

struct TlsServerConfig {
  std::string cert_file;  // paths already resolved against the file's dir
  std::string key_file;
  std::string client_ca_file;  // "" = none
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  int min_version = 0x0303;  // protocol version numbers: TLS 1.2
  int max_version = 0;       // 0 = no limit
};

struct WebConfig {
  std::optional<TlsServerConfig> tls;  // nullopt: plain HTTP
  std::map<std::string, std::string> basic_auth_users;  // user -> bcrypt

  // Whether a client must authenticate: basic auth, or a client
  // certificate verified against client_ca_file.
  bool RequiresAuth() const;
};

// Parses a web config file's contents; `filename` is used in error messages
// and to resolve relative paths. An empty document is a valid, empty
// config (plain HTTP, no auth), as with exporter-toolkit.
absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml_text,
                                         absl::string_view filename);
// Reads `path` and parses it.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

// Sets up `ctx` (for httplib::SSLServer's callback constructor): the
// certificate chain and key, the protocol versions, the client CA and the
// client auth mode. Errors name the file and OpenSSL's reason.
absl::Status ConfigureServerTls(const TlsServerConfig& tls, ssl_ctx_st* ctx);

// Log lines to warn with when serving on an address that is (not)
// loopback with `web`: profiles name functions and file paths, and basic
// auth without TLS sends passwords in the clear.
std::vector<std::string> ExposureWarnings(bool loopback, const WebConfig& web);

// Whether `password` matches `hash` (a $2a$/$2b$/$2y$ bcrypt hash), using
// libcrypt; the result is compared in constant time. False for any
// malformed hash and for passwords holding a NUL byte.
bool VerifyBcrypt(absl::string_view password, const std::string& hash);

// Checks Authorization header values against basic_auth_users.
// Thread-safe. Successful verifications are cached (bcrypt takes 50-250 ms
// by design), keyed by an HMAC of user, hash and password under a key
// random per process, so the cache holds no password; at most `cache_size`
// entries, the oldest dropped first. bcrypt runs one at a time, so a flood
// of wrong passwords occupies one core at most. An unknown user costs a
// bcrypt run too, so timing does not tell which users exist.
class BasicAuthenticator {
 public:
  explicit BasicAuthenticator(std::map<std::string, std::string> users,
                              size_t cache_size = 1024);
  BasicAuthenticator(const BasicAuthenticator&) = delete;
  BasicAuthenticator& operator=(const BasicAuthenticator&) = delete;

  // `authorization` is the header's value ("Basic base64(user:password)"),
  // or "" when there is none.
  bool Check(absl::string_view authorization);

  // bcrypt runs so far; for tests of the cache.
  size_t bcrypt_runs() const;

 private:
  std::string CacheKey(absl::string_view user, absl::string_view hash,
                       absl::string_view password) const;

  const std::map<std::string, std::string> users_;
  // Checked for unknown users: as costly as the costliest user's hash.
  const std::string dummy_hash_;
  const size_t cache_size_;
  std::string hmac_key_;
  mutable std::mutex mu_;  // guards the next three
  absl::flat_hash_set<std::string> cache_;
  std::deque<std::string> cache_order_;
  size_t bcrypt_runs_ = 0;
  std::mutex bcrypt_mu_;  // one bcrypt at a time
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_WEB_WEB_CONFIG_H_
