#include "exporter/net/fetch.h"

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
#include "exporter/testing/fetch_result.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::exporter::testing::Message;
using ::exporter::testing::Reason;
using ::testing::HasSubstr;
using ::testing::Not;

using TestServer = testing::HttpStub;

using ::exporter::testing::ClosedPort;

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
  EXPECT_EQ(r.failure, std::nullopt) << Message(r);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(Message(r), "");
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
    EXPECT_EQ(r.failure, std::nullopt) << path << ": " << Message(r);
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
  ASSERT_EQ(r.failure, std::nullopt) << Message(r);
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
  ASSERT_EQ(r.failure, std::nullopt) << Message(r);
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
  EXPECT_EQ(Reason(r), FailureReason::kHttpStatus);
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.body, "");
  EXPECT_THAT(Message(r), HasSubstr("404"));
  EXPECT_THAT(Message(r), HasSubstr("page not found"));
  EXPECT_THAT(Message(r), HasSubstr(s.Url("/x")));
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
  EXPECT_EQ(Reason(r), FailureReason::kProfilerBusy);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_THAT(Message(r), HasSubstr("cpu profiling already in use"));
}

TEST(FetcherTest, Plain500IsHttpStatus) {
  TestServer s;
  s.server.Get("/profile", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content(std::string(100000, 'e'), "text/plain");  // over the cap
  });
  ASSERT_TRUE(s.Start());
  FetchResult r = Fetcher().Get(s.Url("/profile"), absl::Seconds(5), 1000);
  EXPECT_EQ(Reason(r), FailureReason::kHttpStatus);
  EXPECT_EQ(r.http_status, 500);
  EXPECT_LT(Message(r).size(), 1000u);  // only a snippet of the body
}

TEST(FetcherTest, RefusedIsConnect) {
  const std::string url =
      absl::StrCat("http://127.0.0.1:", ClosedPort(), "/debug/pprof/heap");
  FetchResult r = Fetcher().Get(url, absl::Seconds(5), 1000);
  EXPECT_EQ(Reason(r), FailureReason::kConnect);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_THAT(Message(r), HasSubstr(url));
}

TEST(FetcherTest, BadUrlIsConnectAndZeroTimeoutIsTimeout) {
  Fetcher f;
  EXPECT_EQ(Reason(f.Get("localhost:1/x", absl::Seconds(1), 10)),
            FailureReason::kConnect);
  EXPECT_EQ(Reason(f.Get("http://127.0.0.1:1/", absl::ZeroDuration(), 10)),
            FailureReason::kTimeout);
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
  EXPECT_EQ(Reason(r), FailureReason::kConnect) << Message(r);
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
  EXPECT_EQ(Reason(r), FailureReason::kTimeout) << Message(r);
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
  EXPECT_EQ(Reason(r), FailureReason::kTimeout) << Message(r);
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
  EXPECT_EQ(Reason(r), FailureReason::kTooLarge);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_THAT(Message(r), HasSubstr("5000"));
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
  EXPECT_EQ(Reason(r), FailureReason::kTooLarge) << Message(r);
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
  EXPECT_EQ(Reason(r), FailureReason::kCancelled) << Message(r);
  EXPECT_LT(returned - stopped, absl::Seconds(2));

  // Later Gets do not even connect.
  r = f.Get(s.Url("/profile"), absl::Seconds(40), 1000);
  EXPECT_EQ(Reason(r), FailureReason::kCancelled);
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
    EXPECT_EQ(Reason(r), FailureReason::kCancelled) << Message(r);
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
    ASSERT_EQ(Reason(r), FailureReason::kCancelled) << "iteration " << i;
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
  ASSERT_EQ(r.failure, std::nullopt) << Message(r);
  EXPECT_EQ(r.body, s.Url("").substr(std::string("http://").size()));
}

}  // namespace
}  // namespace exporter
