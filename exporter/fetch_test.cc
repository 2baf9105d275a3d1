#include "exporter/fetch.h"

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "exporter/testing/http_stub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using TestServer = testing::HttpStub;

// A port nothing listens on: bound once, then closed.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A listening socket that never accepts: the kernel completes the
// handshake and takes the request, and no answer ever comes.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(fd_, 16);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  std::string Url() const {
    return absl::StrCat("http://127.0.0.1:", port_, "/debug/pprof/profile");
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string BinaryBody() {
  std::string s;
  for (int i = 0; i < 3000; ++i) s.push_back(static_cast<char>(i % 256));
  return s;  // starts with a NUL and holds many more
}

TEST(FailureReasonTest, LabelValues) {
  EXPECT_EQ(FailureReason(FetchFailure::kNone), "");
  EXPECT_EQ(FailureReason(FetchFailure::kConnect), "connect");
  EXPECT_EQ(FailureReason(FetchFailure::kTimeout), "timeout");
  EXPECT_EQ(FailureReason(FetchFailure::kHttpStatus), "http_status");
  EXPECT_EQ(FailureReason(FetchFailure::kProfilerBusy), "profiler_busy");
  EXPECT_EQ(FailureReason(FetchFailure::kTooLarge), "too_large");
  EXPECT_EQ(FailureReason(FetchFailure::kCancelled), "cancelled");
}

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

TEST(FetcherTest, ReturnsExactBinaryBody) {
  const std::string body = BinaryBody();
  TestServer s;
  s.server.Get("/debug/pprof/heap", [&](const httplib::Request&,
                                        httplib::Response& res) {
    res.set_content(body, "application/octet-stream");
  });
  ASSERT_TRUE(s.Start());
  Fetcher f;
  FetchResult r = f.Get(s.Url("/debug/pprof/heap"), absl::Seconds(5), 1 << 20);
  EXPECT_EQ(r.failure, FetchFailure::kNone) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.error, "");
}

TEST(FetcherTest, BodyExactlyAtCapIsAccepted) {
  const std::string body = BinaryBody();
  TestServer s;
  s.server.Get("/fixed", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/octet-stream");
  });
  s.server.Get("/chunked", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/octet-stream", [&](size_t, httplib::DataSink& sink) {
          sink.write(body.data(), body.size());
          sink.done();
          return true;
        });
  });
  ASSERT_TRUE(s.Start());
  Fetcher f;
  for (const char* path : {"/fixed", "/chunked"}) {
    FetchResult r = f.Get(s.Url(path), absl::Seconds(5), body.size());
    EXPECT_EQ(r.failure, FetchFailure::kNone) << path << ": " << r.error;
    EXPECT_EQ(r.body, body) << path;
  }
}

