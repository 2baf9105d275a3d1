#include "exporter/daemon.h"

#include <malloc.h>
#include <signal.h>

#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/archive.h"
#include "exporter/config.h"
#include "exporter/exposition.h"
#include "exporter/fetch.h"
#include "exporter/file_sd.h"
#include "exporter/flags.h"
#include "exporter/landing_page.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/reserve.h"
#include "exporter/scheduler.h"
#include "exporter/scrape.h"
#include "exporter/server.h"
#include "exporter/shard.h"
#include "exporter/url.h"
#include "exporter/web_config.h"

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

// A target that keeps failing the same way is logged again at most this
// often, so one dead target cannot flood the log.
constexpr absl::Duration kRepeatFailureLogEvery = absl::Minutes(10);

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

// A failure because another CPU profile was running in the target.
bool IsProfilerBusy(const ScrapeResult& result) {
  return result.failure &&
         result.failure->reason == FailureReason::kProfilerBusy;
}

// Logs state changes of a slot, and repeats of the same failure rarely.
// Another profiler at work (go tool pprof, Parca, ...) is no fault of the
// target and the scheduler retries: logged once per episode, at info.
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
  if (IsProfilerBusy(after)) {
    if (!IsProfilerBusy(before)) {
      // Only CPU profiles are retried early (Go refuses nothing else).
      Log(LogLevel::kInfo,
          slot.schedule().kind == profile::Kind::kCpu
              ? "profiler busy; retrying"
              : "profiler busy",
          {{"target", target}, {"profile", kind},
           {"err", after.failure->ToString()}});
    }
    return;
  }
  const absl::Time now = absl::Now();
  const bool changed = before.health.up || !before.attempted ||
                       before.failure != after.failure;
  if (!changed && now - slot.last_failure_logged < kRepeatFailureLogEvery) {
    return;
  }
  slot.last_failure_logged = now;
  Log(LogLevel::kWarn, changed ? "scrape failed" : "scrape still failing",
      {{"target", target}, {"profile", kind},
       {"err", after.failure->ToString()}});
}

