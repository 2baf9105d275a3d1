#include "exporter/daemon.h"

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/config/config.h"
#include "exporter/metrics/exposition.h"
#include "exporter/net/fetch.h"
#include "exporter/discovery/file_sd.h"
#include "exporter/flags.h"
#include "exporter/archive/kept_profiles.h"
#include "exporter/config/kinds.h"
#include "exporter/web/landing_page.h"
#include "exporter/base/log.h"
#include "exporter/metrics/metrics.h"
#include "exporter/scrape/scheduler.h"
#include "exporter/scrape/outcome.h"
#include "exporter/scrape/scrape.h"
#include "exporter/web/server.h"
#include "exporter/discovery/shard.h"
#include "exporter/discovery/target_table.h"
#include "exporter/net/url.h"
#include "exporter/web/web_config.h"

namespace exporter {
namespace {

constexpr char kUsage[] =
    "usage: pprof_exporter [--config.file=FILE] [--target=NAME=URL ...]\n"
    "                      [--web.listen-address=HOST:PORT] "
    "[--web.telemetry-path=/metrics]\n"
    "                      [--web.config.file=FILE]   (TLS, basic auth)\n"
    "                      [--web.enable-pprof-reserve]   (serve scraped "
    "profiles)\n"
    "                      [--shard=I/N]   (only shard I of N, 0-based)\n"
    "                      [--log.level=debug|info|warn|error] [--version]\n"
    "       pprof_exporter reduce [flags] FILE...   (see --help of reduce)\n";

// Where the targets come from; re-read on every reload.
struct ConfigSources {
  std::string config_file;
  std::vector<std::string> target_flags;
  Shard shard;  // applied to static and discovered targets alike
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
  // With file_sd_configs, targets may come (and go) later.
  if (config.targets.empty() && config.file_sd_configs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(sources.config_file, ": no targets configured"));
  }
  return config;
}

bool IsLoopback(absl::string_view host) {
  return absl::StartsWith(host, "127.") || host == "::1" ||
         host == "localhost";
}

class Daemon {
 public:
  Daemon(ConfigSources sources, std::string telemetry_path, bool mirror)
      : sources_(std::move(sources)),
        telemetry_path_(std::move(telemetry_path)),
        kept_(mirror),
        scheduler_([this](Slot& slot) { return ScrapeAndAskRetry(slot); },
                   RetryPolicy{}),
        discovery_([this] { OnDiscoveryChanged(); }) {}

  absl::Status Reload() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    auto config = LoadConfig(sources_);
    status_.last_reload_ok = config.ok();
    if (!config.ok()) {
      Log(LogLevel::kError, "error loading config",
          {{"err", std::string(config.status().message())}});
      return config.status();
    }
    status_.last_reload_success = absl::Now();
    kept_.Configure(config->archive);
    discovery_.SetConfigs(config->file_sd_configs);  // reads the files now
    loaded_ = *std::move(config);
    const size_t targets = RebuildTable();
    Log(LogLevel::kInfo, "loaded config",
        {{"targets", absl::StrCat(targets)},
         {"workers", absl::StrCat(scheduler_.workers())}});
    return absl::OkStatus();
  }

  std::shared_ptr<const SlotTable> table() const {
    return std::atomic_load(&table_);
  }

  // The discovery thread, after the files' targets changed: the same path
  // as a reload, without re-reading the config file.
  void OnDiscoveryChanged() {
    std::lock_guard<std::mutex> lock(reload_mu_);
    if (table() == nullptr) return;  // the first load failed
    const size_t targets = RebuildTable();
    Log(LogLevel::kInfo, "discovered targets changed",
        {{"targets", absl::StrCat(targets)},
         {"workers", absl::StrCat(scheduler_.workers())}});
  }

  std::string Metrics() const {
    auto current = table();
    if (!current) return "";
    ExporterStatus status;
    {
      std::lock_guard<std::mutex> lock(reload_mu_);
      status = status_;
    }
    status.targets = current->config.targets.size();
    status.discovered_targets = discovery_.discovered_targets();
    status.sd_refresh_failures = discovery_.refresh_failures();
    FamilyBuilder families;
    AddExporterStatus(status, &families);
    ExpositionWriter body;
    body.Add(std::move(families).Build());
    CollectSeries(*current, &body);
    FamilyBuilder archive;
    kept_.AddMetrics(SlotKeys(*current), archive);
    body.Add(std::move(archive).Build());
    return std::move(body).Finish();
  }

  std::string LandingPage(const std::string& self_url) const {
    auto current = table();
    if (!current) return "";
    return RenderLandingPage(*current, absl::Now(), telemetry_path_,
                             kept_.mirror(),
                             kept_.mirror() && kept_.archiving(), self_url);
  }

