#include "exporter/web/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "exporter/config/config_yaml.h"
#include "yaml-cpp/yaml.h"

namespace exporter {
namespace {

using config_internal::ConfigEntry;
using config_internal::ConfigMap;
using config_internal::ConfigNode;
using config_internal::ParseYamlDocument;
using config_internal::ReadConfigFile;

constexpr absl::string_view kTopKeys[] = {"tls_server_config",
                                          "basic_auth_users"};
constexpr absl::string_view kTlsKeys[] = {
    "cert_file",        "key_file",    "client_ca_file",
    "client_auth_type", "min_version", "max_version"};
// exporter-toolkit keys that pprof_exporter does not implement; named in
// the error so nobody wonders why the setting has no effect.
constexpr absl::string_view kUnsupportedKeys[] = {
    "http_server_config", "cert",         "key",
    "client_ca",          "cipher_suites", "curve_preferences",
    "prefer_server_cipher_suites",        "client_allowed_sans"};

// A valid bcrypt hash of a password nobody has, checked when the user is
// unknown so that such requests take as long as a wrong password. Its cost
// (the "10") becomes the costliest configured user's (DummyHashFor):
// bcrypt's time doubles per cost step.
constexpr char kDummyHash[] =
    "$2b$10$pprofexporterdummysale6/Owz1KcPEl0OYYDZvoRBGmpYQ5iLbK";

struct ClientAuthName {
  absl::string_view name;
  ClientAuth value;
};
constexpr ClientAuthName kClientAuthNames[] = {
    {"NoClientCert", ClientAuth::kNoClientCert},
    {"RequestClientCert", ClientAuth::kRequestClientCert},
    {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
    // exporter-toolkit's old spelling of RequireAnyClientCert.
    {"RequireClientCert", ClientAuth::kRequireAnyClientCert},
    {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
    {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
};

// Rejects the exporter-toolkit keys we do not implement, then any other
// key not in `known`.
absl::StatusOr<ConfigMap> MapWithKeys(
    const ConfigNode& node, absl::Span<const absl::string_view> known) {
  absl::StatusOr<ConfigMap> all = node.FreeFormMap();
  if (!all.ok()) return all.status();
  for (const ConfigEntry& entry : all->entries()) {
    if (std::find(std::begin(kUnsupportedKeys), std::end(kUnsupportedKeys),
                  entry.key) != std::end(kUnsupportedKeys)) {
      return entry.value.Error(
          "is an exporter-toolkit setting that pprof_exporter does not "
          "support");
    }
  }
  return node.Map(known);
}

// $2a$, $2b$ or $2y$, a two-digit cost 04..31, 53 characters of bcrypt's
// base64 (22 salt, 31 hash).
bool LooksLikeBcrypt(absl::string_view hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' ||
      !absl::ascii_isdigit(hash[4]) || !absl::ascii_isdigit(hash[5]) ||
      hash[6] != '$') {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return false;
  return std::all_of(hash.begin() + 7, hash.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '/';
  });
}

// kDummyHash at the highest cost of `users` (bcrypt hashes; others are
// rejected when the web config is parsed): not cheaper, which would tell
// which names exist, and not costlier, which would too.
std::string DummyHashFor(const std::map<std::string, std::string>& users) {
  std::string cost;  // two digits, so they compare as numbers do
  for (const auto& [user, hash] : users) {
    if (LooksLikeBcrypt(hash)) cost = std::max(cost, hash.substr(4, 2));
  }
  std::string dummy = kDummyHash;
  if (!cost.empty()) dummy.replace(4, 2, cost);
  return dummy;
}

absl::StatusOr<std::optional<TlsServerConfig>> ParseTls(
    const ConfigNode& node) {
  absl::StatusOr<ConfigMap> fields = MapWithKeys(node, kTlsKeys);
  if (!fields.ok()) return fields.status();
  // Like exporter-toolkit: an empty section means plain HTTP.
  if (fields->entries().empty()) return std::nullopt;
  TlsServerConfig tls;
  for (auto [key, field] : {std::pair{"cert_file", &tls.cert_file},
                            std::pair{"key_file", &tls.key_file},
                            std::pair{"client_ca_file", &tls.client_ca_file}}) {
    if (const ConfigNode* value = fields->Find(key)) {
      absl::StatusOr<std::string> path = value->Path();
      if (!path.ok()) return path.status();
      *field = *std::move(path);
    }
  }
  for (absl::string_view required : {"cert_file", "key_file"}) {
    if (fields->Find(required) == nullptr) {
      return node.Error(
          absl::StrFormat("missing required key \"%s\"", required));
    }
  }
  const ConfigNode* auth_node = fields->Find("client_auth_type");
  if (auth_node != nullptr) {
    absl::StatusOr<std::string> name = auth_node->String();
    if (!name.ok()) return name.status();
    const auto* found =
        std::find_if(std::begin(kClientAuthNames), std::end(kClientAuthNames),
                     [&](const ClientAuthName& n) { return n.name == *name; });
    if (found == std::end(kClientAuthNames)) {
      return auth_node->Error(absl::StrCat(
          "expected one of NoClientCert, RequestClientCert, "
          "RequireAnyClientCert, VerifyClientCertIfGiven, "
          "RequireAndVerifyClientCert, got \"",
          absl::CEscape(*name), "\""));
    }
    tls.client_auth = found->value;
  }
  if (!tls.client_ca_file.empty() &&
      tls.client_auth == ClientAuth::kNoClientCert) {
    return fields->Find("client_ca_file")
        ->Error(
            "set, but client_auth_type is NoClientCert: client certificates "
            "would never be asked for");
  }
  if (tls.client_ca_file.empty() &&
      (tls.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
       tls.client_auth == ClientAuth::kRequireAndVerifyClientCert)) {
    return auth_node->Error(
        "verifying client certificates needs client_ca_file");
  }
  const ConfigNode* min_node = fields->Find("min_version");
  const ConfigNode* max_node = fields->Find("max_version");
  if (min_node != nullptr) {
    absl::StatusOr<int> version = min_node->TlsVersion();
    if (!version.ok()) return version.status();
    tls.min_version = *version;
  }
  if (max_node != nullptr) {
    absl::StatusOr<int> version = max_node->TlsVersion();
    if (!version.ok()) return version.status();
    tls.max_version = *version;
  }
  if (tls.max_version != 0 && tls.max_version < tls.min_version) {
    return (max_node != nullptr ? max_node : min_node)
        ->Error("max_version is older than min_version");
  }
  return tls;
}

absl::StatusOr<std::map<std::string, std::string>> ParseUsers(
    const ConfigNode& node) {
  absl::StatusOr<ConfigMap> entries = node.FreeFormMap();
  if (!entries.ok()) return entries.status();
  std::map<std::string, std::string> users;
  for (const ConfigEntry& entry : entries->entries()) {
    if (entry.key.empty() || entry.key.find(':') != std::string::npos) {
      return entry.value.Error("user names must be non-empty without ':'");
    }
    if (entry.value.IsNull()) return entry.value.Error("missing bcrypt hash");
    absl::StatusOr<std::string> hash = entry.value.String();
    if (!hash.ok()) return hash.status();
    if (!LooksLikeBcrypt(*hash)) {
      // The value is not shown: it may be a plain password put there by
      // mistake.
      return entry.value.Error(
          "not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04-31, 60 "
          "characters; e.g. from `htpasswd -nbBC 10 USER PASSWORD`)");
    }
    users.emplace(entry.key, *std::move(hash));
  }
  return users;
}

absl::StatusOr<WebConfig> ParseDocument(const ConfigNode& root) {
  absl::StatusOr<ConfigMap> sections = MapWithKeys(root, kTopKeys);
  if (!sections.ok()) return sections.status();
  WebConfig config;
  if (const ConfigNode* tls = sections->Find("tls_server_config")) {
    absl::StatusOr<std::optional<TlsServerConfig>> parsed = ParseTls(*tls);
    if (!parsed.ok()) return parsed.status();
    config.tls = *std::move(parsed);
  }
  if (const ConfigNode* users = sections->Find("basic_auth_users")) {
    absl::StatusOr<std::map<std::string, std::string>> parsed =
        ParseUsers(*users);
    if (!parsed.ok()) return parsed.status();
    config.basic_auth_users = *std::move(parsed);
  }
  return config;
}

// Everything in OpenSSL's error queue, which is emptied.
std::string OpenSslErrors() {
  std::vector<std::string> errors;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    errors.emplace_back(buf);
  }
  return errors.empty() ? "unknown error" : absl::StrJoin(errors, "; ");
}

absl::Status TlsError(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", OpenSslErrors()));
}

// Accepts any certificate: for the modes that ask for one without
// verifying it.
int AcceptAnyCertificate(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

std::optional<std::pair<std::string, std::string>> ParseBasicAuth(
    absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  const size_t space = header.find(' ');
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(header.substr(0, space), "basic")) {
    return std::nullopt;
  }
  std::string decoded;
  if (!absl::Base64Unescape(
          absl::StripLeadingAsciiWhitespace(header.substr(space + 1)),
          &decoded)) {
    return std::nullopt;
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

}  // namespace

bool WebConfig::RequiresAuth() const {
  return !basic_auth_users.empty() ||
         (tls.has_value() &&
          tls->client_auth == ClientAuth::kRequireAndVerifyClientCert);
}

absl::StatusOr<WebConfig> ParseWebConfig(absl::string_view yaml_text,
                                         absl::string_view filename) {
  return ParseYamlDocument<WebConfig>(yaml_text, filename, ParseDocument);
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadConfigFile(path);
  if (!contents.ok()) return contents.status();
  return ParseWebConfig(*contents, path);
}

absl::Status ConfigureServerTls(const TlsServerConfig& tls, ssl_ctx_st* ctx) {
  ERR_clear_error();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_min_proto_version(ctx, tls.min_version) != 1) {
    return TlsError("tls_server_config.min_version");
  }
  if (tls.max_version != 0 &&
      SSL_CTX_set_max_proto_version(ctx, tls.max_version) != 1) {
    return TlsError("tls_server_config.max_version");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    return TlsError(absl::StrCat("cannot load cert_file ", tls.cert_file));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    return TlsError(absl::StrCat("cannot load key_file ", tls.key_file));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return TlsError(absl::StrCat("key_file ", tls.key_file,
                                 " does not match cert_file ", tls.cert_file));
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(),
                                      nullptr) != 1) {
      return TlsError(
          absl::StrCat("cannot load client_ca_file ", tls.client_ca_file));
    }
    // The CA names sent with the certificate request, so clients pick the
    // right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      return TlsError(
          absl::StrCat("no CA certificates in client_ca_file ",
                       tls.client_ca_file));
    }
    SSL_CTX_set_client_CA_list(ctx, names);
  }
  // Client certificates and session resumption need a session id context.
  static constexpr unsigned char kSessionContext[] = "pprof_exporter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  switch (tls.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx,
                         SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(
          ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return absl::OkStatus();
}

