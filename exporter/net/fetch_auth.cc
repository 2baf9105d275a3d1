// Credentials for a target: the Authorization header of FetchOptions,
// read from inline values or secret files at each scrape.
#include <cerrno>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "exporter/net/fetch.h"
#include "exporter/net/url.h"

namespace exporter {
namespace {

// Token and password files are small; do not read a whole disk on a typo
// such as /dev/zero.
constexpr size_t kMaxSecretFileBytes = size_t{64} << 10;

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

}  // namespace exporter
