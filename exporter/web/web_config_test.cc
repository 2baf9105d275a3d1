#include "exporter/web/web_config.h"

#include <openssl/ssl.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Published bcrypt test vectors (Openwall's crypt_blowfish test suite),
// independent of the libcrypt that computes them here.
constexpr char kVectorHash[] =
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
constexpr char kVectorPassword[] = "U*U";
constexpr char kLongVectorHash[] =
    "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
constexpr char kLongVectorPassword[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789chars after 72 are ignored";

// "correct horse battery staple" at cost 4 (fast tests), in each prefix.
constexpr char kPassword[] = "correct horse battery staple";
constexpr char kHash2b[] =
    "$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG";
constexpr char kHash2y[] =
    "$2y$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG";

using Users = std::map<std::string, std::string>;

std::string BasicHeader(const std::string& user, const std::string& pass) {
  return absl::StrCat("Basic ", absl::Base64Escape(user + ":" + pass));
}

// --- parsing ---

TEST(ParseWebConfigTest, FullConfigAndRelativePaths) {
  auto config = ParseWebConfig(absl::StrCat(R"(
tls_server_config:
  cert_file: server.crt
  key_file: /abs/server.key
  client_ca_file: certs/ca.crt
  client_auth_type: RequireAndVerifyClientCert
  min_version: TLS13
  max_version: TLS13
basic_auth_users:
  alice: )", kHash2b, "\n  bob: ", kHash2y, "\n"),
                               "/etc/pprof/web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->cert_file, "/etc/pprof/server.crt");
  EXPECT_EQ(config->tls->key_file, "/abs/server.key");
  EXPECT_EQ(config->tls->client_ca_file, "/etc/pprof/certs/ca.crt");
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(config->tls->min_version, 0x0304);
  EXPECT_EQ(config->tls->max_version, 0x0304);
  EXPECT_EQ(config->basic_auth_users.size(), 2u);
  EXPECT_EQ(config->basic_auth_users.at("alice"), kHash2b);
  EXPECT_TRUE(config->RequiresAuth());
}

TEST(ParseWebConfigTest, Defaults) {
  auto config = ParseWebConfig(
      "tls_server_config: {cert_file: a.crt, key_file: a.key}\n", "web.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->tls.has_value());
  EXPECT_EQ(config->tls->cert_file, "a.crt");  // no directory in the name
  EXPECT_EQ(config->tls->client_auth, ClientAuth::kNoClientCert);
  EXPECT_EQ(config->tls->min_version, 0x0303);  // TLS12
  EXPECT_EQ(config->tls->max_version, 0);
  EXPECT_FALSE(config->RequiresAuth());
}

TEST(ParseWebConfigTest, EmptyMeansPlainHttpWithoutAuth) {
  for (const char* text :
       {"", "# nothing\n", "tls_server_config:\n", "tls_server_config: {}\n",
        "basic_auth_users: {}\n"}) {
    auto config = ParseWebConfig(text, "web.yml");
    ASSERT_TRUE(config.ok()) << text << ": " << config.status();
    EXPECT_FALSE(config->tls.has_value()) << text;
    EXPECT_TRUE(config->basic_auth_users.empty()) << text;
    EXPECT_FALSE(config->RequiresAuth()) << text;
  }
}

struct RejectCase {
  std::string yaml;
  std::string want;  // substring of the error, with file:line: key
};

TEST(ParseWebConfigTest, RejectsWithFileLineAndKey) {
  const std::string hash = kHash2b;
  const RejectCase cases[] = {
      {"tls_server_confg: {}\n", "web.yml:1: tls_server_confg: unknown key"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_fil: c\n",
       "web.yml:4: tls_server_config.cert_fil: unknown key"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
       "web.yml:4: tls_server_config.cipher_suites: is an exporter-toolkit "
       "setting that pprof_exporter does not support"},
      {"http_server_config: {http2: false}\n",
       "web.yml:1: http_server_config: is an exporter-toolkit setting"},
      {"tls_server_config:\n  cert_file: a\n",
       "web.yml:1: tls_server_config: missing required key \"key_file\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  client_auth_type: RequireCert\n",
       "web.yml:4: tls_server_config.client_auth_type: expected one of"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  client_ca_file: ca\n",
       "web.yml:4: tls_server_config.client_ca_file: set, but "
       "client_auth_type is NoClientCert"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  client_auth_type: RequireAndVerifyClientCert\n",
       "web.yml:4: tls_server_config.client_auth_type: verifying client "
       "certificates needs client_ca_file"},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  min_version: TLS14\n",
       "web.yml:4: tls_server_config.min_version: expected one of TLS10, "
       "TLS11, TLS12, TLS13, got \"TLS14\""},
      {"tls_server_config:\n  cert_file: a\n  key_file: b\n"
       "  min_version: TLS13\n  max_version: TLS12\n",
       "web.yml:5: tls_server_config.max_version: max_version is older"},
      {"tls_server_config:\n  cert_file: [a]\n  key_file: b\n",
       "web.yml:2: tls_server_config.cert_file: expected a string, got a list"},
      {"basic_auth_users:\n  alice: hunter2\n",
       "web.yml:2: basic_auth_users.alice: not a bcrypt hash"},
      {"basic_auth_users:\n  alice:\n", "web.yml:2: basic_auth_users.alice: "
                                        "missing bcrypt hash"},
      {"basic_auth_users:\n  'a:b': " + hash + "\n",
       "web.yml:2: basic_auth_users.a:b: user names must be non-empty"},
      {"basic_auth_users: [alice]\n",
       "web.yml:1: basic_auth_users: expected a map, got a list"},
      {"basic_auth_users:\n  alice: " + hash + "\n  alice: " + hash + "\n",
       "web.yml:3: basic_auth_users.alice: duplicate key (first at line 2)"},
      {"tls_server_config: [\n", "web.yml:2: YAML syntax error"},
      {"a: 1\n---\nb: 2\n", "only one YAML document"},
  };
  for (const RejectCase& c : cases) {
    auto config = ParseWebConfig(c.yaml, "web.yml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.want))
        << c.yaml;
  }
}

TEST(ParseWebConfigTest, BadHashIsNotEchoed) {
  // A plain password where the hash belongs must not end up in the log.
  auto config = ParseWebConfig("basic_auth_users:\n  alice: Sup3rS3cret!\n",
                               "web.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), Not(HasSubstr("Sup3rS3cret")));
}

TEST(ParseWebConfigTest, BcryptShapes) {
  for (const std::string& bad : std::vector<std::string>{
           "$2x$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
           "$2b$03$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
           "$2b$32$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
           "$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6C",
           "$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6C!",
           "$1$abcdefgh$abcdefghijklmnopqrstuv"}) {
    auto config =
        ParseWebConfig(absl::StrCat("basic_auth_users: {a: '", bad, "'}\n"),
                       "web.yml");
    EXPECT_FALSE(config.ok()) << bad;
  }
  auto config = ParseWebConfig(
      absl::StrCat("basic_auth_users: {a: '", kVectorHash, "'}\n"), "w.yml");
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(LoadWebConfigFileTest, MissingFile) {
  auto config = LoadWebConfigFile("/nonexistent/web.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("/nonexistent/web.yml"));
}

// --- bcrypt ---

TEST(VerifyBcryptTest, PublishedVectors) {
  EXPECT_TRUE(VerifyBcrypt(kVectorPassword, kVectorHash));
  EXPECT_FALSE(VerifyBcrypt("U*V", kVectorHash));
  EXPECT_TRUE(VerifyBcrypt(kLongVectorPassword, kLongVectorHash));
}

TEST(VerifyBcryptTest, AllPrefixes) {
  EXPECT_TRUE(VerifyBcrypt(kPassword, kHash2b));
  EXPECT_TRUE(VerifyBcrypt(kPassword, kHash2y));
  EXPECT_FALSE(VerifyBcrypt("correct horse battery stapl", kHash2b));
  EXPECT_FALSE(VerifyBcrypt("", kHash2b));
  EXPECT_FALSE(VerifyBcrypt(kPassword, "$2b$04$short"));
  EXPECT_FALSE(VerifyBcrypt(kPassword, ""));
  // The stored hash is no password.
  EXPECT_FALSE(VerifyBcrypt(kHash2b, kHash2b));
}

TEST(VerifyBcryptTest, NulByteIsNotATruncation) {
  // crypt() would see only "correct horse battery staple".
  EXPECT_FALSE(VerifyBcrypt(std::string(kPassword) + std::string("\0x", 2),
                            kHash2b));
}

// --- the authenticator ---

TEST(BasicAuthenticatorTest, ChecksHeaders) {
  BasicAuthenticator auth(Users{{"alice", kHash2b}});
  EXPECT_TRUE(auth.Check(BasicHeader("alice", kPassword)));
  EXPECT_TRUE(auth.Check("basic " + absl::Base64Escape(
                                        std::string("alice:") + kPassword)));
  EXPECT_FALSE(auth.Check(""));
  EXPECT_FALSE(auth.Check(BasicHeader("alice", "wrong")));
  EXPECT_FALSE(auth.Check(BasicHeader("bob", kPassword)));  // unknown user
  EXPECT_FALSE(auth.Check(BasicHeader("Alice", kPassword)));
  EXPECT_FALSE(auth.Check("Bearer " + absl::Base64Escape(
                                          std::string("alice:") + kPassword)));
  EXPECT_FALSE(auth.Check("Basic !!!notbase64"));
  EXPECT_FALSE(auth.Check("Basic " + absl::Base64Escape("alice")));  // no ':'
  EXPECT_FALSE(auth.Check("Basic"));
}

TEST(BasicAuthenticatorTest, PasswordWithColon) {
  // Only the first ':' separates user and password. The hash of "a:b:c".
  BasicAuthenticator auth(
      Users{{"u", "$2b$04$abcdefghijklmnopqrstuuvWTYyu1fxJ6/TJiND1lHR48TJYvV44K"}});
  EXPECT_TRUE(auth.Check(BasicHeader("u", "a:b:c")));
  EXPECT_TRUE(auth.Check("Basic " + absl::Base64Escape("u:a:b:c")));
  EXPECT_FALSE(auth.Check(BasicHeader("u", "a")));
}

TEST(BasicAuthenticatorTest, CachesSuccessesOnly) {
  BasicAuthenticator auth(Users{{"alice", kHash2b}});
  ASSERT_TRUE(auth.Check(BasicHeader("alice", kPassword)));
  EXPECT_EQ(auth.bcrypt_runs(), 1u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(auth.Check(BasicHeader("alice", kPassword)));
  }
  EXPECT_EQ(auth.bcrypt_runs(), 1u);  // served from the cache
  EXPECT_FALSE(auth.Check(BasicHeader("alice", "wrong")));
  EXPECT_FALSE(auth.Check(BasicHeader("alice", "wrong")));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);  // failures are never cached
  // Unknown users run bcrypt too (against a dummy hash): same timing.
  EXPECT_FALSE(auth.Check(BasicHeader("mallory", kPassword)));
  EXPECT_EQ(auth.bcrypt_runs(), 4u);
}

TEST(BasicAuthenticatorTest, CacheIsBounded) {
  BasicAuthenticator auth(Users{{"a", kHash2b}, {"b", kHash2y}},
                          /*cache_size=*/1);
  ASSERT_TRUE(auth.Check(BasicHeader("a", kPassword)));
  ASSERT_TRUE(auth.Check(BasicHeader("b", kPassword)));  // evicts a
  EXPECT_EQ(auth.bcrypt_runs(), 2u);
  ASSERT_TRUE(auth.Check(BasicHeader("b", kPassword)));
  EXPECT_EQ(auth.bcrypt_runs(), 2u);
  ASSERT_TRUE(auth.Check(BasicHeader("a", kPassword)));
  EXPECT_EQ(auth.bcrypt_runs(), 3u);
}

// --- exposure warnings ---

TEST(ExposureWarningsTest, OnlyBeyondLoopbackWithoutAuth) {
  WebConfig none;
  EXPECT_TRUE(ExposureWarnings(true, none).empty());
  ASSERT_EQ(ExposureWarnings(false, none).size(), 1u);
  EXPECT_THAT(ExposureWarnings(false, none)[0],
              HasSubstr("without authentication"));

  WebConfig basic;
  basic.basic_auth_users = {{"alice", kHash2b}};
  ASSERT_EQ(ExposureWarnings(false, basic).size(), 1u);
  EXPECT_THAT(ExposureWarnings(false, basic)[0], HasSubstr("in the clear"));
  EXPECT_TRUE(ExposureWarnings(true, basic).empty());

  WebConfig basic_tls = basic;
  basic_tls.tls = TlsServerConfig{};
  EXPECT_TRUE(ExposureWarnings(false, basic_tls).empty());

  WebConfig mtls;
  mtls.tls = TlsServerConfig{};
  mtls.tls->client_auth = ClientAuth::kRequireAndVerifyClientCert;
  EXPECT_TRUE(ExposureWarnings(false, mtls).empty());
  // A certificate that may be left out authenticates nobody.
  mtls.tls->client_auth = ClientAuth::kVerifyClientCertIfGiven;
  EXPECT_EQ(ExposureWarnings(false, mtls).size(), 1u);
}

// --- TLS context ---

TEST(ConfigureServerTlsTest, NamesTheFileThatFails) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ASSERT_NE(ctx, nullptr);
  TlsServerConfig tls;
  tls.cert_file = "/nonexistent/server.crt";
  tls.key_file = "/nonexistent/server.key";
  absl::Status status = ConfigureServerTls(tls, ctx);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.message(),
              HasSubstr("cannot load cert_file /nonexistent/server.crt"));
  SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace exporter
