// Reducers: a decoded Profile in, the numbers worth alerting on out. One
// reducer per profile kind; all of them read the Profile model and compute
// every ratio through top.h, so the numbers match `go tool pprof -top`.
// Figures whose sample type the profile lacks are left empty rather than
// guessed (C++ or Java profiles name their sample types differently).
#ifndef PPROF_EXPORTER_PROFILE_REDUCE_H_
#define PPROF_EXPORTER_PROFILE_REDUCE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/top.h"
#include "profile/window.h"

namespace profile {

struct CpuReduction {
  std::optional<double> sampled_seconds;  // sum of the cpu sample type
  double duration_seconds = 0;            // the profile's wall duration
  // Samples with a frame matching gc_regex: their summed cpu value, and its
  // share of all cpu.
  absl::int128 gc_value = 0;
  double gc_ratio = 0;
  std::vector<FunctionShare> top_flat, top_cum;
  // Forensics (issue 13): the part of gc_value in stacks with a frame
  // matching gc_idle_regex (Go 1.20+'s idle mark worker), and its share of
  // all cpu. Idle marking only fills CPU the application left idle.
  absl::int128 gc_idle_value = 0;
  double gc_idle_ratio = 0;
};

// Cumulative profiles (allocs, mutex, block) also yield what happened since
// the previous profile of the same process; see window.h.
struct Windowed {
  // What the next profile's window starts from.
  std::shared_ptr<const FunctionBaseline> baseline;
  // Since the previous profile; absent for the first one and after a
  // restart.
  std::optional<Window> window;
  // The window's total in base units (bytes, seconds), when known.
  std::optional<double> window_total;
};

struct HeapReduction {  // heap and allocs: the same data, another emphasis
  std::optional<double> inuse_bytes, inuse_objects;
  std::optional<double> alloc_bytes, alloc_objects;  // since process start
  std::vector<FunctionShare> top_flat, top_cum;  // heap: inuse, allocs: alloc
  Windowed windowed;  // allocs only: by alloc_space
};

// ---------------------------------------------------------------------------
// Forensics (issue 13): what goroutine text dumps and the goroutineleak
// profile add to the goroutine series. See goroutine_dump.h.

// How long goroutines have waited, from a `debug=2` traceback dump. The
// runtime prints a wait only from one whole minute on ("[chan receive,
// 12 minutes]"), so every figure here has minute granularity.
struct GoroutineWaits {
  // Goroutines per state as printed (a wait reason such as "chan receive",
  // or "running", "runnable", "syscall"), count descending then name. At
  // most kMaxGoroutineStates entries; the rest are summed into "other".
  std::vector<std::pair<std::string, int64_t>> by_state;
  // Goroutines whose printed wait is at least stuck_after (and one minute).
  int64_t stuck = 0;
  // The stuck ones by first application frame (as by_function), top N.
  std::vector<std::pair<std::string, int64_t>> stuck_by_function;
  // The longest printed wait, in seconds (a multiple of 60; 0 for none).
  double longest_wait_seconds = 0;
};
inline constexpr size_t kMaxGoroutineStates = 40;

// The goroutineleak profile (Go 1.27+, /debug/pprof/goroutineleak): the
// goroutines the GC found blocked on primitives no runnable goroutine can
// reach. Sample type goroutineleak/count, shaped like the goroutine profile.
struct GoroutineLeakReduction {
  int64_t leaks = 0;
  // Leaked goroutines by first application frame, top N.
  std::vector<std::pair<std::string, int64_t>> by_function;
};
// ---------------------------------------------------------------------------

struct GoroutineReduction {
  int64_t goroutines = 0;
  int64_t services = 0;
  std::optional<double> goroutines_per_service;  // absent without services
  // Goroutines per value of the service label (label counting only),
  // ordered by value.
  std::vector<std::pair<std::string, int64_t>> label_values;
  // Goroutines grouped by their first application frame; count
  // descending, then name.
  std::vector<std::pair<std::string, int64_t>> by_function;
  // Forensics (issue 13): only from a debug=2 traceback dump.
  std::optional<GoroutineWaits> waits;
};

struct ContentionReduction {  // mutex and block
  std::optional<double> delay_seconds;  // cumulative since process start
  std::optional<double> contentions;
  std::vector<FunctionShare> top_flat, top_cum;  // by delay
  Windowed windowed;  // by delay
};

// How a reducer may split its pass over the samples into shards
// (Profile::SampleShards) for a caller with threads: profile/ starts none.
// The reduction is the same however it is split. Only the CPU reducer
// splits (large profiles are CPU profiles); the others ignore this.
struct SampleParallelism {
  // At most this many shards; 1 does not split.
  size_t max_shards = 1;
  // Calls task(0) .. task(n - 1), possibly at once on threads of its own,
  // and returns when all have returned. Empty: one after another.
  std::function<void(size_t n, absl::FunctionRef<void(size_t)> task)> run;
};

using Reduction =
    std::variant<CpuReduction, HeapReduction, GoroutineReduction,
                 ContentionReduction, GoroutineLeakReduction>;

// The kind a profile's sample types say it is. Mutex and block profiles
// have identical sample types, so for them this fails with
// FailedPrecondition: the caller must be told the kind. Any other profile
// that fits no kind fails with InvalidArgument.
absl::StatusOr<Kind> GuessKind(const Profile& profile);

// Fails when the profile lacks the sample types of `kind`, or on a
// malformed sample (InvalidArgument, as Decode() words it). `previous` is the
// baseline of the previous profile of the same target and kind, if any.
absl::StatusOr<Reduction> Reduce(Kind kind, const Profile& profile,
                                 const ReduceOptions& options,
                                 const FunctionBaseline* previous = nullptr,
                                 const SampleParallelism& parallelism = {});

// The per-kind reducers behind Reduce(); `value_index` is the sample type
// the top lists and ratios use. They fail only on a malformed sample (see
// Profile::ForEachSample).
absl::StatusOr<CpuReduction> ReduceCpu(
    const Profile& profile, int value_index, const ReduceOptions& options,
    const SampleParallelism& parallelism = {});
// `cumulative`: compute a baseline and a window (allocs).
absl::StatusOr<HeapReduction> ReduceHeap(const Profile& profile,
                                         int value_index,
                                         const ReduceOptions& options,
                                         bool cumulative,
                                         const FunctionBaseline* previous);
absl::StatusOr<GoroutineReduction> ReduceGoroutine(
    const Profile& profile, int value_index, const ReduceOptions& options);
absl::StatusOr<ContentionReduction> ReduceContention(
    const Profile& profile, int value_index, const ReduceOptions& options,
    const FunctionBaseline* previous);

// Forensics (issue 13). A goroutineleak profile (decoded like any other);
// fails when it lacks the goroutineleak sample type. Text dumps are reduced
// by ReduceGoroutineDump() (goroutine_dump.h).
absl::StatusOr<Reduction> ReduceGoroutineLeak(const Profile& profile,
                                              const ReduceOptions& options);

// The baseline of a cumulative profile's table, and its window since
// `previous` when there is one.
Windowed MakeWindowed(const Profile& profile, const FunctionTable& table,
                      int value_index, size_t top,
                      const FunctionBaseline* previous);

// `value` clamped into int64's range (counts from hostile profiles can sum
// beyond it).
int64_t SaturatedInt64(absl::int128 value);

// Sum of one sample type over all samples, without overflow; fails on a
// malformed sample.
absl::StatusOr<absl::int128> SumValues(const Profile& profile, int index);

// A sum converted to base units (seconds, bytes, count) by its declared
// unit; empty for a unit we do not know.
std::optional<double> InBaseUnits(absl::int128 value, absl::string_view unit);

// Whether a Go function belongs to the application rather than the
// standard library: the first element of its package path is "main" or
// contains a dot (a module path such as tailscale.com/...).
bool IsApplicationFunction(absl::string_view function_name);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_REDUCE_H_
