// pprof's drop_frames/keep_frames pruning (Profile.Prune in google/pprof),
// which `go tool pprof` applies to every profile it reads. A frame whose
// simplified name fully matches drop_frames (and not keep_frames) is removed
// from its stack together with everything it called. Frames between the
// root and the first frame that is not pruned are kept, so a stack is never
// emptied entirely.
#ifndef PPROF_EXPORTER_PROFILE_PRUNE_H_
#define PPROF_EXPORTER_PROFILE_PRUNE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "re2/re2.h"

namespace profile {

// pprof's simplifyFunc: drops a leading '.' and the argument list starting
// at the first '(' that is not part of "(anonymous namespace)" or
// "operator()". Note that for Go methods such as "main.(*T).m" this yields
// "main.", exactly as pprof matches them.
absl::string_view SimplifyFunctionName(absl::string_view name);

class FramePruner {
 public:
  // Inactive (prunes nothing) when drop_frames is empty or, as in pprof,
  // when it is not a valid regular expression.
  static FramePruner Create(absl::string_view drop_frames,
                            absl::string_view keep_frames);
  FramePruner() = default;

  bool active() const { return drop_ != nullptr; }
  void Reserve(size_t locations) { if (active()) state_.reserve(locations); }

  // Registers the next location, in profile order, given the function names
  // of its lines (innermost first). Returns the index of its first line that
  // survives pruning.
  size_t AddLocation(absl::Span<const absl::string_view> line_names);

  // For a sample's stack of location indices (leaf first), returns how many
  // locations at the root end survive pruning.
  size_t KeptFromRoot(absl::Span<const uint32_t> stack) const;

 private:
  enum State : uint8_t { kKeep, kPruneBeneath, kPrune };
  bool Drops(absl::string_view function_name) const;

  std::shared_ptr<const RE2> drop_, keep_;
  std::vector<State> state_;  // per location index
};

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_PRUNE_H_
