#include "exporter/archive/archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "exporter/base/log.h"

namespace exporter {
namespace {

constexpr char kSuffix[] = ".pb.gz";
constexpr char kTempPrefix[] = ".tmp-";
constexpr char kTimeFormat[] = "%Y-%m-%dT%H:%M:%E3SZ";
// NAME_MAX on Linux file systems.
constexpr size_t kMaxElement = 255;
// A series that keeps failing the same way is logged again at most this
// often, as the daemon does for failing scrapes.
constexpr absl::Duration kRepeatErrorLogEvery = absl::Minutes(10);

bool KeptByte(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         (c == '.' && !first);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status ErrnoStatus(int err, absl::string_view what,
                         absl::string_view path) {
  return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path));
}

// mkdir -p; EEXIST is fine when it is a directory (or a link to one).
absl::Status MakeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    const std::string prefix =
        slash == std::string::npos ? path : path.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0750) != 0 &&
        errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create directory", prefix);
    }
    if (slash == std::string::npos) break;
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, "cannot create directory", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return ErrnoStatus(ENOTDIR, "cannot create directory", path);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view bytes,
                      const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

void FsyncDir(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);  // durability of the rename only; the file is complete
  close(fd);
}

struct DirEntry {
  std::string name;
  mode_t mode = 0;
  int64_t size = 0;
};

// The entries of `path` (without . and ..), not following symlinks.
absl::StatusOr<std::vector<DirEntry>> ListDir(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "cannot read directory", path);
  std::vector<DirEntry> entries;
  while (struct dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // vanished meanwhile
    }
    entries.push_back({name, st.st_mode, static_cast<int64_t>(st.st_size)});
  }
  closedir(dir);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) {
              return a.name < b.name;
            });
  return entries;
}

}  // namespace

std::string EncodeTargetName(absl::string_view name) {
  if (name.empty()) return "%";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (KeptByte(c, i == 0)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::optional<std::string> DecodeTargetName(absl::string_view element) {
  if (element == "%") return std::string();
  std::optional<std::string> out = PercentDecode(element);
  // Only the canonical form: "%41" is not how "A" is written, and a '/' or
  // a leading '.' could not have come from the encoder.
  if (!out || out->empty() || EncodeTargetName(*out) != element) {
    return std::nullopt;
  }
  return out;
}

std::string ArchiveFileName(int64_t unix_millis) {
  return absl::StrCat(absl::FormatTime(kTimeFormat,
                                       absl::FromUnixMillis(unix_millis),
                                       absl::UTCTimeZone()),
                      kSuffix);
}

std::optional<int64_t> ParseArchiveFileName(absl::string_view name) {
  if (!absl::ConsumeSuffix(&name, kSuffix)) return std::nullopt;
  // Fixed shape: 2026-11-27T13:05:44.123Z; no spaces, signs or zones.
  if (name.size() != 24) return std::nullopt;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(kTimeFormat, name, absl::UTCTimeZone(), &t, &err)) {
    return std::nullopt;
  }
  const int64_t millis = absl::ToUnixMillis(t);
  if (ArchiveFileName(millis) != absl::StrCat(name, kSuffix)) {
    return std::nullopt;
  }
  return millis;
}

Archive::Archive(Options options) : options_(std::move(options)) {
  while (options_.dir.size() > 1 && options_.dir.back() == '/') {
    options_.dir.pop_back();
  }
  Scan();
  {
    std::lock_guard<std::mutex> lock(mu_);
    EnforceRetentionLocked();
  }
  if (options_.retention_thread) {
    retention_ = std::thread([this] { RetentionLoop(); });
  }
}

Archive::~Archive() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (retention_.joinable()) retention_.join();
}

std::string Archive::SeriesDir(const Key& key) const {
  return absl::StrCat(options_.dir, "/", EncodeTargetName(key.first), "/",
                      profile::KindName(key.second));
}

