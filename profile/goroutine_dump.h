// Goroutine dumps in the runtime's text forms, which say more than the
// goroutine profile: how long each goroutine has waited, and in what state.
//
//  - debug=1 (`/debug/pprof/goroutine?debug=1`): "goroutine profile: total
//    N", then records "COUNT @ PC..." with an optional "# labels: {...}"
//    line and "#\tPC\tFUNC+OFF\tFILE:LINE" frames. Leading runtime frames
//    are hidden, so a record's leaf is the first frame it shows.
//  - debug=2 (`?debug=2`, also a crash's traceback): one block per
//    goroutine, "goroutine ID [STATE, M minutes, locked to thread]:", then
//    "FUNC(ARGS)" lines each followed by "\tFILE:LINE +OFF", and maybe
//    "created by FUNC in goroutine ID". Since Go 1.27 (GODEBUG
//    tracebacklabels=1, its default) the header also carries the pprof
//    labels after the bracket: "goroutine 7 [select] {job: ingest}:"; an
//    earlier draft printed them inside it ("[select labels:{...}]"). Both
//    are read. State flags such as " (scan)" are dropped from the state.
//
// The runtime prints "M minutes" only from one whole minute on, measured
// from gp.waitsince, which the GC sets when it first scans the goroutine
// waiting: a process that rarely collects shows waits late.
//
// A dump is hostile input like any profile: it is bounded in size, line
// length and goroutines, and anything that is not one of the forms above is
// an error naming the line. Pure: no I/O.
#ifndef PPROF_EXPORTER_PROFILE_GOROUTINE_DUMP_H_
#define PPROF_EXPORTER_PROFILE_GOROUTINE_DUMP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "profile/options.h"
#include "profile/reduce.h"

namespace profile {

enum class GoroutineDumpFormat { kCounted /* debug=1 */, kTraceback /* 2 */ };

// The format of a text dump, from its first bytes; nullopt for anything
// else (a profile.proto, an HTML page).
std::optional<GoroutineDumpFormat> DetectGoroutineDump(absl::string_view head);

struct GoroutineDumpLimits {
  size_t max_bytes = size_t{64} << 20;
  size_t max_line_bytes = size_t{64} << 10;
  int64_t max_goroutines = int64_t{1} << 20;
};

// One debug=1 record, or one goroutine of a debug=2 dump.
struct GoroutineStack {
  int64_t count = 1;  // debug=1: goroutines with this stack and labels
  // Function names, leaf first, as shown (views into the dump's text).
  std::vector<absl::string_view> functions;
  std::vector<std::pair<std::string, std::string>> labels;
  // debug=2 only: the state as printed, without flags ("chan receive"),
  // and the printed wait in whole minutes (0 when none is printed).
  absl::string_view state;
  int64_t wait_minutes = 0;
};

struct GoroutineDump {
  GoroutineDumpFormat format = GoroutineDumpFormat::kCounted;
  std::vector<GoroutineStack> stacks;
};

// Parses a dump; the result points into `text`. Fails with
// ResourceExhausted over a limit, InvalidArgument otherwise (naming the
// line), including a debug=1 dump whose records do not add up to its total
// (a truncated dump).
absl::StatusOr<GoroutineDump> ParseGoroutineDump(
    absl::string_view text, const GoroutineDumpLimits& limits = {});

// The goroutine series of a dump, the same as ReduceGoroutine() gives for
// the goroutine profile (services by label use the dump's labels), plus,
// for debug=2, GoroutineReduction::waits with `stuck_after` as the
// threshold. The one call per scrape of the goroutine_dump kind.
absl::StatusOr<Reduction> ReduceGoroutineDump(
    absl::string_view text, const ReduceOptions& options,
    absl::Duration stuck_after = absl::Minutes(10),
    const GoroutineDumpLimits& limits = {});

// The reduction of an already parsed dump.
GoroutineReduction ReduceParsedGoroutineDump(const GoroutineDump& dump,
                                             const ReduceOptions& options,
                                             absl::Duration stuck_after);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_GOROUTINE_DUMP_H_
