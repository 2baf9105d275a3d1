#include "exporter/web/server.h"

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/testing/poll.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/inflate.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// --- Server ---

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  return testing::PollUntil(done, timeout);
}

// A Server with fake handlers, bound to 127.0.0.1:0, running in a thread.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer("/metrics"); }

  void StartServer(const std::string& telemetry_path) {
    ServerHandlers handlers;
    handlers.metrics = [this] {
      metrics_calls.fetch_add(1);
      return std::string("# TYPE pprof_up gauge\npprof_up 1\n");
    };
    handlers.landing_page = [](const std::string& self_url) {
      return "<!DOCTYPE html><title>pprof_exporter</title>" + self_url;
    };
    handlers.reload = [this]() -> absl::Status {
      reload_calls.fetch_add(1);
      if (reload_fails.load()) {
        return absl::InvalidArgumentError("config.yml:3: targets: bad");
      }
      return absl::OkStatus();
    };
    handlers.ready = [this] { return ready.load(); };
    server_ = std::make_unique<Server>(std::move(handlers), telemetry_path);
    auto port = server_->Bind("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_GT(*port, 0);
    port_ = *port;
    run_ = std::thread([this] {
      server_->Run();
      run_returned.store(true);
    });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_connection_timeout(10, 0);
    client_->set_read_timeout(10, 0);
    // Bounded wait until the server answers.
    ASSERT_TRUE(WaitFor(
        [this] {
          auto res = client_->Get("/-/healthy");
          return res && res->status == 200;
        },
        absl::Seconds(20)));
  }

  void TearDown() override { StopServer(); }

  void StopServer() {
    if (!run_.joinable()) return;
    server_->Stop();
    // Stop() must end Run(); keep asking (bounded) so a failure here does
    // not hang the test.
    const bool ended = WaitFor([this] { return run_returned.load(); },
                               absl::Seconds(10));
    EXPECT_TRUE(ended) << "Stop() did not end Run()";
    if (!ended) {
      WaitFor(
          [this] {
            server_->Stop();
            return run_returned.load();
          },
          absl::Seconds(20));
    }
    run_.join();
  }

  std::atomic<int> metrics_calls{0};
  std::atomic<int> reload_calls{0};
  std::atomic<bool> reload_fails{false};
  std::atomic<bool> ready{false};
  std::atomic<bool> run_returned{false};
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread run_;
  int port_ = 0;
};

TEST_F(ServerTest, Metrics) {
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, "# TYPE pprof_up gauge\npprof_up 1\n");
  EXPECT_EQ(metrics_calls.load(), 1);
}

// Prometheus asks for gzip; the body is compressed once and stays exact.
TEST_F(ServerTest, MetricsGzipWhenAskedAndOnlyThen) {
  client_->set_decompress(false);  // look at the bytes as sent
  const std::string plain = "# TYPE pprof_up gauge\npprof_up 1\n";
  for (const char* accept : {"gzip", "deflate, GZIP;q=0.5", "br, gzip"}) {
    auto res = client_->Get("/metrics", {{"Accept-Encoding", accept}});
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip") << accept;
    EXPECT_EQ(res->get_header_value("Vary"), "Accept-Encoding");
    auto inflated = profile::Gunzip(res->body, 1 << 20);
    ASSERT_TRUE(inflated.ok()) << accept << ": " << inflated.status();
    EXPECT_EQ(*inflated, plain);
  }
  // Never brotli (httplib's own choice when offered), never gzip;q=0.
  for (const char* accept : {"", "identity", "br", "gzip;q=0, br", "x-gzip2"}) {
    auto res = client_->Get("/metrics", {{"Accept-Encoding", accept}});
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_FALSE(res->has_header("Content-Encoding")) << accept;
    EXPECT_EQ(res->body, plain) << accept;
  }
}

TEST(GzipCacheTest, CompressesEachDistinctBodyOnce) {
  GzipCache cache;
  auto a = std::make_shared<const std::string>(std::string(10000, 'a'));
  auto first = cache.Compress(a);
  EXPECT_EQ(*profile::Gunzip(*first, 1 << 20), *a);
  // An equal body (another request's copy) gets the same compressed bytes.
  EXPECT_EQ(cache.Compress(std::make_shared<const std::string>(*a)), first);
  auto b = std::make_shared<const std::string>(std::string(10000, 'b'));
  auto second = cache.Compress(b);
  EXPECT_NE(second, first);
  EXPECT_EQ(*profile::Gunzip(*second, 1 << 20), *b);
}

TEST_F(ServerTest, LandingPageAndHealthy) {
  auto res = client_->Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(res->body, HasSubstr("pprof_exporter"));

  res = client_->Get("/-/healthy");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  res = client_->Get("/nonexistent");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(metrics_calls.load(), 0);
}

// The landing page's `go tool pprof` commands use the exporter's URL as the
// client reached it, unless the Host header is anything but a host[:port].
TEST_F(ServerTest, LandingPageGetsTheUrlTheClientUsed) {
  auto res = client_->Get("/", {{"Host", "exporter.example:9100"}});
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("</title>http://exporter.example:9100"));
  res = client_->Get("/", {{"Host", "x\"><script>"}});
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body,
              HasSubstr(absl::StrCat("</title>http://127.0.0.1:", port_)));
}

