#include "exporter/discovery/file_sd.h"

#include <errno.h>
#include <glob.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/config/config_yaml.h"
#include "exporter/base/log.h"
#include "exporter/net/url.h"
#include "yaml-cpp/yaml.h"

namespace exporter {
namespace {

using config_internal::ConfigEntry;
using config_internal::ReadConfigFile;
using config_internal::ConfigMap;
using config_internal::ConfigNode;

constexpr absl::string_view kGroupKeys[] = {"targets", "labels"};
constexpr char kNameLabel[] = "name";
constexpr char kSchemeLabel[] = "__scheme__";

// Files larger than this are refused rather than read into memory.
constexpr size_t kMaxFileBytes = 16 << 20;

// After an inotify event, wait until the directory has been quiet this long
// (an editor's save or a writer's rename come as several events), but not
// longer than kMaxSettle in all.
constexpr absl::Duration kSettle = absl::Milliseconds(100);
constexpr absl::Duration kMaxSettle = absl::Seconds(1);

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                IN_MOVE_SELF | IN_ATTRIB;

// The labels of one group: constant labels, and the name and scheme.
struct GroupLabels {
  std::vector<std::pair<std::string, std::string>> labels;
  std::string name_value;  // the `name` label; "" if not set
  std::string scheme = "http";
};

absl::StatusOr<GroupLabels> ParseGroupLabels(const ConfigNode* node) {
  GroupLabels out;
  if (node == nullptr) return out;
  absl::StatusOr<ConfigMap> entries = node->FreeFormMap();
  if (!entries.ok()) return entries.status();
  for (const ConfigEntry& entry : entries->entries()) {
    absl::StatusOr<std::string> value = entry.value.String();
    if (!value.ok()) return value.status();
    if (entry.key == kSchemeLabel) {
      const std::string scheme = absl::AsciiStrToLower(*value);
      if (scheme != "http" && scheme != "https") {
        return entry.value.Error("must be http or https");
      }
      out.scheme = scheme;
      continue;
    }
    if (absl::StartsWith(entry.key, "__")) continue;  // meta labels
    if (entry.key == kNameLabel) {
      if (value->empty()) return entry.value.Error("must not be empty");
      out.name_value = *std::move(value);
      continue;
    }
    absl::Status name_ok = CheckTargetLabelName(entry.key);
    if (!name_ok.ok()) return entry.value.Error(name_ok.message());
    out.labels.emplace_back(entry.key, *std::move(value));
  }
  std::sort(out.labels.begin(), out.labels.end());
  return out;
}

std::string DirectoryOf(const std::string& pattern) {
  const size_t slash = pattern.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return pattern.substr(0, slash);
}

// The regular files (or links to them) matching `pattern`, sorted.
std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> paths;
  glob_t matches;
  std::memset(&matches, 0, sizeof matches);
  if (glob(pattern.c_str(), 0, nullptr, &matches) == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) {
      struct stat st;
      if (stat(matches.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) {
        paths.emplace_back(matches.gl_pathv[i]);
      }
    }
  }
  globfree(&matches);
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

absl::StatusOr<std::vector<DiscoveredTarget>> ParseTargetGroups(
    absl::string_view text, absl::string_view filename) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: file is empty; write [] for no targets", filename));
  }
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s:%d: syntax error: %s", filename, e.mark.line + 1, e.msg));
  }
  if (documents.size() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expected one list of target groups, got %d documents", filename,
        documents.size()));
  }
  std::vector<DiscoveredTarget> targets;
  try {
    const ConfigNode root(documents[0], filename);
    if (!documents[0].IsSequence()) {
      return root.Error(
          "expected a list of target groups ({targets: [...], labels: {...}})");
    }
    absl::StatusOr<std::vector<ConfigNode>> groups = root.List();
    if (!groups.ok()) return groups.status();
    for (const ConfigNode& group : *groups) {
      if (group.IsNull()) return group.Error("expected a map, got nothing");
      absl::StatusOr<ConfigMap> fields = group.Map(kGroupKeys);
      if (!fields.ok()) return fields.status();
      const ConfigNode* labels_node = fields->Find("labels");
      absl::StatusOr<GroupLabels> labels = ParseGroupLabels(labels_node);
      if (!labels.ok()) return labels.status();
      std::vector<ConfigNode> entries;
      if (const ConfigNode* list = fields->Find("targets")) {
        absl::StatusOr<std::vector<ConfigNode>> parsed = list->List();
        if (!parsed.ok()) return parsed.status();
        entries = *std::move(parsed);
      }
      if (!labels->name_value.empty() && entries.size() > 1) {
        return (labels_node != nullptr ? *labels_node : group)
            .Error(absl::StrFormat(
                "the label name=\"%s\" names one target, but the group has %d "
                "(split it into one group per target)",
                labels->name_value, entries.size()));
      }
      for (const ConfigNode& entry : entries) {
        absl::StatusOr<std::string> address = entry.String();
        if (!address.ok()) return address.status();
        absl::StatusOr<std::string> url = PprofBaseUrlOfAddress(*address, labels->scheme);
        if (!url.ok()) return entry.Error(url.status().message());
        DiscoveredTarget target;
        target.name =
            labels->name_value.empty() ? *address : labels->name_value;
        target.url = *std::move(url);
        target.labels = labels->labels;
        target.source = absl::StrCat(filename, ":", entry.line());
        targets.push_back(std::move(target));
      }
    }
  } catch (const YAML::Exception& e) {
    // The helpers avoid throwing accessors; this is a safety net.
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:%d: %s", filename, e.mark.line + 1, e.msg));
  }
  return targets;
}

