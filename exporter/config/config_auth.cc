#include "exporter/config/config_auth.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "exporter/net/url.h"

namespace exporter::config_internal {
namespace {

constexpr absl::string_view kBasicAuthKeys[] = {"username", "password",
                                                "password_file"};
constexpr absl::string_view kAuthorizationKeys[] = {"type", "credentials",
                                                    "credentials_file"};
constexpr absl::string_view kTlsConfigKeys[] = {
    "ca_file",     "cert_file",            "key_file",
    "server_name", "insecure_skip_verify", "min_version"};

// An inline secret. It goes into a request header; errors never show it.
absl::StatusOr<std::string> SecretString(const ConfigNode& node) {
  absl::StatusOr<std::string> value = node.String();  // errors: type only
  if (!value.ok()) return value.status();
  if (HasControlChar(*value)) {
    return node.Error("must not contain control characters (value not shown)");
  }
  return value;
}

// At most one of keys `a` and `b` of `fields`; returns the one set, or null.
absl::StatusOr<const ConfigNode*> AtMostOne(const ConfigMap& fields,
                                            absl::string_view a,
                                            absl::string_view b) {
  const ConfigNode* first = fields.Find(a);
  const ConfigNode* second = fields.Find(b);
  if (first != nullptr && second != nullptr) {
    return second->Error(
        absl::StrFormat("only one of %s, %s may be set", a, b));
  }
  return first != nullptr ? first : second;
}

absl::Status ParseBasicAuth(const ConfigNode& node, FetchOptions& out) {
  absl::StatusOr<ConfigMap> fields = node.Map(kBasicAuthKeys);
  if (!fields.ok()) return fields.status();
  const ConfigNode* username = fields->Find("username");
  if (username == nullptr) {
    return node.Error("missing required key \"username\"");
  }
  absl::StatusOr<std::string> name = username->String();
  if (!name.ok()) return name.status();
  if (name->find(':') != std::string::npos || HasControlChar(*name)) {
    return username->Error("must not contain ':' or control characters");
  }
  absl::StatusOr<const ConfigNode*> password =
      AtMostOne(*fields, "password", "password_file");
  if (!password.ok()) return password.status();
  out.auth = FetchOptions::Auth::kBasic;
  out.username = *std::move(name);
  if (*password == nullptr) {
    // No password: an empty one, as in Prometheus.
  } else if (*password == fields->Find("password")) {
    absl::StatusOr<std::string> value = SecretString(**password);
    if (!value.ok()) return value.status();
    out.password = *std::move(value);
  } else {
    absl::StatusOr<std::string> path = (*password)->Path();
    if (!path.ok()) return path.status();
    out.password_file = *std::move(path);
  }
  return absl::OkStatus();
}

// An HTTP auth-scheme token (RFC 9110 token characters).
bool IsToken(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(c) ||
           absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
               absl::string_view::npos;
  });
}

absl::Status ParseAuthorization(const ConfigNode& node, FetchOptions& out) {
  absl::StatusOr<ConfigMap> fields = node.Map(kAuthorizationKeys);
  if (!fields.ok()) return fields.status();
  out.auth = FetchOptions::Auth::kAuthorization;
  if (const ConfigNode* type = fields->Find("type")) {
    absl::StatusOr<std::string> value = type->String();
    if (!value.ok()) return value.status();
    if (!IsToken(*value)) return type->Error("must be a single word");
    if (absl::EqualsIgnoreCase(*value, "basic")) {
      return type->Error("Basic is not allowed here; use basic_auth");
    }
    out.auth_type = *std::move(value);
  }
  absl::StatusOr<const ConfigNode*> credentials =
      AtMostOne(*fields, "credentials", "credentials_file");
  if (!credentials.ok()) return credentials.status();
  if (*credentials == nullptr) {
    return node.Error("needs credentials or credentials_file");
  }
  if (*credentials == fields->Find("credentials")) {
    absl::StatusOr<std::string> value = SecretString(**credentials);
    if (!value.ok()) return value.status();
    if (value->empty()) return (*credentials)->Error("must not be empty");
    out.credentials = *std::move(value);
  } else {
    absl::StatusOr<std::string> path = (*credentials)->Path();
    if (!path.ok()) return path.status();
    out.credentials_file = *std::move(path);
  }
  return absl::OkStatus();
}

absl::Status ParseTlsConfig(const ConfigNode& node, absl::string_view url,
                            TlsClientOptions& out) {
  // An empty url: file SD defaults, checked per discovered target.
  if (!url.empty() && !absl::StartsWith(url, "https://")) {
    return node.Error("the url must be https:// to use tls_config");
  }
  absl::StatusOr<ConfigMap> fields = node.Map(kTlsConfigKeys);
  if (!fields.ok()) return fields.status();
  for (auto [key, field] : {std::pair{"ca_file", &out.ca_file},
                            std::pair{"cert_file", &out.cert_file},
                            std::pair{"key_file", &out.key_file}}) {
    if (const ConfigNode* value = fields->Find(key)) {
      absl::StatusOr<std::string> path = value->Path();
      if (!path.ok()) return path.status();
      *field = *std::move(path);
    }
  }
  if (out.cert_file.empty() != out.key_file.empty()) {
    const ConfigNode* set = fields->Find("cert_file");
    if (set == nullptr) set = fields->Find("key_file");
    return set->Error("cert_file and key_file must be set together");
  }
  if (const ConfigNode* name = fields->Find("server_name")) {
    absl::StatusOr<std::string> value = name->String();
    if (!value.ok()) return value.status();
    if (value->empty() || HasControlChar(*value)) {
      return name->Error("must be a host name");
    }
    out.server_name = *std::move(value);
  }
  if (const ConfigNode* skip = fields->Find("insecure_skip_verify")) {
    absl::StatusOr<bool> value = skip->Bool();
    if (!value.ok()) return value.status();
    out.insecure_skip_verify = *value;
  }
  if (const ConfigNode* version = fields->Find("min_version")) {
    absl::StatusOr<int> value = version->TlsVersion();
    if (!value.ok()) return value.status();
    out.min_version = *value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FetchOptions> ParseFetchOptions(const ConfigMap& fields,
                                               absl::string_view url) {
  FetchOptions out;
  absl::StatusOr<const ConfigNode*> auth =
      AtMostOne(fields, "basic_auth", "authorization");
  if (!auth.ok()) return auth.status();
  if (*auth != nullptr) {
    absl::Status status = *auth == fields.Find("basic_auth")
                              ? ParseBasicAuth(**auth, out)
                              : ParseAuthorization(**auth, out);
    if (!status.ok()) return status;
  }
  if (const ConfigNode* tls = fields.Find("tls_config")) {
    absl::Status status = ParseTlsConfig(*tls, url, out.tls);
    if (!status.ok()) return status;
  }
  return out;
}

}  // namespace exporter::config_internal
