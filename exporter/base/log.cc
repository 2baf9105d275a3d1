#include "exporter/base/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace exporter {
namespace {

std::atomic<LogLevel> min_level{LogLevel::kInfo};

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

// logfmt: bare when the value has no space, quote, '=' or control byte;
// otherwise quoted with \" \\ \n escaped.
void AppendValue(std::string* out, absl::string_view value) {
  bool bare = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out->append(value.data(), value.size());
    return;
  }
  out->push_back('"');
  for (char c : value) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\x", absl::Hex(static_cast<unsigned char>(c),
                                                absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(absl::string_view name) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                         LogLevel::kError}) {
    if (LevelName(level) == name) return level;
  }
  return std::nullopt;
}

void SetLogLevel(LogLevel level) { min_level.store(level); }

std::string FormatLogFields(LogLevel level, absl::string_view message,
                            std::initializer_list<LogField> fields) {
  std::string line = absl::StrCat("level=", LevelName(level), " msg=");
  AppendValue(&line, message);
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=");
    AppendValue(&line, value);
  }
  return line;
}

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  if (level < min_level.load()) return;
  std::string line = absl::StrCat(
      "ts=",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", FormatLogFields(level, message, fields), "\n");
  // One write(2) per line keeps concurrent lines whole.
  (void)!write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace exporter