void Archive::Scan() {
  if (absl::Status made = MakeDirs(options_.dir); !made.ok()) {
    Log(LogLevel::kError, "cannot open the profile archive",
        {{"dir", options_.dir}, {"err", std::string(made.message())}});
    return;
  }
  auto targets = ListDir(options_.dir);
  if (!targets.ok()) {
    Log(LogLevel::kError, "cannot open the profile archive",
        {{"dir", options_.dir},
         {"err", std::string(targets.status().message())}});
    return;
  }
  int64_t files = 0;
  int removed_temp = 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (const DirEntry& t : *targets) {
    const std::optional<std::string> target = DecodeTargetName(t.name);
    if (!S_ISDIR(t.mode) || !target.has_value()) {
      Log(LogLevel::kDebug, "ignoring a file in the profile archive",
          {{"path", absl::StrCat(options_.dir, "/", t.name)}});
      continue;
    }
    const std::string target_dir = absl::StrCat(options_.dir, "/", t.name);
    auto kinds = ListDir(target_dir);
    if (!kinds.ok()) {
      Log(LogLevel::kWarn, "cannot read part of the profile archive",
          {{"err", std::string(kinds.status().message())}});
      continue;
    }
    for (const DirEntry& k : *kinds) {
      const std::optional<profile::Kind> kind = profile::ParseKind(k.name);
      if (!S_ISDIR(k.mode) || !kind.has_value()) continue;
      const Key key{*target, *kind};
      const std::string kind_dir = absl::StrCat(target_dir, "/", k.name);
      auto entries = ListDir(kind_dir);
      if (!entries.ok()) {
        Log(LogLevel::kWarn, "cannot read part of the profile archive",
            {{"err", std::string(entries.status().message())}});
        continue;
      }
      for (const DirEntry& f : *entries) {
        if (!S_ISREG(f.mode)) continue;
        if (absl::StartsWith(f.name, kTempPrefix)) {
          // Left by a crash between creating and renaming it.
          if (unlink(absl::StrCat(kind_dir, "/", f.name).c_str()) == 0) {
            ++removed_temp;
          }
          continue;
        }
        const std::optional<int64_t> millis = ParseArchiveFileName(f.name);
        if (!millis.has_value()) continue;
        AddLocked(key, *millis, f.size);
        ++files;
      }
      // Directories emptied by retention are removed here, while no write
      // can be creating a file in them; rmdir fails harmlessly otherwise.
      (void)rmdir(kind_dir.c_str());
    }
    (void)rmdir(target_dir.c_str());
  }
  Log(LogLevel::kInfo, "opened the profile archive",
      {{"dir", options_.dir},
       {"profiles", absl::StrCat(files)},
       {"bytes", absl::StrCat(total_bytes_)},
       {"removed_temporary_files", absl::StrCat(removed_temp)}});
}

absl::Status Archive::Store(absl::string_view target, profile::Kind kind,
                            absl::Time when, absl::string_view bytes) {
  const Key key{std::string(target), kind};
  auto fail = [&](const absl::Status& status) {
    std::lock_guard<std::mutex> lock(mu_);
    CountErrorLocked(key, "cannot archive a profile", status);
    return status;
  };
  const std::string element = EncodeTargetName(target);
  if (element.size() > kMaxElement) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "the target name is too long for a file name (", element.size(),
        " bytes encoded, at most ", kMaxElement, ")")));
  }
  const std::string dir = SeriesDir(key);
  if (absl::Status made = MakeDirs(dir); !made.ok()) return fail(made);

  std::string temp = absl::StrCat(dir, "/", kTempPrefix, "XXXXXX");
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return fail(ErrnoStatus(errno, "cannot create a file in", dir));
  }
  absl::Status written = WriteAll(fd, bytes, temp);
  // Profiles name functions and file paths: owner and group only.
  if (written.ok() && fchmod(fd, 0640) != 0) {
    written = ErrnoStatus(errno, "cannot chmod", temp);
  }
  if (written.ok() && fsync(fd) != 0) {
    written = ErrnoStatus(errno, "cannot fsync", temp);
  }
  if (close(fd) != 0 && written.ok()) {
    written = ErrnoStatus(errno, "cannot close", temp);
  }
  if (!written.ok()) {
    unlink(temp.c_str());
    return fail(written);
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    Series& series = series_[key];
    int64_t millis = absl::ToUnixMillis(when);
    while (series.files.count(millis) != 0) ++millis;
    const std::string path = absl::StrCat(dir, "/", ArchiveFileName(millis));
    if (rename(temp.c_str(), path.c_str()) != 0) {
      const absl::Status status = ErrnoStatus(errno, "cannot rename to", path);
      unlink(temp.c_str());
      CountErrorLocked(key, "cannot archive a profile", status);
      return status;
    }
    AddLocked(key, millis, static_cast<int64_t>(bytes.size()));
    if (!series.last_error.empty()) {
      series.last_error.clear();
      Log(LogLevel::kInfo, "archiving profiles again",
          {{"target", key.first},
           {"profile", std::string(profile::KindName(kind))}});
    }
    EnforceRetentionLocked();
  }
  FsyncDir(dir);
  return absl::OkStatus();
}

void Archive::SetLimits(const ArchiveLimits& limits) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    options_.limits = limits;
    EnforceRetentionLocked();
  }
  wake_.notify_all();
}

void Archive::EnforceRetention() {
  std::lock_guard<std::mutex> lock(mu_);
  EnforceRetentionLocked();
}

void Archive::EnforceRetentionLocked() {
  const ArchiveLimits& limits = options_.limits;
  if (limits.max_age > absl::ZeroDuration() &&
      limits.max_age < absl::InfiniteDuration()) {
    const int64_t cutoff = absl::ToUnixMillis(options_.now() - limits.max_age);
    while (!oldest_.empty() && oldest_.begin()->first < cutoff) {
      if (!DeleteOldestLocked()) break;
    }
  }
  while (limits.max_bytes > 0 && total_bytes_ > limits.max_bytes &&
         !oldest_.empty()) {
    if (!DeleteOldestLocked()) break;
  }
}