std::vector<std::string> ExposureWarnings(bool loopback,
                                          const WebConfig& web) {
  std::vector<std::string> warnings;
  if (loopback) return warnings;
  if (!web.RequiresAuth()) {
    warnings.push_back(
        "listening beyond loopback without authentication: profiles name "
        "functions and paths; restrict access or set basic_auth_users or "
        "client certificates in --web.config.file");
  }
  if (!web.basic_auth_users.empty() && !web.tls.has_value()) {
    warnings.push_back(
        "basic auth without TLS beyond loopback: passwords cross the network "
        "in the clear; set tls_server_config in --web.config.file");
  }
  return warnings;
}

bool VerifyBcrypt(absl::string_view password, const std::string& hash) {
  // crypt takes C strings: "a\0b" would be checked as "a".
  if (password.find('\0') != absl::string_view::npos) return false;
  if (!LooksLikeBcrypt(hash)) return false;
  const std::string phrase(password);
  auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on the stack
  const char* result = crypt_r(phrase.c_str(), hash.c_str(), data.get());
  // libcrypt fails with NULL or a string starting with '*'.
  if (result == nullptr || result[0] == '*') return false;
  const size_t length = strnlen(result, CRYPT_OUTPUT_SIZE);
  const bool same = length == hash.size() &&
                    CRYPTO_memcmp(result, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return same;
}

BasicAuthenticator::BasicAuthenticator(
    std::map<std::string, std::string> users, size_t cache_size)
    : users_(std::move(users)),
      dummy_hash_(DummyHashFor(users_)),
      cache_size_(cache_size) {
  hmac_key_.resize(32);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(hmac_key_.data()),
                 static_cast<int>(hmac_key_.size())) != 1) {
    // Still correct, only the cache keys are then guessable offline: they
    // are never exposed anyway.
    hmac_key_ = "pprof_exporter";
  }
}

