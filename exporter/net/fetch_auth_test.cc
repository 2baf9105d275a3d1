// Credentials and TLS settings of Fetcher::Get (FetchOptions). TLS against
// real certificates is covered by tests/security with real clients and
// servers; here: headers, secret files, redaction and TLS failure reasons.
#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/net/fetch.h"
#include "exporter/testing/http_stub.h"
#include "exporter/testing/fetch_result.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::exporter::testing::Message;
using ::exporter::testing::Reason;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "pw-7Hq2-SECRET";
constexpr char kToken[] = "tok-9Zx1-SECRET";

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

// Started on construction.
struct Server : testing::HttpStub {
  Server() { Start(); }
};

TEST(AuthorizationHeaderTest, Inline) {
  FetchOptions none;
  EXPECT_EQ(AuthorizationHeader(none).value(), "");

  FetchOptions basic;
  basic.auth = FetchOptions::Auth::kBasic;
  basic.username = "alice";
  basic.password = kPassword;
  EXPECT_EQ(AuthorizationHeader(basic).value(),
            "Basic " + absl::Base64Escape(std::string("alice:") + kPassword));

  FetchOptions bearer;
  bearer.auth = FetchOptions::Auth::kAuthorization;
  bearer.credentials = kToken;
  EXPECT_EQ(AuthorizationHeader(bearer).value(),
            absl::StrCat("Bearer ", kToken));
  bearer.auth_type = "Token";
  EXPECT_EQ(AuthorizationHeader(bearer).value(),
            absl::StrCat("Token ", kToken));
}

TEST(AuthorizationHeaderTest, FilesAreReadEachTimeAndTrimmed) {
  const std::string path = TempPath("token");
  WriteFile(path, absl::StrCat(kToken, "\n"));
  FetchOptions bearer;
  bearer.auth = FetchOptions::Auth::kAuthorization;
  bearer.credentials_file = path;
  EXPECT_EQ(AuthorizationHeader(bearer).value(),
            absl::StrCat("Bearer ", kToken));
  WriteFile(path, "rotated\r\n");
  EXPECT_EQ(AuthorizationHeader(bearer).value(), "Bearer rotated");

  const std::string pw = TempPath("password");
  WriteFile(pw, absl::StrCat("  ", kPassword, "\n\n"));
  FetchOptions basic;
  basic.auth = FetchOptions::Auth::kBasic;
  basic.username = "u";
  basic.password_file = pw;
  EXPECT_EQ(AuthorizationHeader(basic).value(),
            "Basic " + absl::Base64Escape(std::string("u:") + kPassword));
}

TEST(AuthorizationHeaderTest, FileErrorsNameTheFileNotItsContents) {
  FetchOptions basic;
  basic.auth = FetchOptions::Auth::kBasic;
  basic.username = "u";
  basic.password_file = TempPath("does-not-exist");
  auto header = AuthorizationHeader(basic);
  ASSERT_FALSE(header.ok());
  EXPECT_THAT(std::string(header.status().message()),
              HasSubstr("cannot read basic_auth.password_file " +
                        basic.password_file));

  // A header injection attempt through the file.
  const std::string path = TempPath("evil-token");
  WriteFile(path, absl::StrCat(kToken, "\r\nX-Evil: 1\n"));
  FetchOptions bearer;
  bearer.auth = FetchOptions::Auth::kAuthorization;
  bearer.credentials_file = path;
  header = AuthorizationHeader(bearer);
  ASSERT_FALSE(header.ok());
  EXPECT_THAT(std::string(header.status().message()),
              HasSubstr("contains control characters"));
  EXPECT_THAT(std::string(header.status().message()), Not(HasSubstr(kToken)));

  FetchOptions inline_evil;
  inline_evil.auth = FetchOptions::Auth::kAuthorization;
  inline_evil.credentials = absl::StrCat(kToken, "\nX: y");
  EXPECT_FALSE(AuthorizationHeader(inline_evil).ok());
}

