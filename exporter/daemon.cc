#include "exporter/daemon.h"

#include <malloc.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/config.h"
#include "exporter/fetch.h"
#include "exporter/flags.h"
#include "exporter/landing_page.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/scheduler.h"
#include "exporter/scrape.h"
#include "exporter/server.h"
#include "exporter/web_config.h"

namespace exporter {
namespace {

constexpr char kUsage[] =
    "usage: pprof_exporter [--config.file=FILE] [--target=NAME=URL ...]\n"
    "                      [--web.listen-address=HOST:PORT] "
    "[--web.telemetry-path=/metrics]\n"
    "                      [--web.config.file=FILE]   (TLS, basic auth)\n"
    "                      [--log.level=debug|info|warn|error] [--version]\n"
    "       pprof_exporter reduce [flags] FILE...   (see --help of reduce)\n";

// A target that keeps failing the same way is logged again at most this
// often, so one dead target cannot flood the log.
constexpr absl::Duration kRepeatFailureLogEvery = absl::Minutes(10);

// Where the targets come from; re-read on every reload.
struct ConfigSources {
  std::string config_file;
  std::vector<std::string> target_flags;
};

absl::StatusOr<Config> LoadConfig(const ConfigSources& sources) {
  Config config;
  if (!sources.config_file.empty()) {
    auto loaded = LoadConfigFile(sources.config_file);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  } else if (sources.target_flags.empty()) {
    return DefaultConfig();
  }
  for (const std::string& flag : sources.target_flags) {
    auto target = TargetFromFlag(flag, config);
    if (!target.ok()) {
      // The message names the flag already (without a password in it).
      return target.status();
    }
    for (const auto& existing : config.targets) {
      if (existing.name == target->name) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--target=", flag, ": target name \"", target->name,
            "\" is already used"));
      }
    }
    config.targets.push_back(*std::move(target));
  }
  if (config.targets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(sources.config_file, ": no targets configured"));
  }
  return config;
}

bool IsLoopback(absl::string_view host) {
  return absl::StartsWith(host, "127.") || host == "::1" ||
         host == "localhost";
}

// Logs state changes of a slot, and repeats of the same failure rarely.
void LogOutcome(Slot& slot, const ScrapeResult& before,
                const ScrapeResult& after) {
  const std::string target = slot.target().name;
  const std::string kind(profile::KindName(slot.schedule().kind));
  if (after.health.up) {
    if (before.attempted && !before.health.up) {
      Log(LogLevel::kInfo, "scrape recovered",
          {{"target", target}, {"profile", kind}});
    }
    return;
  }
  const absl::Time now = absl::Now();
  const bool changed = before.health.up || !before.attempted ||
                       before.error != after.error;
  if (!changed && now - slot.last_failure_logged < kRepeatFailureLogEvery) {
    return;
  }
  slot.last_failure_logged = now;
  Log(LogLevel::kWarn, changed ? "scrape failed" : "scrape still failing",
      {{"target", target}, {"profile", kind}, {"err", after.error}});
}

class Daemon {
 public:
  explicit Daemon(ConfigSources sources, std::string telemetry_path)
      : sources_(std::move(sources)),
        telemetry_path_(std::move(telemetry_path)),
        scheduler_([this](Slot& slot) { ScrapeSlot(slot); }) {}

  absl::Status Reload() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    auto config = LoadConfig(sources_);
    last_reload_ok_ = config.ok();
    if (!config.ok()) {
      Log(LogLevel::kError, "error loading config",
          {{"err", std::string(config.status().message())}});
      return config.status();
    }
    last_reload_success_ = absl::Now();
    auto previous = table();
    const size_t targets = config->targets.size();
    auto table = BuildSlotTable(*std::move(config), previous.get());
    std::atomic_store(&table_, table);
    scheduler_.SetTable(table);
    Log(LogLevel::kInfo, "loaded config",
        {{"targets", absl::StrCat(targets)},
         {"workers", absl::StrCat(scheduler_.workers())}});
    return absl::OkStatus();
  }

  std::shared_ptr<const SlotTable> table() const {
    return std::atomic_load(&table_);
  }

  std::string Metrics() const {
    auto current = table();
    if (!current) return "";
    FamilyBuilder families;
    {
      std::lock_guard<std::mutex> lock(reload_mu_);
      families.Gauge("pprof_exporter_config_last_reload_successful",
                     "Whether the last configuration reload succeeded", {},
                     last_reload_ok_ ? 1 : 0);
      families.Gauge(
          "pprof_exporter_config_last_reload_success_timestamp_seconds",
          "Unix time of the last successful configuration reload", {},
          absl::ToDoubleSeconds(last_reload_success_ - absl::UnixEpoch()));
    }
    families.Append(CollectSeries(*current));
    return SerializeText(std::move(families).Build());
  }

  std::string LandingPage() const {
    auto current = table();
    if (!current) return "";
    return RenderLandingPage(*current, absl::Now(), telemetry_path_);
  }

  // SIGTERM: end in-flight scrapes, then stop the workers.
  void Shutdown() {
    fetcher_.StopAll();
    scheduler_.Stop();
  }

 private:
  void ScrapeSlot(Slot& slot) {
    const auto before = slot.result();
    auto after = Scrape(slot.target(), slot.schedule(), *before, fetcher_,
                        profile::DecodeLimits{});
    if (!after) return;  // cancelled by shutdown
    LogOutcome(slot, *before, *after);
    slot.Publish(std::make_shared<const ScrapeResult>(*std::move(after)));
  }

  const ConfigSources sources_;
  const std::string telemetry_path_;
  Fetcher fetcher_{kVersion};
  mutable std::mutex reload_mu_;  // guards the next two
  bool last_reload_ok_ = false;
  absl::Time last_reload_success_ = absl::UnixEpoch();
  std::shared_ptr<const SlotTable> table_;
  Scheduler scheduler_;  // last: its workers use the members above
};

}  // namespace

