// For tests that need an HTTP server to talk to: an httplib::Server on an
// ephemeral loopback port, served from its own thread. The test registers
// handlers on `server` before Start(). Handlers that block wait in Hold(),
// which teardown releases so the server can stop without waiting for them
// to time out. Handlers may still run after the client gave up: declare
// what they use before the stub.
#ifndef PPROF_EXPORTER_EXPORTER_TESTING_HTTP_STUB_H_
#define PPROF_EXPORTER_EXPORTER_TESTING_HTTP_STUB_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "exporter/testing/poll.h"
#include <httplib.h>

namespace exporter::testing {

class HttpStub {
 public:
  explicit HttpStub(const std::string& host = "127.0.0.1") : host_(host) {}
  ~HttpStub() {
    release.Notify();
    if (thread_.joinable()) {
      server.stop();
      thread_.join();
    }
  }
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  // False if the address cannot be bound (e.g. no IPv6 loopback).
  bool Start() {
    port_ = server.bind_to_any_port(host_);
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { server.listen_after_bind(); });
    return PollUntil([this] { return server.is_running(); }, absl::Seconds(10));
  }

  // http://HOST:PORT/path (IPv6 hosts bracketed); another scheme for a
  // server the test wraps in TLS itself, or to see a scheme refused.
  std::string Url(const std::string& path, const std::string& scheme = "http") const {
    const std::string host =
        host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]";
    return absl::StrCat(scheme, "://", host, ":", port_, path);
  }

  // Blocks a handler until teardown (bounded, in case teardown never comes).
  void Hold() { release.WaitForNotificationWithTimeout(absl::Seconds(20)); }

  httplib::Server server;
  absl::Notification release;

 private:
  std::string host_;
  int port_ = 0;
  std::thread thread_;
};

// A loopback port nothing listens on (bound once, then closed): a connect
// to it is refused.
inline int ClosedPort() {
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

}  // namespace exporter::testing

#endif  // PPROF_EXPORTER_EXPORTER_TESTING_HTTP_STUB_H_
