#include "exporter/net/url.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "pw-7Hq2-SECRET";

// --- ParseUrl: the URL a scrape fetches ---

TEST(ParseUrlTest, Splits) {
  auto u = ParseUrl("http://127.0.0.1:9099/debug/pprof/profile?seconds=10");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9099);
  EXPECT_EQ(u->target, "/debug/pprof/profile?seconds=10");
  EXPECT_FALSE(u->had_credentials);
  EXPECT_EQ(u->ForLog(), "http://127.0.0.1:9099/debug/pprof/profile?seconds=10");
}

TEST(ParseUrlTest, DefaultsAndEdges) {
  auto u = ParseUrl("HTTPS://app.example-1.svc");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");

  u = ParseUrl("http://app:/x");  // empty port means the default
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->port, 80);

  u = ParseUrl("http://app?debug=1#frag");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->target, "/?debug=1");

  u = ParseUrl("http://app/a+b?x=1+2#f");  // '+' is kept as written
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->target, "/a+b?x=1+2");

  u = ParseUrl("http://[::1]:6060/debug/pprof/heap");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 6060);
  EXPECT_EQ(u->ForLog(), "http://[::1]:6060/debug/pprof/heap");

  u = ParseUrl("http://[fe80::1]/");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "fe80::1");
  EXPECT_EQ(u->port, 80);
}

TEST(ParseUrlTest, CredentialsAreDroppedAndNeverShown) {
  auto u = ParseUrl("http://admin:s3cret@app:8080/debug/pprof/heap");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->had_credentials);
  EXPECT_EQ(u->host, "app");
  EXPECT_EQ(u->port, 8080);
  EXPECT_THAT(u->ForLog(), Not(HasSubstr("s3cret")));

  auto bad = ParseUrl("http://admin:s3cret@app:99999/");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), Not(HasSubstr("s3cret")));
}

TEST(ParseUrlTest, Rejects) {
  for (const char* url :
       {"", "127.0.0.1:9099/debug", "ftp://host/x", "http://", "http:///x",
        "http://host:0/", "http://host:65536/", "http://host:12a/",
        "http://host:-1/", "http://ho st/", "http://host/a b",
        "http://host/x\r\nX-Evil: 1", "http://[::1/", "http://[::1]x/",
        "http://a:1:2/", "http://[zz::1]/", "http://host\x7f/"}) {
    EXPECT_FALSE(ParseUrl(url).ok()) << url;
  }
}

TEST(ParsedUrlTest, HostHeaderBracketsIpv6AndOmitsTheDefaultPort) {
  EXPECT_EQ(ParseUrl("http://app/")->HostHeader(), "app");
  EXPECT_EQ(ParseUrl("https://app:443/")->HostHeader(), "app");
  EXPECT_EQ(ParseUrl("https://app:80/")->HostHeader(), "app:80");
  EXPECT_EQ(ParseUrl("http://[::1]/")->HostHeader(), "[::1]");
  EXPECT_EQ(ParseUrl("http://[::1]:6060/")->HostHeader(), "[::1]:6060");
}

// --- NormalizePprofBaseUrl: a target's url in the config ---

struct UrlCase {
  std::string in;
  std::string out;
};

