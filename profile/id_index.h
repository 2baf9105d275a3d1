// Maps the non-zero ids of one profile table (locations, functions,
// mappings) to dense indices. Go numbers ids 1..n, so a vector usually
// suffices; sparse ids fall back to a hash map.
#ifndef PPROF_EXPORTER_PROFILE_ID_INDEX_H_
#define PPROF_EXPORTER_PROFILE_ID_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace profile {

class IdIndex {
 public:
  // Fails on id 0 and on duplicates; `what` names the table in errors.
  absl::Status Build(const std::vector<uint64_t>& ids, absl::string_view what);

  // -1 when the id is unknown.
  // Inline: sample loops call it for every frame of every sample.
  int Find(uint64_t id) const {
    if (!dense_) return FindSparse(id);
    return id < dense_index_.size() ? dense_index_[id] : -1;
  }

 private:
  int FindSparse(uint64_t id) const;

  bool dense_ = true;
  std::vector<int> dense_index_;
  absl::flat_hash_map<uint64_t, int> sparse_index_;
};

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_ID_INDEX_H_