absl::StatusOr<TargetConfig> MakeDiscoveredTarget(
    const FileSdConfig& sd, const DiscoveredTarget& discovered) {
  TargetConfig target;
  static_cast<TargetSettings&>(target) = sd.defaults;
  target.name = discovered.name;
  target.url = discovered.url;
  const bool uses_tls = !(sd.defaults.fetch.tls == TlsClientOptions{});
  if (uses_tls && !absl::StartsWith(target.url, "https://")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "target \"%s\": the file_sd_configs entry sets tls_config, so the "
        "target must be https:// (a URL, or the label __scheme__: https)",
        target.name));
  }
  for (const auto& label : discovered.labels) {
    auto it = std::find_if(
        target.labels.begin(), target.labels.end(),
        [&label](const auto& l) { return l.first == label.first; });
    if (it != target.labels.end()) {
      it->second = label.second;
    } else {
      target.labels.push_back(label);
    }
  }
  std::sort(target.labels.begin(), target.labels.end());
  return target;
}

FileDiscovery::FileDiscovery(std::function<void()> on_change)
    : on_change_(std::move(on_change)) {}

FileDiscovery::~FileDiscovery() {
  Stop();
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void FileDiscovery::SetConfigs(const std::vector<FileSdConfig>& configs) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  configs_ = configs;
  if (!configs_.empty() && wake_fd_ < 0) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      Log(LogLevel::kError,
          "cannot start the service discovery thread; files are read on "
          "reload only",
          {{"err", std::strerror(errno)}});
    } else {
      inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
      if (inotify_fd_ < 0) {
        // Still works, only later: every refresh_interval.
        Log(LogLevel::kWarn, "cannot watch service discovery files",
            {{"err", std::strerror(errno)}});
      }
    }
  }
  RefreshLocked();
  next_refresh_ = absl::Now() + MinRefreshIntervalLocked();
  if (wake_fd_ < 0) return;
  if (!thread_.joinable()) {
    // Its first step waits for mu_, held here until the state is complete.
    thread_ = std::thread([this] { Loop(); });
  } else {
    const uint64_t one = 1;  // recompute the next refresh
    (void)!write(wake_fd_, &one, sizeof one);
  }
}

FileDiscovery::Targets FileDiscovery::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  Targets out;
  for (size_t i = 0; i < configs_.size() && i < paths_.size(); ++i) {
    for (const std::string& path : paths_[i]) {
      auto file = files_.find(path);
      if (file == files_.end()) continue;
      for (const DiscoveredTarget& discovered : file->second.targets) {
        absl::StatusOr<TargetConfig> target =
            MakeDiscoveredTarget(configs_[i], discovered);
        if (!target.ok()) {
          out.errors.push_back(
              absl::StrCat(discovered.source, ": ", target.status().message()));
          continue;
        }
        out.targets.push_back(*std::move(target));
        out.sources.push_back(discovered.source);
      }
    }
  }
  return out;
}

