// Per-function flat and cum values of one sample type, with the semantics of
// `go tool pprof -top` at function granularity (-nodefraction=0):
//  - samples whose value is 0 are skipped;
//  - flat: the value goes to the sample's first frame (leaf location's
//    innermost line);
//  - cum: the value goes once to every distinct function on the stack, so
//    recursion and inlining do not count twice;
//  - ratios divide by the sum of absolute values over all samples.
// Sums are 128-bit: a profile may hold values near 2^63.
#ifndef PPROF_EXPORTER_PROFILE_TOP_H_
#define PPROF_EXPORTER_PROFILE_TOP_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "profile/profile.h"

namespace profile {

struct FunctionValue {
  uint32_t frame = 0;  // index into Profile::frame_names
  absl::int128 flat = 0;
  absl::int128 cum = 0;
};

struct FunctionTable {
  absl::int128 total = 0;  // sum of |value| over all samples
  std::vector<FunctionValue> functions;  // every function on a counted stack
  // Per sample type: the plain sum over all samples (zero ones included).
  std::vector<absl::int128> sums;
};

// Builds a FunctionTable sample by sample, so that a reducer can compute
// its other figures in the same pass over the samples (each pass decodes
// every sample again). A pass split into shards (Profile::SampleShards) has
// a tabulator per shard, merged at the end: the table is the same as one
// tabulator's over all samples, since every sum is exact.
class FunctionTabulator {
 public:
  FunctionTabulator(const Profile& profile, int sample_index);
  // A new tabulator for another shard of the same pass, sharing this one's
  // read-only tables (memory is tight on large profiles).
  FunctionTabulator ForAnotherShard() const;
  void Add(const SampleRef& sample);
  // Adds what `other`, a tabulator of the same profile and sample index,
  // has counted, as if its samples had been added here.
  void Merge(FunctionTabulator&& other);
  FunctionTable Finish() &&;

 private:
  FunctionTabulator(const Profile& profile, int sample_index,
                    std::shared_ptr<const std::vector<uint32_t>> location_frame);
  // The table location_frame_ points to.
  static std::shared_ptr<const std::vector<uint32_t>> LocationFrames(
      const Profile& profile);

  // Per frame: its cum, and the sample it was last counted for. Together,
  // so that the hot loop touches one cache line per frame. `cum` is 64-bit
  // for speed; the rare overflow carries into cum_carry_.
  struct CumSum {
    int64_t cum = 0;
    // == stamp_ when counted for the current sample: a generation stamp
    // instead of a per-sample set. Not 0 iff the frame is on some counted
    // stack.
    uint32_t stamp = 0;
  };
  // (*location_frame_)[l] for a location with exactly one frame (most of
  // them); others are looked up in the profile. Shared by the tabulators
  // of one pass.
  static constexpr uint32_t kNotOneFrame = ~uint32_t{0};

  void AddCum(uint32_t frame, int64_t value) {
    CumSum& sum = cum_[frame];
    if (sum.stamp == stamp_) return;
    sum.stamp = stamp_;
    if (__builtin_add_overflow(sum.cum, value, &sum.cum)) Carry(frame, value);
  }
  void Carry(uint32_t frame, int64_t value);

  const Profile& profile_;
  const int sample_index_;
  FunctionTable table_;
  std::shared_ptr<const std::vector<uint32_t>> location_frame_;
  std::vector<absl::int128> flat_;
  std::vector<CumSum> cum_;
  std::vector<absl::int128> cum_carry_;  // empty until a cum overflows
  uint32_t stamp_ = 0;
};

// A FunctionTable in a pass of its own; fails on a malformed sample.
absl::StatusOr<FunctionTable> TabulateFunctions(const Profile& profile,
                                                int sample_index);

// One line of a top list.
struct FunctionShare {
  std::string function;
  absl::int128 flat = 0;
  absl::int128 cum = 0;
  double flat_ratio = 0;
  double cum_ratio = 0;
};

// The first `n` functions in pprof's -top order: |flat| descending, then
// name ascending.
std::vector<FunctionShare> TopByFlat(const Profile& profile,
                                     const FunctionTable& table, size_t n);
// The first `n` functions in pprof's -top -cum order: |cum| descending, then
// name ascending.
std::vector<FunctionShare> TopByCum(const Profile& profile,
                                    const FunctionTable& table, size_t n);

// value / total as a double; 0 when total is 0.
double Ratio(absl::int128 value, absl::int128 total);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_TOP_H_
