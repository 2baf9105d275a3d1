// Logging: one logfmt line per event on stderr, as Prometheus exporters do:
//   ts=2026-11-27T13:16:18.123Z level=warn msg="scrape failed" target=tsnsrv
// Lines are written whole, so concurrent threads never interleave them.
#ifndef PPROF_EXPORTER_EXPORTER_BASE_LOG_H_
#define PPROF_EXPORTER_EXPORTER_BASE_LOG_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace exporter {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn", "error" (--log.level).
std::optional<LogLevel> ParseLogLevel(absl::string_view name);
void SetLogLevel(LogLevel level);

using LogField = std::pair<absl::string_view, std::string>;

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields = {});

// The line Log() writes, without the timestamp; for tests.
std::string FormatLogFields(LogLevel level, absl::string_view message,
                            std::initializer_list<LogField> fields);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_BASE_LOG_H_