  // The /debug/pprof/... handler for the server; empty when the pprof
  // mirror is off, so those paths are 404.
  std::function<PprofResponse(const std::string&)> PprofHandler() {
    if (!kept_.mirror()) return nullptr;
    return [this](const std::string& raw_path) {
      return kept_.Serve(raw_path, IsConfigured(table()));
    };
  }

  // SIGTERM: end in-flight scrapes, then stop the workers.
  void Shutdown() {
    discovery_.Stop();
    fetcher_.StopAll();
    scheduler_.Stop();
  }

 private:
  // Under reload_mu_: the table switches to the targets of loaded_ and the
  // discovery files (target_table.h), keeping the slots of unchanged
  // targets. Returns their number.
  size_t RebuildTable() {
    TargetTable built = BuildTargetTable(loaded_.targets, discovery_.Current(),
                                         sources_.shard);
    for (const RejectedTarget& rejected : built.rejected) {
      if (rejected.target.empty()) {
        Log(LogLevel::kError, "discovered target rejected",
            {{"err", rejected.reason}});
      } else {
        Log(LogLevel::kError,
            absl::StrCat("discovered target rejected: ", rejected.reason),
            {{"target", rejected.target}, {"source", rejected.source}});
      }
    }
    Config config = loaded_;
    config.targets = std::move(built.targets);
    const size_t targets = config.targets.size();
    auto previous = table();
    auto table = BuildSlotTable(std::move(config), previous.get());
    std::atomic_store(&table_, table);
    scheduler_.SetTable(table);
    return targets;
  }

  // A CPU profile refused because another profiler runs asks the scheduler
  // for a retry before the slot's next turn. A slot backing off a missing
  // kind skips its turn.
  AfterScrape ScrapeAndAskRetry(Slot& slot) {
    if (absl::Now() < slot.skip_until) return AfterScrape::kDone;
    const std::optional<FailureReason> failed = ScrapeSlot(slot);
    const bool busy = SpecOf(slot.schedule().kind).sampled &&
                      failed == FailureReason::kProfilerBusy;
    return busy ? AfterScrape::kRetrySoon : AfterScrape::kDone;
  }

  // Scrapes and publishes; returns why the scrape failed, if it did.
  std::optional<FailureReason> ScrapeSlot(Slot& slot) {
    const auto before = slot.result();
    std::string raw;  // the profile as fetched, if kept
    auto after = Scrape(slot.target(), slot.schedule(), *before, fetcher_,
                        profile::DecodeLimits{},
                        kept_.wanted() ? &raw : nullptr);
    if (!after) return FailureReason::kCancelled;  // by shutdown
    RecordOutcome(slot, *before, *after);
    if (!raw.empty()) {
      auto current = table();
      kept_.Keep(slot.target().name, slot.schedule().kind, after->finished,
                 std::move(raw), current ? current->slots.size() : 0,
                 IsConfigured(current));
    }
    std::optional<FailureReason> reason;
    if (after->failure) reason = after->failure->reason;
    slot.Publish(*std::move(after));
    return reason;
  }

  static KeptProfiles::IsConfigured IsConfigured(
      std::shared_ptr<const SlotTable> table) {
    return [table = std::move(table)](const std::string& target,
                                      profile::Kind kind) {
      if (table == nullptr) return false;
      for (const auto& slot : table->slots) {
        if (slot->schedule().kind == kind && slot->target().name == target) {
          return true;
        }
      }
      return false;
    };
  }

  static std::vector<std::pair<std::string, profile::Kind>> SlotKeys(
      const SlotTable& table) {
    std::vector<std::pair<std::string, profile::Kind>> keys;
    for (const auto& slot : table.slots) {
      keys.emplace_back(slot->target().name, slot->schedule().kind);
    }
    return keys;
  }

  const ConfigSources sources_;
  const std::string telemetry_path_;
  Fetcher fetcher_{kVersion};
  mutable std::mutex reload_mu_;  // guards status_ and loaded_
  ExporterStatus status_;         // the reload fields only
  Config loaded_;  // the config file and flags as last loaded
  std::shared_ptr<const SlotTable> table_;  // atomic_load/store
  KeptProfiles kept_;
  Scheduler scheduler_;  // its workers use the members above
  // Last, stopped first: its thread rebuilds the table.
  FileDiscovery discovery_;
};

// The command line of the daemon, checked.
struct DaemonFlags {
  ConfigSources sources;
  std::string listen_address = kDefaultListenAddress;
  std::string telemetry_path = "/metrics";
  std::optional<std::string> web_config_file;
  bool mirror = false;  // --web.enable-pprof-reserve
};

