#include "profile/id_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace profile {

absl::Status IdIndex::Build(const std::vector<uint64_t>& ids,
                            absl::string_view what) {
  uint64_t max_id = 0;
  for (uint64_t id : ids) max_id = std::max(max_id, id);
  dense_ = max_id <= 2 * static_cast<uint64_t>(ids.size()) + 64;
  dense_index_.clear();
  sparse_index_.clear();
  if (dense_) dense_index_.assign(max_id + 1, -1);
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint64_t id = ids[i];
    if (id == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed profile: ", what, " with reserved id 0"));
    }
    const bool inserted =
        dense_ ? dense_index_[id] == -1
               : sparse_index_.emplace(id, static_cast<int>(i)).second;
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed profile: duplicate ", what, " id ", id));
    }
    if (dense_) dense_index_[id] = static_cast<int>(i);
  }
  return absl::OkStatus();
}

int IdIndex::FindSparse(uint64_t id) const {
  auto it = sparse_index_.find(id);
  return it == sparse_index_.end() ? -1 : it->second;
}

}  // namespace profile
