#include "exporter/web/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "exporter/base/log.h"
#include "exporter/net/url.h"
#include "profile/deflate.h"

namespace exporter {

std::string SelfUrl(bool tls, const std::string& host_header,
                    const std::string& bound_address) {
  const bool plain =
      !host_header.empty() &&
      std::all_of(host_header.begin(), host_header.end(), [](char c) {
        return absl::ascii_isalnum(c) || absl::StrContains(".-_:[]", c);
      });
  return absl::StrCat(tls ? "https://" : "http://",
                      plain ? host_header : bound_address);
}

namespace {

std::unique_ptr<httplib::Server> MakeHttpServer(const WebConfig& web,
                                                absl::Status& error) {
  if (!web.tls.has_value()) return std::make_unique<httplib::Server>();
  const TlsServerConfig& tls = *web.tls;
  auto server = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    error = ConfigureServerTls(tls, &ctx);
    return error.ok();
  });
  if (!server->is_valid() && error.ok()) {
    error = absl::InternalError("cannot create the TLS context");
  }
  return server;
}

// Whether an Accept-Encoding header value admits gzip: "gzip" listed
// without q=0. ("*" is ignored: identity is always acceptable.)
bool AcceptsGzip(absl::string_view accept_encoding) {
  for (absl::string_view coding : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> params = absl::StrSplit(coding, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(params[0]),
                                "gzip")) {
      continue;
    }
    for (size_t i = 1; i < params.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(params[i]);
      double q = 1;
      if (absl::ConsumePrefix(&param, "q=") && absl::SimpleAtod(param, &q) &&
          q <= 0) {
        return false;
      }
    }
    return true;
  }
  return false;
}

// Serves `body` without copying it. httplib compresses only bodies it
// holds itself, so a body given this way goes out exactly as it is.
void SetSharedContent(httplib::Response& res,
                      std::shared_ptr<const std::string> body,
                      const std::string& content_type) {
  const size_t size = body->size();
  if (size == 0) {
    res.set_content("", content_type);
    return;
  }
  res.set_content_provider(
      size, content_type,
      [body = std::move(body)](size_t offset, size_t length,
                               httplib::DataSink& sink) {
        return sink.write(body->data() + offset, length);
      });
}

}  // namespace

std::shared_ptr<const std::string> GzipCache::Compress(
    std::shared_ptr<const std::string> body) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (plain_ != nullptr && *plain_ == *body) return gzipped_;
  }
  // Compressed outside the lock: two requests that race here both compress,
  // rather than one waiting for the other.
  auto gzipped =
      std::make_shared<const std::string>(profile::Gzip(*body, kLevel));
  std::lock_guard<std::mutex> lock(mu_);
  plain_ = std::move(body);
  gzipped_ = gzipped;
  return gzipped;
}

Server::Server(ServerHandlers handlers, std::string telemetry_path,
               const WebConfig& web)
    : http_(MakeHttpServer(web, init_error_)),
      handlers_(std::move(handlers)),
      tls_(web.tls.has_value()) {
  SetUpConnections(web);
  RouteMetrics(telemetry_path);
  RouteLifecycle();
  if (handlers_.pprof) RoutePprof();
}

