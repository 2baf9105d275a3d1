// How goroutines are grouped by function, for pprof_goroutines_by_function
// and the series like it (stuck goroutines, leaks): a goroutine goes to its
// first application frame from the leaf (IsApplicationFunction in reduce.h),
// or to its leaf frame when its whole stack is standard library. Groups are
// listed count descending, then name, and cut to the top N.
#ifndef PPROF_EXPORTER_PROFILE_GOROUTINE_GROUP_H_
#define PPROF_EXPORTER_PROFILE_GOROUTINE_GROUP_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace profile {

using NamedCounts = std::vector<std::pair<std::string, int64_t>>;

// The first `n` of `counts` in the order above.
NamedCounts TopNamedCounts(NamedCounts counts, size_t n);

// The index of the frame a stack of function names (leaf first) is grouped
// under; nullopt for an empty stack.
std::optional<size_t> GroupingFrame(
    absl::Span<const absl::string_view> functions);

}  // namespace profile

#endif  // PPROF_EXPORTER_PROFILE_GOROUTINE_GROUP_H_
