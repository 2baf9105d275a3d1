// The exporter's own HTTP endpoints, served by cpp-httplib:
//   <telemetry path>  the metrics (default /metrics)
//   /                 an HTML landing page: targets, kinds, last results
//   /-/healthy        200 while the process runs
//   /-/ready          200 once a configuration is loaded
//   /-/reload         POST: re-read the configuration
//   /debug/pprof/...  re-served profiles, when enabled (pprof_mirror.h)
// The handlers only read snapshots; none of them waits for a scrape.
// With a WebConfig (--web.config.file) it serves HTTPS and/or requires
// basic auth on every path; see web_config.h.
#ifndef PPROF_EXPORTER_EXPORTER_WEB_SERVER_H_
#define PPROF_EXPORTER_EXPORTER_WEB_SERVER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporter/archive/pprof_mirror.h"
#include "exporter/web/web_config.h"

namespace httplib {
class Server;
}

namespace exporter {

struct ServerHandlers {
  std::function<std::string()> metrics;       // text exposition
  // HTML, given the exporter's URL as the client reached it (SelfUrl).
  std::function<std::string(const std::string& self_url)> landing_page;
  std::function<absl::Status()> reload;
  std::function<bool()> ready;
  // GET /debug/pprof/...: re-served profiles (pprof_mirror.h), given the request
  // path as sent (percent-encoded, without the query). Unset: 404 there.
  std::function<PprofResponse(const std::string& raw_path)> pprof;
};

// The gzipped /metrics body, kept while the body stays the same: requests
// between two scrapes' results (wrk, or several Prometheus servers) then
// cost no compression. Thread-safe.
class GzipCache {
 public:
  // zlib's level 1: on exposition text it is several times faster than the
  // default level, for a body ~15 % larger.
  static constexpr int kLevel = 1;
  std::shared_ptr<const std::string> Compress(
      std::shared_ptr<const std::string> body);

 private:
  std::mutex mu_;
  std::shared_ptr<const std::string> plain_;    // guarded by mu_
  std::shared_ptr<const std::string> gzipped_;  // guarded by mu_
};

class Server {
 public:
  // `web` is read here: TLS files are loaded now (errors surface in Bind),
  // and later changes to it have no effect.
  Server(ServerHandlers handlers, std::string telemetry_path,
         const WebConfig& web = {});
  ~Server();

  // Binds "host:port" (port 0 picks a free one) and returns the bound port.
  // Fails too if the TLS certificate or key could not be loaded.
  absl::StatusOr<int> Bind(const std::string& listen_address);
  // Serves until Stop(); call after Bind. Returns at once if Stop() came
  // first.
  void Run();
  // Ends Run(), whether it has started serving yet or not. Thread-safe.
  void Stop();

 private:
  void SetUpConnections(const WebConfig& web);
  void RouteMetrics(const std::string& telemetry_path);
  void RouteLifecycle();
  void RoutePprof();

  // Declared before http_, which sets it while being constructed.
  absl::Status init_error_;  // TLS setup failed: Bind returns it
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<BasicAuthenticator> auth_;  // null: no basic auth
  ServerHandlers handlers_;
  GzipCache gzip_;
  bool tls_ = false;
  std::string bound_address_;  // "host:port", set by Bind before Run
  std::mutex mu_;
  bool stop_requested_ = false;  // guarded by mu_
  bool running_ = false;         // guarded by mu_: Run() is inside listen
};

// "http(s)://HOST" with the request's Host header when it is a plain
// host[:port], else `bound_address` (a wildcard host becomes localhost).
std::string SelfUrl(bool tls, const std::string& host_header,
                    const std::string& bound_address);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_WEB_SERVER_H_