// Basic auth before any routing, and the socket options.
void Server::SetUpConnections(const WebConfig& web) {
  if (!web.basic_auth_users.empty()) {
    auth_ = std::make_unique<BasicAuthenticator>(web.basic_auth_users);
    // Before routing, so it covers every path and method, unknown ones too.
    http_->set_pre_routing_handler([this](const httplib::Request& req,
                                          httplib::Response& res) {
      if (auth_->Check(req.get_header_value("Authorization"))) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic");
      res.set_content("Unauthorized\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  // httplib's default also sets SO_REUSEPORT, which lets a second exporter
  // bind the same port and silently take half the scrapes. Like Go's
  // exporters, fail with "address in use" instead.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Without TCP_NODELAY, Nagle holds the second write of each response on a
  // kept-alive connection until the client's delayed ACK: ~40 ms on every
  // Prometheus scrape after the first.
  http_->set_tcp_nodelay(true);
}

void Server::RouteMetrics(const std::string& telemetry_path) {
  http_->Get(telemetry_path, [this](const httplib::Request& req,
                                    httplib::Response& res) {
    auto body = std::make_shared<const std::string>(handlers_.metrics());
    // Prometheus asks for gzip. Other codings httplib would pick by itself
    // (brotli when offered, as by `curl --compressed`) cost far more CPU.
    res.set_header("Vary", "Accept-Encoding");
    if (AcceptsGzip(req.get_header_value("Accept-Encoding"))) {
      body = gzip_.Compress(std::move(body));
      res.set_header("Content-Encoding", "gzip");
    }
    SetSharedContent(res, std::move(body),
                     "text/plain; version=0.0.4; charset=utf-8");
  });
}

// The landing page, health, readiness and reload.
void Server::RouteLifecycle() {
  http_->Get("/", [this](const httplib::Request& req,
                         httplib::Response& res) {
    res.set_content(handlers_.landing_page(SelfUrl(
                        tls_, req.get_header_value("Host"), bound_address_)),
                    "text/html; charset=utf-8");
  });
  http_->Get("/-/healthy", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("pprof_exporter is healthy.\n", "text/plain");
  });
  http_->Get("/-/ready", [this](const httplib::Request&,
                                httplib::Response& res) {
    if (handlers_.ready()) {
      res.set_content("pprof_exporter is ready.\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("pprof_exporter is not ready.\n", "text/plain");
    }
  });
  http_->Post("/-/reload", [this](const httplib::Request&,
                                  httplib::Response& res) {
    const absl::Status status = handlers_.reload();
    if (status.ok()) {
      res.set_content("configuration reloaded\n", "text/plain");
    } else {
      res.status = 500;
      res.set_content(absl::StrCat("failed to reload config: ",
                                   status.message(), "\n"),
                      "text/plain");
    }
  });
  http_->Get("/-/reload", [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST");
    res.set_content("Only POST requests allowed\n", "text/plain");
  });
}

void Server::RoutePprof() {
  http_->Get(R"(/debug/pprof/.*)", [this](const httplib::Request& req,
                                          httplib::Response& res) {
    // The path as sent: a target name may hold an encoded '/' (%2F),
    // which httplib's decoded req.path could not tell from a separator.
    std::string raw = req.target.empty() ? req.path : req.target;
    raw = raw.substr(0, raw.find('?'));
    PprofResponse answer = handlers_.pprof(raw);
    res.status = answer.status;
    for (const auto& [name, value] : answer.headers) {
      res.set_header(name, value);
    }
    std::shared_ptr<const std::string> body = std::move(answer.body);
    if (body == nullptr) body = std::make_shared<const std::string>();
    SetSharedContent(res, std::move(body), answer.content_type);
  });
}

Server::~Server() { Stop(); }

absl::StatusOr<int> Server::Bind(const std::string& listen_address) {
  if (!init_error_.ok()) return init_error_;
  auto host_port = SplitHostPort(listen_address);
  if (!host_port.ok()) return host_port.status();
  const auto& [host, port] = *host_port;
  int bound = -1;
  if (port == 0) {
    bound = http_->bind_to_any_port(host.c_str());
  } else if (http_->bind_to_port(host.c_str(), port)) {
    bound = port;
  }
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen_address));
  }
  const bool wildcard = host.empty() || host == "0.0.0.0" || host == "::";
  const bool v6 = host.find(':') != std::string::npos;
  bound_address_ = absl::StrCat(
      wildcard ? "localhost" : (v6 ? absl::StrCat("[", host, "]") : host), ":",
      bound);
  return bound;
}

void Server::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_requested_) return;
    running_ = true;
  }
  http_->listen_after_bind();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
    if (!running_) return;
  }
  // Run() is in listen_after_bind() or about to enter it; httplib's stop()
  // only takes effect once it is running, so wait for that.
  while (!http_->is_running()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!running_) return;
    }
    std::this_thread::yield();
  }
  http_->stop();
}

}  // namespace exporter