class Daemon {
 public:
  explicit Daemon(ConfigSources sources, std::string telemetry_path)
      : sources_(std::move(sources)),
        telemetry_path_(std::move(telemetry_path)),
        scheduler_([this](Slot& slot) { return ScrapeAndAskRetry(slot); },
                   RetryPolicy{}),
        discovery_([this] { OnDiscoveryChanged(); }) {}

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
    ApplyArchiveConfig(config->archive);
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
      families.Gauge("pprof_exporter_targets",
                     "Targets this exporter scrapes: static and discovered, "
                     "after --shard and duplicate names",
                     {}, static_cast<double>(current->config.targets.size()));
      families.Gauge("pprof_exporter_discovered_targets",
                     "Targets listed in file_sd files (a file that failed to "
                     "read counts with its previous targets), before --shard",
                     {}, discovery_.discovered_targets());
      families.Counter("pprof_exporter_sd_refresh_failures_total",
                       "Reads of file_sd files that failed (unreadable, "
                       "syntax, invalid content); the file kept its targets",
                       {}, static_cast<double>(discovery_.refresh_failures()));
    }
    ExpositionWriter body;
    body.Add(std::move(families).Build());
    CollectSeries(*current, &body);
    FamilyBuilder archive;
    AddArchiveMetrics(*current, archive);
    body.Add(std::move(archive).Build());
    return std::move(body).Finish();
  }

  std::string LandingPage() const {
    auto current = table();
    if (!current) return "";
    return RenderLandingPage(*current, absl::Now(), telemetry_path_, reserve_,
                             reserve_ && archive() != nullptr);
  }

  // --web.enable-pprof-reserve; call before the first Reload().
  void EnablePprofReserve() { reserve_ = true; }

  // The /debug/pprof/... handler for the server; empty when re-serving is
  // off, so those paths are 404.
  std::function<PprofResponse(const std::string&)> PprofHandler() {
    if (!reserve_) return nullptr;
    return [this](const std::string& raw_path) {
      auto current = table();
      auto archive = this->archive();
      PprofSources sources;
      sources.configured = [&current](const std::string& target,
                                      profile::Kind kind) {
        return current != nullptr && InTable(*current, target, kind);
      };
      sources.latest = &latest_;
      sources.archive = archive.get();
      return ServePprof(raw_path, sources);
    };
  }

  // SIGTERM: end in-flight scrapes, then stop the workers.
  void Shutdown() {
    discovery_.Stop();
    fetcher_.StopAll();
    scheduler_.Stop();
  }

 private:
  // Under reload_mu_: the static targets of loaded_ and the discovered ones,
  // those of this --shard, the first of each name; the table switches to
  // them, keeping the slots of unchanged targets. Returns their number.
  size_t RebuildTable() {
    Config config = loaded_;
    config.targets.clear();
    absl::flat_hash_set<std::string> names;
    for (const TargetConfig& target : loaded_.targets) {
      if (!InShard(target.name, sources_.shard)) continue;
      names.insert(target.name);
      config.targets.push_back(target);
    }
    FileDiscovery::Targets discovered = discovery_.Current();
    for (const std::string& error : discovered.errors) {
      Log(LogLevel::kError, "discovered target rejected", {{"err", error}});
    }
    for (size_t i = 0; i < discovered.targets.size(); ++i) {
      TargetConfig& target = discovered.targets[i];
      if (!InShard(target.name, sources_.shard)) continue;
      if (!names.insert(target.name).second) {
        Log(LogLevel::kError,
            "discovered target rejected: its name is already used",
            {{"target", target.name}, {"source", discovered.sources[i]}});
        continue;
      }
      config.targets.push_back(std::move(target));
    }
    const size_t targets = config.targets.size();
    auto previous = table();
    auto table = BuildSlotTable(std::move(config), previous.get());
    std::atomic_store(&table_, table);
    scheduler_.SetTable(table);
    return targets;
  }

  // A CPU profile refused because another profiler runs asks the scheduler
  // for a retry before the slot's next turn.
  AfterScrape ScrapeAndAskRetry(Slot& slot) {
    const std::optional<FailureReason> failed = ScrapeSlot(slot);
    const bool busy = slot.schedule().kind == profile::Kind::kCpu &&
                      failed == FailureReason::kProfilerBusy;
    return busy ? AfterScrape::kRetrySoon : AfterScrape::kDone;
  }

  // Scrapes and publishes; returns why the scrape failed, if it did.
  std::optional<FailureReason> ScrapeSlot(Slot& slot) {
    const auto before = slot.result();
    std::string raw;  // the profile as fetched, if archived or re-served
    auto after = Scrape(slot.target(), slot.schedule(), *before, fetcher_,
                        profile::DecodeLimits{},
                        reserve_ || archive() != nullptr ? &raw : nullptr);
    if (!after) return FailureReason::kCancelled;  // by shutdown
    LogOutcome(slot, *before, *after);
    if (!raw.empty()) KeepProfile(slot, after->finished, std::move(raw));
    std::optional<FailureReason> reason;
    if (after->failure) reason = after->failure->reason;
    slot.Publish(*std::move(after));
    return reason;
  }

  static bool InTable(const SlotTable& table, const std::string& target,
                      profile::Kind kind) {
    for (const auto& slot : table.slots) {
      if (slot->schedule().kind == kind && slot->target().name == target) {
        return true;
      }
    }
    return false;
  }

  std::shared_ptr<Archive> archive() const {
    return std::atomic_load(&archive_);
  }

  // Under reload_mu_: opens, re-limits or closes the archive.
  void ApplyArchiveConfig(const std::optional<ArchiveConfig>& config) {
    auto current = archive();
    if (!config.has_value()) {
      if (current != nullptr) {
        Log(LogLevel::kInfo, "profile archive disabled",
            {{"dir", current->dir()}});
      }
      std::atomic_store(&archive_, std::shared_ptr<Archive>());
      archive_dir_.clear();
      return;
    }
    const ArchiveLimits limits{config->max_age, config->max_bytes};
    if (current != nullptr && archive_dir_ == config->dir) {
      current->SetLimits(limits);
      return;
    }
    Archive::Options options;
    options.dir = config->dir;
    options.limits = limits;
    std::atomic_store(&archive_,
                      std::make_shared<Archive>(std::move(options)));
    archive_dir_ = config->dir;
  }

  // A fetched profile: into the archive and/or the re-serve store. Archive
  // failures are counted and logged there; the scrape still succeeded.
  void KeepProfile(const Slot& slot, absl::Time fetched, std::string bytes) {
    const std::string& target = slot.target().name;
    const profile::Kind kind = slot.schedule().kind;
    if (auto archive = this->archive()) {
      (void)archive->Store(target, kind, fetched, bytes);
    }
    if (!reserve_) return;
    latest_.Put(target, kind,
                std::make_shared<const RawProfile>(
                    RawProfile{std::move(bytes), fetched}));
    // More entries than slots: some target was removed; forget it.
    auto current = table();
    if (current != nullptr && latest_.size() > current->slots.size()) {
      latest_.Retain([&current](const std::string& t, profile::Kind k) {
        return InTable(*current, t, k);
      });
    }
  }

  void AddArchiveMetrics(const SlotTable& table,
                         FamilyBuilder& families) const {
    auto archive = this->archive();
    if (archive == nullptr) return;
    std::vector<std::pair<std::string, profile::Kind>> slots;
    for (const auto& slot : table.slots) {
      slots.emplace_back(slot->target().name, slot->schedule().kind);
    }
    AddArchiveStats(archive->Stats(slots), &families);
  }

  const ConfigSources sources_;
  const std::string telemetry_path_;
  Fetcher fetcher_{kVersion};
  mutable std::mutex reload_mu_;  // guards the next two
  bool last_reload_ok_ = false;
  absl::Time last_reload_success_ = absl::UnixEpoch();
  std::shared_ptr<const SlotTable> table_;
  bool reserve_ = false;  // set before the first Reload(), then constant
  std::string archive_dir_;           // guarded by reload_mu_
  std::shared_ptr<Archive> archive_;  // atomic_load/store; null: none
  LatestProfiles latest_;             // filled only when reserve_
  Config loaded_;  // the config file and flags as last loaded; reload_mu_
  Scheduler scheduler_;  // its workers use the members above
  // Last, stopped first: its thread rebuilds the table.
  FileDiscovery discovery_;
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
                                 {"web.enable-pprof-reserve", false},
                                 {"log.level"},
                                 {"shard"},
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
  Shard shard;
  if (auto text = flags->Get("shard")) {
    auto parsed = ParseShard(*text);
    if (!parsed.ok()) {
      std::cerr << "pprof_exporter: " << parsed.status().message() << "\n"
                << kUsage;
      return 2;
    }
    shard = *parsed;
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
                 flags->GetAll("target"), shard},
                telemetry_path);
  if (flags->Has("web.enable-pprof-reserve")) daemon.EnablePprofReserve();
  if (!daemon.Reload().ok()) return 1;

  Server server({[&daemon] { return daemon.Metrics(); },
                 [&daemon] { return daemon.LandingPage(); },
                 [&daemon] { return daemon.Reload(); },
                 [&daemon] { return daemon.table() != nullptr; },
                 daemon.PprofHandler()},
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