TEST(SelfUrlTest, SchemeHostAndFallback) {
  EXPECT_EQ(SelfUrl(false, "[::1]:9100", "x:1"), "http://[::1]:9100");
  EXPECT_EQ(SelfUrl(true, "h.example", "x:1"), "https://h.example");
  EXPECT_EQ(SelfUrl(false, "", "localhost:9100"), "http://localhost:9100");
  EXPECT_EQ(SelfUrl(false, "a b", "localhost:9100"), "http://localhost:9100");
}

TEST_F(ServerTest, Ready) {
  auto res = client_->Get("/-/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  ready = true;
  res = client_->Get("/-/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerTest, Reload) {
  auto res = client_->Post("/-/reload", "", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(reload_calls.load(), 1);

  reload_fails = true;
  res = client_->Post("/-/reload", "", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("config.yml:3: targets: bad"));
  EXPECT_EQ(reload_calls.load(), 2);

  res = client_->Get("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  EXPECT_EQ(reload_calls.load(), 2);  // GET does not reload
}

TEST_F(ServerTest, StopEndsRun) {
  StopServer();
  EXPECT_TRUE(run_returned.load());
  // Nothing listens any more.
  httplib::Client late("127.0.0.1", port_);
  late.set_connection_timeout(2, 0);
  late.set_read_timeout(2, 0);
  EXPECT_FALSE(late.Get("/-/healthy"));
  server_->Stop();  // again: harmless
}

TEST_F(ServerTest, BindFailsOnABadAddress) {
  Server other({}, "/metrics");
  auto bad = other.Bind("127.0.0.1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  bad = other.Bind("127.0.0.1:http");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

// A second exporter started on the same address by mistake must fail to
// listen ("cannot listen"), as Go exporters do, rather than silently share
// the port with the first and get half of the scrapes.
TEST_F(ServerTest, BindFailsWhenThePortIsInUse) {
  Server other({}, "/metrics");
  auto in_use = other.Bind("127.0.0.1:" + std::to_string(port_));
  EXPECT_FALSE(in_use.ok()) << "bound port " << port_ << " a second time";
}

class CustomPathServerTest : public ServerTest {
 protected:
  void SetUp() override { StartServer("/custom/metrics"); }
};

TEST_F(CustomPathServerTest, TelemetryPathIsConfigurable) {
  auto res = client_->Get("/custom/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

// The daemon's signal thread may call Stop() before the main thread has
// entered Run() (SIGTERM right at start-up). Run() must still return.
TEST(ServerStopTest, StopBeforeRunStillEndsRun) {
  ServerHandlers handlers;
  handlers.metrics = [] { return std::string(); };
  handlers.landing_page = [](const std::string&) { return std::string(); };
  handlers.reload = [] { return absl::OkStatus(); };
  handlers.ready = [] { return true; };
  Server server(std::move(handlers), "/metrics");
  auto port = server.Bind("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  server.Stop();
  std::atomic<bool> returned{false};
  std::thread run([&] {
    server.Run();
    returned.store(true);
  });
  const bool ended =
      WaitFor([&] { return returned.load(); }, absl::Seconds(5));
  EXPECT_TRUE(ended) << "Run() kept serving although Stop() came first";
  if (!ended) {
    // Rescue the thread: now that Run() is serving, Stop() works.
    WaitFor(
        [&] {
          server.Stop();
          return returned.load();
        },
        absl::Seconds(20));
  }
  run.join();
}

// --- --web.config.file ---

// "correct horse battery staple" at bcrypt cost 4.
constexpr char kAliceHash[] =
    "$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG";

ServerHandlers FakeHandlers(std::atomic<int>* reloads) {
  ServerHandlers handlers;
  handlers.metrics = [] { return std::string("pprof_up 1\n"); };
  handlers.landing_page = [](const std::string&) { return std::string("<html></html>"); };
  handlers.reload = [reloads] {
    reloads->fetch_add(1);
    return absl::OkStatus();
  };
  handlers.ready = [] { return true; };
  return handlers;
}

TEST(ServerWebConfigTest, BasicAuthGuardsEveryPathAndMethod) {
  std::atomic<int> reloads{0};
  WebConfig web;
  web.basic_auth_users = {{"alice", kAliceHash}};
  Server server(FakeHandlers(&reloads), "/metrics", web);
  auto port = server.Bind("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  std::thread run([&] { server.Run(); });

  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(10, 0);
  ASSERT_TRUE(WaitFor([&] { return static_cast<bool>(client.Get("/")); },
                      absl::Seconds(20)));
  for (const char* path :
       {"/metrics", "/", "/-/healthy", "/-/ready", "/-/reload", "/nope"}) {
    auto res = client.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Basic") << path;
    EXPECT_THAT(res->body, Not(HasSubstr("pprof_up"))) << path;
  }
  auto res = client.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(reloads.load(), 0);

  client.set_basic_auth("alice", "wrong");
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);

  client.set_basic_auth("alice", "correct horse battery staple");
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "pprof_up 1\n");
  res = client.Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(reloads.load(), 1);
  res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  server.Stop();
  run.join();
}

TEST(ServerWebConfigTest, UnloadableCertificateFailsBind) {
  std::atomic<int> reloads{0};
  WebConfig web;
  web.tls = TlsServerConfig{};
  web.tls->cert_file = "/nonexistent/server.crt";
  web.tls->key_file = "/nonexistent/server.key";
  Server server(FakeHandlers(&reloads), "/metrics", web);
  auto port = server.Bind("127.0.0.1:0");
  ASSERT_FALSE(port.ok());
  EXPECT_THAT(std::string(port.status().message()),
              HasSubstr("cannot load cert_file /nonexistent/server.crt"));
  server.Stop();
}

}  // namespace
}  // namespace exporter
