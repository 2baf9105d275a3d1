// libFuzzer target for the goroutine text dump parser and its reduction
// (profile/goroutine_dump.h): any bytes in, a clear error or a reduction
// out. Built like decode_reduce_fuzzer (--config=fuzz: clang, libFuzzer,
// ASan, UBSan); run it with
//   PPROF_FUZZ_TARGET=goroutine_dump_fuzzer profile/fuzz/run_fuzzer.sh
//
// Besides what the sanitizers catch, it aborts when a failure has a code
// other than InvalidArgument or ResourceExhausted, or when a reduction is
// impossible: goroutines that are not the sum of the parsed counts, states
// that do not add up to the goroutines or exceed their cap, more stuck
// goroutines than goroutines, a stuck wait shorter than the threshold, or a
// top list longer than asked for.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "profile/goroutine_dump.h"
#include "profile/options.h"
#include "profile/reduce.h"

namespace {

constexpr int kTop = 5;

void Check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "goroutine_dump_fuzzer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  profile::GoroutineDumpLimits limits;
  limits.max_bytes = size_t{1} << 20;
  limits.max_line_bytes = 4096;
  limits.max_goroutines = 100000;
  const auto dump = profile::ParseGoroutineDump(text, limits);
  if (!dump.ok()) {
    Check(dump.status().code() == absl::StatusCode::kInvalidArgument ||
              dump.status().code() == absl::StatusCode::kResourceExhausted,
          "the parser failed with an unexpected status code");
    return 0;
  }
  absl::int128 sum = 0;
  for (const profile::GoroutineStack& g : dump->stacks) {
    Check(g.count >= 0, "a negative goroutine count");
    sum += g.count;
  }
  Check(sum <= limits.max_goroutines, "more goroutines than the limit");

  profile::ReduceOptions options;
  options.top = kTop;
  options.services.method = profile::ServiceCounting::Method::kLabel;
  options.services.label = "service";
  const absl::Duration stuck_after = absl::Minutes(2);
  const profile::GoroutineReduction r =
      profile::ReduceParsedGoroutineDump(*dump, options, stuck_after);
  Check(r.goroutines == sum, "goroutines is not the sum of the counts");
  Check(r.by_function.size() <= kTop, "by_function longer than top");
  if (dump->format == profile::GoroutineDumpFormat::kCounted) {
    Check(!r.waits.has_value(), "waits from a debug=1 dump");
    return 0;
  }
  Check(r.waits.has_value(), "no waits from a debug=2 dump");
  const profile::GoroutineWaits& w = *r.waits;
  Check(w.by_state.size() <= profile::kMaxGoroutineStates,
        "more states than the cap");
  int64_t states = 0;
  for (const auto& [state, count] : w.by_state) {
    Check(!state.empty(), "an empty state");
    states += count;
  }
  Check(states == r.goroutines, "states do not add up to the goroutines");
  Check(w.stuck >= 0 && w.stuck <= r.goroutines, "stuck out of range");
  Check(w.stuck == 0 || w.longest_wait_seconds >= 120,
        "a stuck goroutine waited less than stuck_after");
  Check(w.stuck_by_function.size() <= kTop, "stuck_by_function longer than top");
  return 0;
}