TEST(FetchAuthTest, SendsTheHeader) {
  Server s;
  std::string seen;
  s.server.Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.get_header_value("Authorization");
    res.set_content("ok", "application/octet-stream");
  });
  FetchOptions bearer;
  bearer.auth = FetchOptions::Auth::kAuthorization;
  bearer.credentials = kToken;
  FetchResult r = Fetcher().Get(s.Url("/p"), absl::Seconds(5), 100,
                                bearer);
  EXPECT_EQ(r.failure, std::nullopt) << Message(r);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(seen, absl::StrCat("Bearer ", kToken));

  // Without options: no header at all.
  r = Fetcher().Get(s.Url("/p"), absl::Seconds(5), 100);
  EXPECT_EQ(r.failure, std::nullopt) << Message(r);
  EXPECT_EQ(seen, "");
}

TEST(FetchAuthTest, UnreadableSecretFileIsAConnectFailure) {
  Server s;
  bool called = false;
  s.server.Get("/p", [&](const httplib::Request&, httplib::Response& res) {
    called = true;
    res.set_content("ok", "text/plain");
  });
  FetchOptions basic;
  basic.auth = FetchOptions::Auth::kBasic;
  basic.username = "u";
  basic.password_file = TempPath("missing-password");
  FetchResult r =
      Fetcher().Get(s.Url("/p"), absl::Seconds(5), 100, basic);
  EXPECT_EQ(Reason(r), FailureReason::kConnect);
  EXPECT_THAT(Message(r), HasSubstr("cannot read basic_auth.password_file"));
  EXPECT_FALSE(called);  // nothing was sent without the credentials
}

TEST(FetchAuthTest, SecretsEchoedByTheTargetAreRedacted) {
  Server s;
  // A hostile or careless target that echoes the request in its error.
  s.server.Get("/p", [&](const httplib::Request& req, httplib::Response& res) {
    res.status = 401;
    std::string decoded;
    absl::Base64Unescape(
        req.get_header_value("Authorization").substr(6), &decoded);
    res.set_content(absl::StrCat("denied: ", req.get_header_value(
                                                 "Authorization"),
                                 " = ", decoded),
                    "text/plain");
  });
  FetchOptions basic;
  basic.auth = FetchOptions::Auth::kBasic;
  basic.username = "alice";
  basic.password = kPassword;
  FetchResult r =
      Fetcher().Get(s.Url("/p"), absl::Seconds(5), 1000, basic);
  EXPECT_EQ(Reason(r), FailureReason::kHttpStatus);
  EXPECT_EQ(r.http_status, 401);
  EXPECT_THAT(Message(r), HasSubstr("HTTP 401"));
  EXPECT_THAT(Message(r), HasSubstr("<secret>"));
  EXPECT_THAT(Message(r), Not(HasSubstr(kPassword)));
  EXPECT_THAT(Message(r), Not(HasSubstr(absl::Base64Escape(
                           std::string("alice:") + kPassword))));
}

TEST(FetchTlsTest, PlainHttpServerIsAConnectFailure) {
  Server s;
  s.server.Get("/p", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  FetchResult r = Fetcher().Get(s.Url("/p", "https"), absl::Seconds(5), 100);
  EXPECT_EQ(Reason(r), FailureReason::kConnect) << Message(r);
  EXPECT_THAT(Message(r), HasSubstr("https://127.0.0.1:"));
}

TEST(FetchTlsTest, MissingTlsFilesAreNamed) {
  FetchOptions options;
  options.tls.ca_file = TempPath("no-ca.crt");
  FetchResult r = Fetcher().Get("https://127.0.0.1:1/p", absl::Seconds(5),
                                100, options);
  EXPECT_EQ(Reason(r), FailureReason::kConnect);
  EXPECT_THAT(Message(r),
              HasSubstr("cannot read tls_config.ca_file " + options.tls.ca_file));

  // A file that is no certificate.
  const std::string junk = TempPath("junk.pem");
  WriteFile(junk, "not a certificate\n");
  options = FetchOptions{};
  options.tls.cert_file = junk;
  options.tls.key_file = junk;
  r = Fetcher().Get("https://127.0.0.1:1/p", absl::Seconds(5), 100, options);
  EXPECT_EQ(Reason(r), FailureReason::kConnect);
  EXPECT_THAT(Message(r), HasSubstr("cannot load the client certificate"));
}

}  // namespace
}  // namespace exporter