// Fills `out` from `args`, or returns the exit code for a usage error (2),
// --help or --version (0), having printed what to print.
std::optional<int> ParseDaemonFlags(const std::vector<std::string>& args,
                                    DaemonFlags* out) {
  auto flags = ParseFlags(args, {{"config.file"},
                                 {"target", true, true},
                                 {"web.listen-address"},
                                 {"web.config.file"},
                                 {"web.telemetry-path"},
                                 {"web.enable-pprof-reserve", false},
                                 {"log.level"},
                                 {"shard"},
                                 {"version", false},
                                 {"help", false},
                                 {"h", false}});
  auto usage_error = [](absl::string_view message) {
    std::cerr << "pprof_exporter: " << message << "\n" << kUsage;
    return 2;
  };
  if (!flags.ok()) return usage_error(flags.status().message());
  if (flags->Has("help") || flags->Has("h")) {
    std::cout << kUsage;
    return 0;
  }
  if (flags->Has("version")) {
    std::cout << "pprof_exporter " << kVersion << "\n";
    return 0;
  }
  if (!flags->positional.empty()) {
    return usage_error(
        absl::StrCat("unexpected argument \"", flags->positional[0], "\""));
  }
  out->sources.config_file = flags->Get("config.file").value_or("");
  out->sources.target_flags = flags->GetAll("target");
  if (auto text = flags->Get("shard")) {
    auto parsed = ParseShard(*text);
    if (!parsed.ok()) return usage_error(parsed.status().message());
    out->sources.shard = *parsed;
  }
  if (auto level = flags->Get("log.level")) {
    auto parsed = ParseLogLevel(*level);
    if (!parsed) {
      std::cerr << "pprof_exporter: bad --log.level=" << *level << "\n";
      return 2;
    }
    SetLogLevel(*parsed);
  }
  out->listen_address =
      flags->Get("web.listen-address").value_or(kDefaultListenAddress);
  out->telemetry_path = flags->Get("web.telemetry-path").value_or("/metrics");
  if (!absl::StartsWith(out->telemetry_path, "/") ||
      out->telemetry_path == "/") {
    std::cerr << "pprof_exporter: --web.telemetry-path must start with / and "
                 "not be / itself\n";
    return 2;
  }
  out->web_config_file = flags->Get("web.config.file");
  out->mirror = flags->Has("web.enable-pprof-reserve");
  return std::nullopt;
}

// The first log line, with the address as bound (the port may have been 0)
// and the exposure warnings before it.
void LogListening(const std::string& listen_address, int port,
                  const WebConfig& web_config) {
  const std::string host = SplitHostPort(listen_address)->first;
  for (const std::string& warning :
       ExposureWarnings(IsLoopback(host), web_config)) {
    Log(LogLevel::kWarn, warning, {{"address", listen_address}});
  }
  Log(LogLevel::kInfo, "listening",
      {{"address", absl::StrCat(BracketHost(host), ":", port)},
       {"version", kVersion},
       {"tls", web_config.tls.has_value() ? "true" : "false"},
       {"basic_auth", web_config.basic_auth_users.empty() ? "false" : "true"}});
}

// Waits for signals on the calling thread: SIGHUP reloads, SIGTERM and
// SIGINT stop the server and return.
void HandleSignals(const sigset_t& signals, Daemon& daemon, Server& server) {
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
}

}  // namespace

int RunDaemon(const std::vector<std::string>& args) {
  // Profiles arrive in buffers of up to 64 MiB on many threads. glibc's
  // default raises its mmap threshold after such a buffer is freed and then
  // keeps the next ones in per-thread arenas, so the RSS of a daemon with a
  // target that sends oversized bodies climbed by hundreds of MiB. A fixed
  // threshold returns every large buffer to the kernel when it is freed.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  DaemonFlags flags;
  if (std::optional<int> exit_code = ParseDaemonFlags(args, &flags)) {
    return *exit_code;
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
  if (flags.web_config_file.has_value()) {
    auto loaded = LoadWebConfigFile(*flags.web_config_file);
    if (!loaded.ok()) {
      Log(LogLevel::kError, "error loading web config",
          {{"err", std::string(loaded.status().message())}});
      return 1;
    }
    web_config = *std::move(loaded);
  }

  Daemon daemon(flags.sources, flags.telemetry_path, flags.mirror);
  if (!daemon.Reload().ok()) return 1;

  Server server({[&daemon] { return daemon.Metrics(); },
                 [&daemon](const std::string& self_url) {
                   return daemon.LandingPage(self_url);
                 },
                 [&daemon] { return daemon.Reload(); },
                 [&daemon] { return daemon.table() != nullptr; },
                 daemon.PprofHandler()},
                flags.telemetry_path, web_config);
  auto port = server.Bind(flags.listen_address);
  if (!port.ok()) {
    Log(LogLevel::kError, "cannot listen",
        {{"address", flags.listen_address},
         {"err", std::string(port.status().message())}});
    daemon.Shutdown();
    return 1;
  }
  LogListening(flags.listen_address, *port, web_config);

  std::thread signal_thread(
      [&] { HandleSignals(signals, daemon, server); });
  server.Run();
  signal_thread.join();
  daemon.Shutdown();
  Log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace exporter