TEST(NormalizePprofBaseUrlTest, AddsDefaultPathAndTrailingSlash) {
  const UrlCase cases[] = {
      {"http://127.0.0.1:9099", "http://127.0.0.1:9099/debug/pprof/"},
      {"http://127.0.0.1:9099/", "http://127.0.0.1:9099/debug/pprof/"},
      {"http://127.0.0.1:9099/debug/pprof",
       "http://127.0.0.1:9099/debug/pprof/"},
      {"http://127.0.0.1:9099/debug/pprof/",
       "http://127.0.0.1:9099/debug/pprof/"},
      {"https://host/x/y", "https://host/x/y/"},
      {"HTTP://Host:1/p/", "http://Host:1/p/"},
      {"http://[::1]:9099", "http://[::1]:9099/debug/pprof/"},
  };
  for (const UrlCase& c : cases) {
    absl::StatusOr<std::string> got = NormalizePprofBaseUrl(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(*got, c.out) << c.in;
  }
}

TEST(NormalizePprofBaseUrlTest, RejectsNonHttpAndUnusableUrls) {
  for (const char* bad :
       {"", "ftp://host/", "file:///tmp/x", "//host/", "host:9099", "http://",
        "http://?x", "http://h/p?debug=1", "http://h/p#frag", "http://h /p",
        "httpx://h/"}) {
    EXPECT_FALSE(NormalizePprofBaseUrl(bad).ok()) << bad;
  }
}

TEST(NormalizePprofBaseUrlTest, CredentialsAreRejectedWithoutEcho) {
  absl::StatusOr<std::string> url =
      NormalizePprofBaseUrl("http://u:pw-7Hq2-SECRET@h:1/");
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(std::string(url.status().message()), Not(HasSubstr(kSecret)));
  // An '@' in the path is not a credential.
  EXPECT_TRUE(NormalizePprofBaseUrl("http://h:1/a@b/").ok());
}

// --- PprofBaseUrlOfAddress: a file_sd target entry ---

TEST(PprofBaseUrlOfAddressTest, HostPortGetsTheSchemeAndDefaultPath) {
  EXPECT_EQ(*PprofBaseUrlOfAddress("10.0.0.1:6060", "http"),
            "http://10.0.0.1:6060/debug/pprof/");
  EXPECT_EQ(*PprofBaseUrlOfAddress("[::1]:6060", "https"),
            "https://[::1]:6060/debug/pprof/");
  EXPECT_EQ(*PprofBaseUrlOfAddress("http://h:1/x", "https"), "http://h:1/x/");
}

TEST(PprofBaseUrlOfAddressTest, RejectsPathsAndCredentialsWithoutEcho) {
  for (const char* bad : {"", "h:1/x", "h:1?x", "h:1#x", "u:pw@h:1"}) {
    EXPECT_FALSE(PprofBaseUrlOfAddress(bad, "http").ok()) << bad;
  }
  absl::StatusOr<std::string> url =
      PprofBaseUrlOfAddress("u:pw-7Hq2-SECRET@h:1", "http");
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(std::string(url.status().message()), Not(HasSubstr(kSecret)));
}

// --- SplitHostPort: --web.listen-address ---

TEST(SplitHostPortTest, HostAndPort) {
  auto hp = SplitHostPort("127.0.0.1:9862");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "127.0.0.1");
  EXPECT_EQ(hp->second, 9862);

  hp = SplitHostPort("localhost:0");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "localhost");
  EXPECT_EQ(hp->second, 0);

  hp = SplitHostPort("exporter.example:65535");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->second, 65535);
}

TEST(SplitHostPortTest, BracketedIpv6) {
  auto hp = SplitHostPort("[::1]:80");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "::1");
  EXPECT_EQ(hp->second, 80);

  hp = SplitHostPort("[fe80::1:2]:9862");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "fe80::1:2");
  EXPECT_EQ(hp->second, 9862);
}

TEST(SplitHostPortTest, EmptyHostMeansAllInterfaces) {
  auto hp = SplitHostPort(":9100");
  ASSERT_TRUE(hp.ok()) << hp.status();
  EXPECT_EQ(hp->first, "0.0.0.0");
  EXPECT_EQ(hp->second, 9100);
}

TEST(SplitHostPortTest, MissingPort) {
  auto hp = SplitHostPort("127.0.0.1");
  ASSERT_FALSE(hp.ok());
  EXPECT_EQ(hp.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(hp.status().message(), HasSubstr("127.0.0.1"));

  EXPECT_FALSE(SplitHostPort("").ok());
  EXPECT_FALSE(SplitHostPort("127.0.0.1:").ok());
  EXPECT_FALSE(SplitHostPort("[::1]").ok());
}

TEST(SplitHostPortTest, BadPort) {
  for (const char* address :
       {"127.0.0.1:abc", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
        "127.0.0.1:99999999999", "[::1]:http"}) {
    auto hp = SplitHostPort(address);
    EXPECT_FALSE(hp.ok()) << address << " -> " << hp->first << " "
                          << hp->second;
    if (!hp.ok()) {
      EXPECT_EQ(hp.status().code(), absl::StatusCode::kInvalidArgument)
          << address;
    }
  }
}

// --- the shared checks ---

TEST(HasControlCharTest, TabIsAllowedOtherControlsAreNot) {
  EXPECT_FALSE(HasControlChar("Bearer abc\tdef"));
  EXPECT_TRUE(HasControlChar("abc\r\nX-Evil: 1"));
  EXPECT_TRUE(HasControlChar(std::string("a\0b", 3)));
  EXPECT_TRUE(HasControlChar("a\x7f"));
}

TEST(ShownOrHiddenTest, HidesAnythingWithAnAt) {
  EXPECT_EQ(ShownOrHidden("http://h:1/"), "http://h:1/");
  EXPECT_THAT(std::string(ShownOrHidden("http://u:pw@h/")),
              Not(HasSubstr("pw")));
}

}  // namespace
}  // namespace exporter