std::string BasicAuthenticator::CacheKey(absl::string_view user,
                                         absl::string_view hash,
                                         absl::string_view password) const {
  // Lengths first, so that no two (user, hash, password) triples collide.
  const std::string message =
      absl::StrCat(user.size(), ":", user, hash.size(), ":", hash, password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), hmac_key_.data(), static_cast<int>(hmac_key_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &digest_len);
  return std::string(reinterpret_cast<const char*>(digest), digest_len);
}

bool BasicAuthenticator::Check(absl::string_view authorization) {
  const auto credentials = ParseBasicAuth(authorization);
  if (!credentials.has_value()) return false;
  const auto& [user, password] = *credentials;
  const auto found = users_.find(user);
  const bool known = found != users_.end();
  const std::string& hash = known ? found->second : dummy_hash_;
  const std::string key = CacheKey(user, hash, password);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known && cache_.contains(key)) return true;
  }
  bool ok = false;
  {
    std::lock_guard<std::mutex> lock(bcrypt_mu_);
    ok = VerifyBcrypt(password, hash) && known;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++bcrypt_runs_;
  if (ok && cache_size_ > 0 && cache_.insert(key).second) {
    cache_order_.push_back(key);
    while (cache_order_.size() > cache_size_) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  return ok;
}

size_t BasicAuthenticator::bcrypt_runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bcrypt_runs_;
}

}  // namespace exporter
