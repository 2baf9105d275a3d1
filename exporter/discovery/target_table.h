// The targets the exporter scrapes right now: the static ones (config file
// and --target flags) and the discovered ones (file_sd), narrowed to this
// replica's --shard, the first of each name kept. A pure function, run on
// every reload and every change of the discovery files.
#ifndef PPROF_EXPORTER_EXPORTER_DISCOVERY_TARGET_TABLE_H_
#define PPROF_EXPORTER_EXPORTER_DISCOVERY_TARGET_TABLE_H_

#include <string>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/discovery/file_sd.h"
#include "exporter/discovery/shard.h"

namespace exporter {

// A discovered target that was not taken, for the log.
struct RejectedTarget {
  std::string target;  // empty when the file entry itself was invalid
  std::string source;  // "file:line"
  std::string reason;
};

struct TargetTable {
  std::vector<TargetConfig> targets;  // static first, then discovered
  std::vector<RejectedTarget> rejected;
};

// Static targets in order, then discovered ones in discovery order; only
// those of `shard`. A discovered target whose name is already taken is
// rejected: the first one stays. Invalid discovery entries
// (`discovered.errors`) are passed on as rejections.
TargetTable BuildTargetTable(const std::vector<TargetConfig>& static_targets,
                             FileDiscovery::Targets discovered,
                             const Shard& shard);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_DISCOVERY_TARGET_TABLE_H_
