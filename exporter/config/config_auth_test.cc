// The per-target security keys: basic_auth, authorization, tls_config, and
// URLs with credentials. Secret values must never appear in an error.
#include <string>

#include "absl/status/status.h"
#include "exporter/config/config.h"
#include "exporter/net/fetch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "pw-7Hq2-SECRET";

TEST(TargetSecurityTest, BasicAuthInlineAndFile) {
  absl::StatusOr<Config> config = ParseConfig(
      "targets:\n"
      "- name: a\n  url: https://a:6060/\n"
      "  basic_auth: {username: u, password: 'pw-7Hq2-SECRET'}\n"
      "- name: b\n  url: http://b/\n"
      "  basic_auth: {username: u, password_file: secrets/pw}\n"
      "- name: c\n  url: http://c/\n"
      "  basic_auth: {username: u, password_file: /abs/pw}\n"
      "- name: d\n  url: http://d/\n"
      "  basic_auth: {username: u}\n",
      "/etc/pprof/config.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const FetchOptions& a = config->targets[0].fetch;
  EXPECT_EQ(a.auth, FetchOptions::Auth::kBasic);
  EXPECT_EQ(a.username, "u");
  EXPECT_EQ(a.password, kSecret);
  EXPECT_EQ(a.password_file, "");
  // Relative to the config file's directory.
  EXPECT_EQ(config->targets[1].fetch.password_file, "/etc/pprof/secrets/pw");
  EXPECT_EQ(config->targets[2].fetch.password_file, "/abs/pw");
  EXPECT_EQ(config->targets[3].fetch.auth, FetchOptions::Auth::kBasic);
  EXPECT_EQ(config->targets[3].fetch.password, "");
}

TEST(TargetSecurityTest, AuthorizationAndTls) {
  absl::StatusOr<Config> config = ParseConfig(
      "targets:\n"
      "- name: a\n  url: https://10.0.0.1:6060/debug/pprof/\n"
      "  authorization: {credentials_file: token}\n"
      "  tls_config:\n"
      "    ca_file: ca.crt\n"
      "    cert_file: /c/client.crt\n"
      "    key_file: client.key\n"
      "    server_name: pprof.internal\n"
      "    insecure_skip_verify: False\n"
      "    min_version: TLS13\n"
      "- name: b\n  url: https://b/\n"
      "  authorization: {type: Token, credentials: abc}\n"
      "  tls_config: {insecure_skip_verify: true}\n",
      "conf/config.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  const FetchOptions& a = config->targets[0].fetch;
  EXPECT_EQ(a.auth, FetchOptions::Auth::kAuthorization);
  EXPECT_EQ(a.auth_type, "Bearer");
  EXPECT_EQ(a.credentials_file, "conf/token");
  EXPECT_EQ(a.tls.ca_file, "conf/ca.crt");
  EXPECT_EQ(a.tls.cert_file, "/c/client.crt");
  EXPECT_EQ(a.tls.key_file, "conf/client.key");
  EXPECT_EQ(a.tls.server_name, "pprof.internal");
  EXPECT_FALSE(a.tls.insecure_skip_verify);
  EXPECT_EQ(a.tls.min_version, 0x0304);
  const FetchOptions& b = config->targets[1].fetch;
  EXPECT_EQ(b.auth_type, "Token");
  EXPECT_EQ(b.credentials, "abc");
  EXPECT_TRUE(b.tls.insecure_skip_verify);
}

TEST(TargetSecurityTest, NoSecurityKeysMeansDefaults) {
  absl::StatusOr<Config> config =
      ParseConfig("targets:\n- name: a\n  url: http://a/\n", "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->targets[0].fetch, FetchOptions{});
}

struct RejectCase {
  std::string yaml;
  std::string error;
};

TEST(TargetSecurityTest, RejectsWithLocationAndWithoutSecrets) {
  const std::string head = "targets:\n- name: a\n  url: https://a/\n";
  const RejectCase cases[] = {
      {head + "  basic_auth: {username: u, password: x}\n"
              "  authorization: {credentials: y}\n",
       "config.yml:5: targets[0].authorization: only one of basic_auth, "
       "authorization may be set"},
      {head + "  basic_auth: {password: x}\n",
       "config.yml:4: targets[0].basic_auth: missing required key "
       "\"username\""},
      {head + "  basic_auth: {username: u, password: x, password_file: f}\n",
       "config.yml:4: targets[0].basic_auth.password_file: only one of "
       "password, password_file may be set"},
      {head + "  basic_auth: {username: 'u:v', password: x}\n",
       "config.yml:4: targets[0].basic_auth.username: must not contain ':'"},
      {head + "  basic_auth: {username: u, pasword: x}\n",
       "config.yml:4: targets[0].basic_auth.pasword: unknown key; expected "
       "one of username, password, password_file"},
      {head + "  basic_auth: {username: u, password: \"pw-7Hq2-SECRET\\r\\n"
              "X: y\"}\n",
       "config.yml:4: targets[0].basic_auth.password: must not contain "
       "control characters (value not shown)"},
      {head + "  authorization: {type: Bearer}\n",
       "config.yml:4: targets[0].authorization: needs credentials or "
       "credentials_file"},
      {head + "  authorization: {type: Basic, credentials: x}\n",
       "config.yml:4: targets[0].authorization.type: Basic is not allowed "
       "here; use basic_auth"},
      {head + "  authorization: {type: 'Bearer x', credentials: x}\n",
       "targets[0].authorization.type: must be a single word"},
      {head + "  authorization:\n    credentials: x\n    credentials_file: "
              "f\n",
       "config.yml:6: targets[0].authorization.credentials_file: only one of "
       "credentials, credentials_file may be set"},
      {head + "  authorization: {credentials: ''}\n",
       "targets[0].authorization.credentials: must not be empty"},
      {head + "  tls_config: {cert_file: c.crt}\n",
       "config.yml:4: targets[0].tls_config.cert_file: cert_file and key_file "
       "must be set together"},
      {head + "  tls_config: {key_file: c.key}\n",
       "targets[0].tls_config.key_file: cert_file and key_file must be set "
       "together"},
      {head + "  tls_config: {insecure_skip_verify: maybe}\n",
       "config.yml:4: targets[0].tls_config.insecure_skip_verify: expected "
       "true or false, got \"maybe\""},
      {head + "  tls_config: {min_version: TLS1.2}\n",
       "targets[0].tls_config.min_version: expected one of TLS10, TLS11, "
       "TLS12, TLS13"},
      {head + "  tls_config: {ca: inline}\n",
       "targets[0].tls_config.ca: unknown key"},
      {head + "  tls_config: {ca_file: ''}\n",
       "targets[0].tls_config.ca_file: must not be empty"},
      {"targets:\n- name: a\n  url: http://a/\n  tls_config: {}\n",
       "config.yml:4: targets[0].tls_config: the url must be https:// to use "
       "tls_config"},
      {"targets:\n- name: a\n  url: http://u:pw-7Hq2-SECRET@a:6060/\n",
       "config.yml:3: targets[0].url: URL must not contain credentials"},
  };
  for (const RejectCase& c : cases) {
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "config.yml");
    ASSERT_FALSE(config.ok()) << "accepted:\n" << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(config.status().message());
    EXPECT_THAT(message, HasSubstr(c.error)) << c.yaml;
    EXPECT_THAT(message, Not(HasSubstr(kSecret))) << c.yaml;
  }
}

TEST(TargetSecurityTest, FlagUrlWithCredentialsIsRejectedWithoutEcho) {
  absl::StatusOr<TargetConfig> target =
      TargetFromFlag("a=http://u:pw-7Hq2-SECRET@h:1/", Config{});
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(std::string(target.status().message()),
              HasSubstr("URL must not contain credentials"));
  EXPECT_THAT(std::string(target.status().message()), Not(HasSubstr(kSecret)));
}

}  // namespace
}  // namespace exporter