int FileDiscovery::discovered_targets() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t count = 0;
  for (const auto& paths : paths_) {
    for (const std::string& path : paths) {
      auto file = files_.find(path);
      if (file != files_.end()) count += file->second.targets.size();
    }
  }
  return static_cast<int>(count);
}

uint64_t FileDiscovery::refresh_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

void FileDiscovery::Stop() {
  int wake_fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_fd = wake_fd_;
  }
  if (wake_fd >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd, &one, sizeof one);
  }
  // No SetConfigs() starts the thread once stopping_ is set.
  if (thread_.joinable()) thread_.join();
}

absl::Duration FileDiscovery::MinRefreshIntervalLocked() const {
  absl::Duration shortest = absl::InfiniteDuration();
  for (const FileSdConfig& config : configs_) {
    shortest = std::min(shortest, config.refresh_interval);
  }
  return shortest;
}

void FileDiscovery::WatchDirectoriesLocked() {
  if (inotify_fd_ < 0) return;
  std::set<std::string> wanted;
  for (const FileSdConfig& config : configs_) {
    for (const std::string& pattern : config.files) {
      wanted.insert(DirectoryOf(pattern));
    }
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (wanted.count(it->second) == 0) {
      inotify_rm_watch(inotify_fd_, it->first);
      it = watches_.erase(it);
    } else {
      wanted.erase(it->second);
      ++it;
    }
  }
  // What is left is not watched yet. A directory that does not exist (yet)
  // is tried again on the next refresh.
  for (const std::string& dir : wanted) {
    const int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kWatchMask);
    if (wd >= 0) watches_[wd] = dir;
  }
}

namespace {

// The files each config's patterns match now, sorted, without repeats.
std::vector<std::vector<std::string>> MatchedPaths(
    const std::vector<FileSdConfig>& configs) {
  std::vector<std::vector<std::string>> paths(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    for (const std::string& pattern : configs[i].files) {
      for (std::string& path : Glob(pattern)) paths[i].push_back(std::move(path));
    }
    std::sort(paths[i].begin(), paths[i].end());
    paths[i].erase(std::unique(paths[i].begin(), paths[i].end()),
                   paths[i].end());
  }
  return paths;
}

// The discovered targets in order: config by config, file by file.
template <typename FileStates>
std::vector<std::pair<size_t, const DiscoveredTarget*>> Flatten(
    const std::vector<std::vector<std::string>>& by_config,
    const FileStates& files) {
  std::vector<std::pair<size_t, const DiscoveredTarget*>> out;
  for (size_t i = 0; i < by_config.size(); ++i) {
    for (const std::string& path : by_config[i]) {
      auto file = files.find(path);
      if (file == files.end()) continue;
      for (const DiscoveredTarget& t : file->second.targets) {
        out.emplace_back(i, &t);
      }
    }
  }
  return out;
}

}  // namespace

std::optional<FileDiscovery::FileState> FileDiscovery::ReadFileLocked(
    const std::string& path, const FileState* previous) {
  absl::StatusOr<std::string> text = ReadConfigFile(path, kMaxFileBytes);
  if (!text.ok() && absl::IsNotFound(text.status())) {
    return std::nullopt;  // deleted since the glob: as if not matched
  }
  absl::StatusOr<std::vector<DiscoveredTarget>> parsed =
      text.ok() ? ParseTargetGroups(*text, path)
                : absl::StatusOr<std::vector<DiscoveredTarget>>(text.status());
  FileState state;
  if (parsed.ok()) {
    state.targets = *std::move(parsed);
    if (previous != nullptr && !previous->error.empty()) {
      Log(LogLevel::kInfo, "service discovery file fixed",
          {{"file", path}, {"targets", absl::StrCat(state.targets.size())}});
    }
    return state;
  }
  ++failures_;
  if (previous != nullptr) state.targets = previous->targets;
  state.error = std::string(parsed.status().message());
  // Once per distinct error: the file is re-read on every refresh.
  if (previous == nullptr || previous->error != state.error) {
    Log(LogLevel::kError,
        "error reading service discovery file; keeping its previous targets",
        {{"file", path},
         {"kept_targets", absl::StrCat(state.targets.size())},
         {"err", state.error}});
  }
  return state;
}