void Archive::AddLocked(const Key& key, int64_t millis, int64_t bytes) {
  auto it = series_.try_emplace(key).first;
  Series& series = it->second;
  const Key* stable_key = &it->first;  // map keys never move
  if (series.files.empty() || millis < series.files.begin()->first) {
    if (!series.files.empty()) {
      oldest_.erase({series.files.begin()->first, stable_key});
    }
    oldest_.emplace(millis, stable_key);
  }
  auto [file, inserted] = series.files.emplace(millis, bytes);
  if (!inserted) {  // the same name again (a rescan): replace its size
    series.bytes -= file->second;
    total_bytes_ -= file->second;
    file->second = bytes;
  }
  series.bytes += bytes;
  total_bytes_ += bytes;
}

void Archive::RemoveLocked(std::map<Key, Series>::iterator it,
                           int64_t millis) {
  Series& series = it->second;
  auto file = series.files.find(millis);
  if (file == series.files.end()) return;
  const bool was_oldest = file == series.files.begin();
  if (was_oldest) oldest_.erase({millis, &it->first});
  series.bytes -= file->second;
  total_bytes_ -= file->second;
  series.files.erase(file);
  if (was_oldest && !series.files.empty()) {
    oldest_.emplace(series.files.begin()->first, &it->first);
  }
  // Keep the entry while it has files or counted errors; the directory
  // stays too (see Scan).
  if (series.files.empty() && series.errors == 0) series_.erase(it);
}

bool Archive::DeleteOldestLocked() {
  const auto [millis, key] = *oldest_.begin();
  auto it = series_.find(*key);
  const std::string path =
      absl::StrCat(SeriesDir(*key), "/", ArchiveFileName(millis));
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    CountErrorLocked(*key, "cannot delete an archived profile",
                     ErrnoStatus(errno, "cannot delete", path));
    return false;
  }
  RemoveLocked(it, millis);
  return true;
}

void Archive::CountErrorLocked(const Key& key, absl::string_view what,
                               const absl::Status& status) {
  Series& series = series_[key];
  ++series.errors;
  const std::string error(status.message());
  const absl::Time now = absl::Now();
  if (error == series.last_error &&
      now - series.last_error_logged < kRepeatErrorLogEvery) {
    return;
  }
  Log(LogLevel::kError, what,
      {{"target", key.first},
       {"profile", std::string(profile::KindName(key.second))},
       {"err", error}});
  series.last_error = error;
  series.last_error_logged = now;
}

void Archive::RetentionLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // Often enough that files expire within a quarter of max_age, or a
    // minute; never busier than once a second.
    const absl::Duration period = std::clamp(
        options_.limits.max_age / 4, absl::Seconds(1), absl::Minutes(1));
    wake_.wait_for(lock, absl::ToChronoMilliseconds(period));
    if (stopping_) break;
    EnforceRetentionLocked();
  }
}

std::vector<ArchivedProfile> Archive::List(absl::string_view target,
                                           profile::Kind kind) const {
  std::vector<ArchivedProfile> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(Key{std::string(target), kind});
  if (it == series_.end()) return out;
  for (auto f = it->second.files.rbegin(); f != it->second.files.rend(); ++f) {
    out.push_back({f->first, f->second, ArchiveFileName(f->first)});
  }
  return out;
}

absl::StatusOr<std::string> Archive::Read(absl::string_view target,
                                          profile::Kind kind,
                                          absl::string_view file_name) const {
  const std::optional<int64_t> millis = ParseArchiveFileName(file_name);
  const Key key{std::string(target), kind};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = series_.find(key);
    if (!millis.has_value() || it == series_.end() ||
        it->second.files.count(*millis) == 0) {
      return absl::NotFoundError("no such archived profile");
    }
  }
  // Built from the index's key and time, not from `file_name`.
  const std::string path =
      absl::StrCat(SeriesDir(key), "/", ArchiveFileName(*millis));
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError("no such archived profile");
    }
    return ErrnoStatus(errno, "cannot open", path);
  }
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status status = ErrnoStatus(errno, "cannot read", path);
      close(fd);
      return status;
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::vector<ArchiveStats> Archive::Stats(
    const std::vector<std::pair<std::string, profile::Kind>>& also) const {
  std::map<Key, ArchiveStats> merged;
  for (const auto& key : also) {
    merged[key] = ArchiveStats{key.first, key.second, 0, 0, 0};
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, series] : series_) {
    merged[key] = ArchiveStats{key.first, key.second,
                               static_cast<int64_t>(series.files.size()),
                               series.bytes, series.errors};
  }
  std::vector<ArchiveStats> out;
  out.reserve(merged.size());
  for (auto& [key, stats] : merged) out.push_back(std::move(stats));
  return out;
}

int64_t Archive::total_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_bytes_;
}

}  // namespace exporter
