#include "exporter/discovery/target_table.h"

#include <utility>

#include "absl/container/flat_hash_set.h"

namespace exporter {

TargetTable BuildTargetTable(const std::vector<TargetConfig>& static_targets,
                             FileDiscovery::Targets discovered,
                             const Shard& shard) {
  TargetTable table;
  absl::flat_hash_set<std::string> names;
  for (const TargetConfig& target : static_targets) {
    if (!InShard(target.name, shard)) continue;
    names.insert(target.name);
    table.targets.push_back(target);
  }
  for (std::string& error : discovered.errors) {
    table.rejected.push_back({"", "", std::move(error)});
  }
  for (size_t i = 0; i < discovered.targets.size(); ++i) {
    TargetConfig& target = discovered.targets[i];
    if (!InShard(target.name, shard)) continue;
    if (!names.insert(target.name).second) {
      table.rejected.push_back({target.name, discovered.sources[i],
                                "its name is already used"});
      continue;
    }
    table.targets.push_back(std::move(target));
  }
  return table;
}

}  // namespace exporter