bool FileDiscovery::RefreshLocked() {
  WatchDirectoriesLocked();
  std::vector<std::vector<std::string>> paths = MatchedPaths(configs_);
  std::set<std::string> all;
  for (const auto& list : paths) all.insert(list.begin(), list.end());

  std::map<std::string, FileState> next;
  std::set<std::string> vanished;
  for (const std::string& path : all) {
    const auto old = files_.find(path);
    std::optional<FileState> state = ReadFileLocked(
        path, old == files_.end() ? nullptr : &old->second);
    if (state.has_value()) {
      next[path] = *std::move(state);
    } else {
      vanished.insert(path);
    }
  }
  for (const auto& [path, state] : files_) {
    if (next.count(path) == 0 && !state.targets.empty()) {
      Log(LogLevel::kInfo, "service discovery file gone; dropping its targets",
          {{"file", path}, {"targets", absl::StrCat(state.targets.size())}});
    }
  }
  for (auto& list : paths) {
    list.erase(std::remove_if(
                   list.begin(), list.end(),
                   [&](const std::string& p) { return vanished.count(p) > 0; }),
               list.end());
  }

  // Changed: the sequence of (config, target) differs.
  const auto before = Flatten(paths_, files_);
  const auto after = Flatten(paths, next);
  const bool changed =
      before.size() != after.size() ||
      !std::equal(before.begin(), before.end(), after.begin(),
                  [](const auto& a, const auto& b) {
                    return a.first == b.first && *a.second == *b.second;
                  });
  paths_ = std::move(paths);
  files_ = std::move(next);
  return changed;
}

bool FileDiscovery::DrainEvents() {
  bool any = false;
  alignas(struct inotify_event) char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = read(inotify_fd_, buffer, sizeof buffer);
    if (n <= 0) break;  // EAGAIN: drained
    std::lock_guard<std::mutex> lock(mu_);
    for (ssize_t offset = 0; offset < n;) {
      const auto* event =
          reinterpret_cast<const struct inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      if (event->mask & IN_IGNORED) {
        // The directory went away; watched again once it is back.
        watches_.erase(event->wd);
      }
      any = true;
    }
  }
  return any;
}

void FileDiscovery::Loop() {
  for (;;) {
    absl::Duration wait;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      wait = next_refresh_ - absl::Now();
    }
    int timeout_ms = -1;
    if (wait < absl::InfiniteDuration()) {
      timeout_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(wait) + 1, 0, 3600 * 1000));
    }
    struct pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    const int nfds = inotify_fd_ >= 0 ? 2 : 1;
    const int ready = poll(fds, nfds, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      Log(LogLevel::kError, "service discovery: poll failed",
          {{"err", std::strerror(errno)}});
      return;
    }
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof count);
      continue;  // stopping, or new configs: recompute the deadline
    }
    bool due = false;
    if (ready > 0 && nfds == 2 && (fds[1].revents & POLLIN) && DrainEvents()) {
      // Let a burst of events settle before reading the files.
      const absl::Time settle_until = absl::Now() + kMaxSettle;
      for (;;) {
        struct pollfd more[2] = {{wake_fd_, POLLIN, 0},
                                 {inotify_fd_, POLLIN, 0}};
        const absl::Duration left =
            std::min(kSettle, settle_until - absl::Now());
        if (left <= absl::ZeroDuration()) break;
        const int got = poll(
            more, 2, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
        if (got <= 0 || (more[0].revents & POLLIN)) break;
        DrainEvents();
      }
      due = true;
    }
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      if (absl::Now() >= next_refresh_) due = true;
      if (!due) continue;
      changed = RefreshLocked();
      next_refresh_ = absl::Now() + MinRefreshIntervalLocked();
    }
    if (changed) on_change_();
  }
}

}  // namespace exporter
