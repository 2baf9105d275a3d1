// What a user may tune about a reduction: how many functions to list, which
// functions count as garbage collection (and as idle GC), and how services
// are counted.
// Regexes are compiled once (by the config or the CLI) and shared.
#ifndef PPROF_EXPORTER_PROFILE_OPTIONS_H_
#define PPROF_EXPORTER_PROFILE_OPTIONS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace profile {

// The GC regex of the fixtures README: Go runtime functions that do garbage
// collection work. Matched against whole function names.
inline constexpr char kDefaultGcRegex[] =
    R"(^runtime\.(gcBgMarkWorker|gcAssistAlloc|gcAssistAlloc1|gcDrain|gcDrainN|gcMarkDone|gcMarkTermination|gcStart|gcSweep|bgsweep|bgscavenge|markroot|scanobject|sweepone)$)";

// The idle GC mark worker (Go 1.20+): GC work that only soaks up CPU the
// application left idle. Its share is split out of the GC share so that an
// alert can leave it out; before Go 1.20 no function has this name and the
// share is 0.
inline constexpr char kDefaultGcIdleRegex[] =
    R"(^runtime\.gcDrainMarkWorkerIdle$)";

// How the goroutine reducer decides how many services a process hosts.
struct ServiceCounting {
  enum class Method {
    kStatic,  // a fixed number, e.g. one process per service
    kLabel,   // distinct values of a pprof label, e.g. "service"
    kRegex,   // goroutines whose stack has a function matching a regex
  };
  Method method = Method::kStatic;
  int64_t static_count = 1;
  std::string label;                 // kLabel
  std::shared_ptr<const RE2> regex;  // kRegex, whole-name match
};

// Whole-string match of a string_view. Debian's RE2 takes re2::StringPiece,
// which does not convert from absl::string_view by itself.
inline bool FullMatch(absl::string_view text, const RE2& regex) {
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), regex);
}

struct ReduceOptions {
  int top = 10;
  std::shared_ptr<const RE2> gc_regex;  // null: kDefaultGcRegex
  std::shared_ptr<const RE2> gc_idle_regex;  // null: kDefaultGcIdleRegex
  ServiceCounting services;
};

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_OPTIONS_H_