int RunDaemon(const std::vector<std::string>& args) {
  // Profiles arrive in buffers of up to 64 MiB on many threads. glibc's
  // default raises its mmap threshold after such a buffer is freed and then
  // keeps the next ones in per-thread arenas, so the RSS of a daemon with a
  // target that sends oversized bodies climbed by hundreds of MiB. A fixed
  // threshold returns every large buffer to the kernel when it is freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  auto flags = ParseFlags(args, {{"config.file"},
                                 {"target", true, true},
                                 {"web.listen-address"},
                                 {"web.config.file"},
                                 {"web.telemetry-path"},
                                 {"log.level"},
                                 {"version", false},
                                 {"help", false},
                                 {"h", false}});
  if (!flags.ok()) {
    std::cerr << "pprof_exporter: " << flags.status().message() << "\n"
              << kUsage;
    return 2;
  }
  if (flags->Has("help") || flags->Has("h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags->Has("version")) {
    std::cout << "pprof_exporter " << kVersion << "\n";
    return 0;
  }
  if (!flags->positional.empty()) {
    std::cerr << "pprof_exporter: unexpected argument \""
              << flags->positional[0] << "\"\n" << kUsage;
    return 2;
  }
  if (auto level = flags->Get("log.level")) {
    auto parsed = ParseLogLevel(*level);
    if (!parsed) {
      std::cerr << "pprof_exporter: bad --log.level=" << *level << "\n";
      return 2;
    }
    SetLogLevel(*parsed);
  }
  const std::string listen_address =
      flags->Get("web.listen-address").value_or(kDefaultListenAddress);
  const std::string telemetry_path =
      flags->Get("web.telemetry-path").value_or("/metrics");
  if (!absl::StartsWith(telemetry_path, "/") || telemetry_path == "/") {
    std::cerr << "pprof_exporter: --web.telemetry-path must start with / and "
                 "not be / itself\n";
    return 2;
  }

  // Signals go to one thread that waits for them; block them everywhere
  // else before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Read once, at start-up: TLS and basic auth settings change on restart.
  WebConfig web_config;
  if (auto web_config_file = flags->Get("web.config.file")) {
    auto loaded = LoadWebConfigFile(*web_config_file);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "error loading web config",
          {{"err", std::string(loaded.status().message())}});
      return 1;
    }
    web_config = *std::move(loaded);
  }

  Daemon daemon({flags->Get("config.file").value_or(""),
                 flags->GetAll("target")},
                telemetry_path);
  if (!daemon.Reload().ok()) return 1;

  Server server({[&daemon] { return daemon.Metrics(); },
                 [&daemon] { return daemon.LandingPage(); },
                 [&daemon] { return daemon.Reload(); },
                 [&daemon] { return daemon.table() != nullptr; }},
                telemetry_path, web_config);
  auto port = server.Bind(listen_address);
  if (!port.ok()) {
    Log(LogLevel::kError, "cannot listen",
        {{"address", listen_address},
         {"err", std::string(port.status().message())}});
    daemon.Shutdown();
    return 1;
  }
  auto host = SplitHostPort(listen_address)->first;
  for (const std::string& warning :
       ExposureWarnings(IsLoopback(host), web_config)) {
    Log(LogLevel::kWarn, warning, {{"address", listen_address}});
  }
  Log(LogLevel::kInfo, "listening",
      {{"address", absl::StrCat(host.find(':') != std::string::npos
                                    ? absl::StrCat("[", host, "]")
                                    : host,
                                ":", *port)},
       {"version", kVersion},
       {"tls", web_config.tls.has_value() ? "true" : "false"},
       {"basic_auth", web_config.basic_auth_users.empty() ? "false" : "true"}});

  std::thread signal_thread([&] {
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        Log(LogLevel::kInfo, "reloading config on SIGHUP");
        (void)daemon.Reload();
        continue;
      }
      Log(LogLevel::kInfo, "shutting down",
          {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      server.Stop();
      return;
    }
  });
  server.Run();
  signal_thread.join();
  daemon.Shutdown();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace exporter
