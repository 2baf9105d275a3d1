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
#include <string>
#include <vector>

#include "absl/numeric/int128.h"
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
// every sample again).
class FunctionTabulator {
 public:
  FunctionTabulator(const Profile& profile, int sample_index);
  void Add(const SampleRef& sample);
  FunctionTable Finish() &&;

 private:
  const Profile& profile_;
  const int sample_index_;
  FunctionTable table_;
  std::vector<absl::int128> flat_, cum_;
  // last_stamp_[f] == stamp_ when frame f was already counted for the
  // current sample: a generation stamp instead of a per-sample set.
  // A frame was seen on some counted stack iff its stamp is not 0.
  std::vector<uint32_t> last_stamp_;
  uint32_t stamp_ = 0;
};

// A FunctionTable in a pass of its own.
FunctionTable TabulateFunctions(const Profile& profile, int sample_index);

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