TEST(FetcherTest, SendsUserAgentAndAsksForNoCompression) {
  std::string user_agent, accept_encoding;
  size_t user_agents = 0, accept_encodings = 0;
  TestServer s;
  s.server.Get("/h", [&](const httplib::Request& req, httplib::Response& res) {
    user_agent = req.get_header_value("User-Agent");
    user_agents = req.get_header_value_count("User-Agent");
    accept_encoding = req.get_header_value("Accept-Encoding");
    accept_encodings = req.get_header_value_count("Accept-Encoding");
    res.set_content("ok", "text/plain");
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/h"), absl::Seconds(5), 100);
  ASSERT_EQ(r.failure, FetchFailure::kNone) << r.error;
  EXPECT_EQ(user_agent, "pprof_exporter/0.1.0");
  EXPECT_EQ(user_agents, 1u);
  EXPECT_EQ(accept_encoding, "identity");
  EXPECT_EQ(accept_encodings, 1u);

  EXPECT_EQ(Fetcher("9.9.9").user_agent(), "pprof_exporter/9.9.9");
}

TEST(FetcherTest, ContentEncodingIsNotUndone) {
  // gzip("hello pprof"). Even if a proxy labels the body as gzip-encoded,
  // the bytes must come through as sent.
  const std::string gz(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57\x28"
      "\x28\x28\xca\x4f\x03\x00\xb3\xb8\x33\x72\x0b\x00\x00\x00",
      31);
  TestServer s;
  s.server.Get("/gz", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Encoding", "gzip");
    res.set_content(gz, "application/octet-stream");
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/gz"), absl::Seconds(5), 100);
  ASSERT_EQ(r.failure, FetchFailure::kNone) << r.error;
  EXPECT_EQ(r.body, gz);
}

TEST(FetcherTest, NotFoundIsHttpStatus) {
  TestServer s;
  s.server.Get("/x", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("404 page not found\n", "text/plain");
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/x"), absl::Seconds(5), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kHttpStatus);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.body, "");
  EXPECT_THAT(r.error, HasSubstr("404"));
  EXPECT_THAT(r.error, HasSubstr("page not found"));
  EXPECT_THAT(r.error, HasSubstr(s.Url("/x")));
}

TEST(FetcherTest, GoPprofBusyIsProfilerBusy) {
  TestServer s;
  s.server.Get("/profile", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_header("X-Go-Pprof", "1");
    res.set_content(
        "Could not enable CPU profiling: cpu profiling already in use\n",
        "text/plain; charset=utf-8");
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/profile"), absl::Seconds(5), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kProfilerBusy);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_THAT(r.error, HasSubstr("cpu profiling already in use"));
}

TEST(FetcherTest, Plain500IsHttpStatus) {
  TestServer s;
  s.server.Get("/profile", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(std::string(100000, 'e'), "text/plain");  // over the cap
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/profile"), absl::Seconds(5), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kHttpStatus);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_LT(r.error.size(), 1000u);  // only a snippet of the body
}

TEST(FetcherTest, RefusedIsConnect) {
  const std::string url =
      absl::StrCat("http://127.0.0.1:", ClosedPort(), "/debug/pprof/heap");
  FetchResult r = Fetcher().Get(url, absl::Seconds(5), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kConnect);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_THAT(r.error, HasSubstr(url));
}

TEST(FetcherTest, BadUrlIsConnectAndZeroTimeoutIsTimeout) {
  Fetcher f;
  EXPECT_EQ(f.Get("localhost:1/x", absl::Seconds(1), 10).failure,
            FetchFailure::kConnect);
  EXPECT_EQ(f.Get("http://127.0.0.1:1/", absl::ZeroDuration(), 10).failure,
            FetchFailure::kTimeout);
}

TEST(FetcherTest, ResetMidBodyIsConnect) {
  TestServer s;
  s.server.Get("/cut", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(
        1000, "application/octet-stream",
        [](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset > 0) return false;  // the server drops the connection
          sink.write("0123456789", 10);
          return true;
        });
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/cut"), absl::Seconds(10), 10000);
  EXPECT_EQ(r.failure, FetchFailure::kConnect) << r.error;
  EXPECT_EQ(r.body, "");
}

TEST(FetcherTest, LateAnswerIsTimeoutAtTheDeadline) {
  TestServer s;
  s.server.Get("/profile", [&](const httplib::Request&, httplib::Response& res) {
    s.Hold();
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(s.Start());
  const absl::Duration timeout = absl::Seconds(1);
  const absl::Time start = absl::Now();
  FetchResult r = Fetcher().Get(s.Url("/profile"), timeout, 1000);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(r.failure, FetchFailure::kTimeout) << r.error;
  EXPECT_GE(took, timeout - absl::Milliseconds(100));
  EXPECT_LT(took, timeout + absl::Seconds(2));
}

TEST(FetcherTest, SlowDripBodyIsTimeout) {
  TestServer s;
  s.server.Get("/drip", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/octet-stream", [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= 100 ||
              s.release.WaitForNotificationWithTimeout(
                  absl::Milliseconds(100))) {
            sink.done();
            return true;
          }
          return sink.write("x", 1);
        });
  });
  ASSERT_TRUE(s.Start());
  const absl::Time start = absl::Now();
  FetchResult r = Fetcher().Get(s.Url("/drip"), absl::Seconds(1), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kTimeout) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(FetcherTest, ContentLengthOverCapIsTooLarge) {
  TestServer s;
  s.server.Get("/big", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(5000, 'b'), "application/octet-stream");
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/big"), absl::Seconds(5), 4999);
  EXPECT_EQ(r.failure, FetchFailure::kTooLarge);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_THAT(r.error, HasSubstr("5000"));
}

TEST(FetcherTest, ChunkedOverCapIsTooLarge) {
  const std::string chunk(64 << 10, 'c');
  TestServer s;
  s.server.Get("/big", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/octet-stream", [&](size_t offset, httplib::DataSink& sink) {
          if (offset >= (8u << 20)) {  // far beyond the cap
            sink.done();
            return true;
          }
          return sink.write(chunk.data(), chunk.size());
        });
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/big"), absl::Seconds(5), 100 << 10);
  EXPECT_EQ(r.failure, FetchFailure::kTooLarge) << r.error;
  EXPECT_EQ(r.body, "");
}

TEST(FetcherTest, StopAllCancelsAWaitingGet) {
  absl::Notification arrived;
  TestServer s;
  s.server.Get("/profile", [&](const httplib::Request&, httplib::Response& res) {
    arrived.Notify();
    s.Hold();
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(s.Start());
  Fetcher f;
  FetchResult r;
  absl::Time returned;
  std::thread t([&] {
    r = f.Get(s.Url("/profile?seconds=30"), absl::Seconds(40), 1000);
    returned = absl::Now();
  });
  ASSERT_TRUE(arrived.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const absl::Time stopped = absl::Now();
  f.StopAll();
  t.join();
  EXPECT_EQ(r.failure, FetchFailure::kCancelled) << r.error;
  EXPECT_LT(returned - stopped, absl::Seconds(2));

  // Later Gets do not even connect.
  r = f.Get(s.Url("/profile"), absl::Seconds(40), 1000);
  EXPECT_EQ(r.failure, FetchFailure::kCancelled);
}

TEST(FetcherTest, StopAllRacingWithStartingGets) {
  // StopAll lands while Gets are anywhere between registering and waiting
  // for the answer; none may be left waiting for its 40 s timeout.
  TestServer s;
  s.server.Get("/profile", [&](const httplib::Request&, httplib::Response& res) {
    s.Hold();
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(s.Start());
  Fetcher f;
  constexpr int kGets = 6;  // under httplib's server thread count
  std::vector<FetchResult> results(kGets);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kGets; ++i) {
    threads.emplace_back([&, i] {
      results[i] = f.Get(s.Url("/profile"), absl::Seconds(40), 1000);
    });
    if (i == kGets / 2) f.StopAll();
  }
  f.StopAll();  // a second call is harmless
  for (auto& t : threads) t.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  for (const FetchResult& r : results) {
    EXPECT_EQ(r.failure, FetchFailure::kCancelled) << r.error;
  }
}

TEST(FetcherTest, StopAllRightAfterGetStarts) {
  // A Get that has registered but whose client has no socket yet is immune
  // to httplib's stop(); StopAll must still reach it. Vary where StopAll
  // lands relative to the Get's start. SIGPIPE keeps its default action
  // (httplib::Server ignores it process-wide) so that a write to a socket
  // StopAll shut down would kill the test, as it would kill the daemon.
  const auto previous = signal(SIGPIPE, SIG_DFL);
  for (int i = 0; i < 300; ++i) {
    SilentListener target;
    Fetcher f;
    FetchResult r;
    absl::Time returned;
    std::thread t([&] {
      r = f.Get(target.Url(), absl::Seconds(3), 100);
      returned = absl::Now();
    });
    const absl::Time spin_until = absl::Now() + absl::Microseconds(i * 3);
    while (absl::Now() < spin_until) {
    }
    const absl::Time stopped = absl::Now();
    f.StopAll();
    t.join();
    ASSERT_EQ(r.failure, FetchFailure::kCancelled) << "iteration " << i;
    ASSERT_LT(returned - stopped, absl::Seconds(1)) << "iteration " << i;
  }
  signal(SIGPIPE, previous);
}

TEST(FetcherTest, Ipv6Loopback) {
  TestServer s("::1");
  s.server.Get("/x", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_header_value("Host"), "text/plain");
  });
  if (!s.Start()) GTEST_SKIP() << "no IPv6 loopback here";
  FetchResult r = Fetcher().Get(s.Url("/x"), absl::Seconds(5), 1000);
  ASSERT_EQ(r.failure, FetchFailure::kNone) << r.error;
  EXPECT_EQ(r.body, s.Url("").substr(std::string("http://").size()));
}

}  // namespace
}  // namespace exporter
