// The /metrics body, assembled from text rendered ahead of time. A scrape's
// series are serialized once, when its result is published; a request then
// only concatenates those pieces, family by family. Serializing the ~10k
// series of 57 targets on every request took ~17 ms of CPU, which capped
// /metrics at ~80 requests/s; concatenating them is a copy of the body.
//
// The text format wants each family in one block under one HELP and TYPE
// line, while a family's series come from many slots, so a rendering keeps
// each family's header apart from its sample lines.
#ifndef PPROF_EXPORTER_EXPORTER_METRICS_EXPOSITION_H_
#define PPROF_EXPORTER_EXPORTER_METRICS_EXPOSITION_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "prometheus/metric_family.h"

namespace exporter {

// One family as prometheus-cpp's TextSerializer writes it, split in two.
struct RenderedFamily {
  std::string name;
  std::string header;   // its "# HELP" and "# TYPE" lines
  std::string samples;  // its sample lines
};
using Rendering = std::vector<RenderedFamily>;

Rendering Render(const std::vector<prometheus::MetricFamily>& families);

// Joins renderings into one exposition. Families appear in the order they
// are first added; a family added again (another slot's series of it) joins
// its first block. Sample lines are not deduplicated: each slot's series
// carry its target's labels, so no two slots share a series.
class ExpositionWriter {
 public:
  // Holds on to `rendering` until Finish.
  void Add(std::shared_ptr<const Rendering> rendering);
  void Add(const std::vector<prometheus::MetricFamily>& families);
  std::string Finish() &&;

 private:
  struct Block {
    std::string_view header;
    std::vector<std::string_view> samples;
  };
  std::vector<std::shared_ptr<const Rendering>> renderings_;
  std::vector<Block> blocks_;
  absl::flat_hash_map<std::string_view, size_t> block_index_;
  size_t bytes_ = 0;
};

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_METRICS_EXPOSITION_H_
