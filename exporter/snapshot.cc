#include "exporter/snapshot.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace exporter {
namespace {

std::string Pattern(const std::shared_ptr<const RE2>& regex) {
  return regex ? regex->pattern() : std::string();
}

bool SameReduceOptions(const profile::ReduceOptions& a,
                       const profile::ReduceOptions& b) {
  return a.top == b.top && Pattern(a.gc_regex) == Pattern(b.gc_regex) &&
         a.services.method == b.services.method &&
         a.services.static_count == b.services.static_count &&
         a.services.label == b.services.label &&
         Pattern(a.services.regex) == Pattern(b.services.regex);
}

std::vector<profile::Kind> Kinds(const TargetConfig& target) {
  std::vector<profile::Kind> kinds;
  for (const ProfileSchedule& p : target.profiles) kinds.push_back(p.kind);
  return kinds;
}

// Whether scraping `a` yields the same series as scraping `b`. The set of
// kinds matters too: a scrape's series budget and whether allocs exports
// the heap totals depend on it. So do credentials and TLS settings: a kept
// slot keeps its old TargetConfig, and with it the old password.
bool SameTarget(const TargetConfig& a, const TargetConfig& b) {
  return a.name == b.name && a.url == b.url && a.labels == b.labels &&
         a.series_limit == b.series_limit && Kinds(a) == Kinds(b) &&
         SameReduceOptions(a.reduce, b.reduce) && a.fetch == b.fetch;
}

bool SameSchedule(const ProfileSchedule& a, const ProfileSchedule& b) {
  return a.kind == b.kind && a.interval == b.interval &&
         a.timeout == b.timeout && a.cpu_seconds == b.cpu_seconds &&
         a.stuck_after == b.stuck_after;
}

std::string SlotKey(absl::string_view target, profile::Kind kind) {
  return absl::StrCat(target, "\n", profile::KindName(kind));
}

}  // namespace

LabelPairs TargetLabels(const TargetConfig& target) {
  LabelPairs labels = {{"target", target.name}};
  labels.insert(labels.end(), target.labels.begin(), target.labels.end());
  return labels;
}

std::shared_ptr<const SlotTable> BuildSlotTable(Config config,
                                                const SlotTable* previous) {
  absl::flat_hash_map<std::string, std::shared_ptr<Slot>> old_slots;
  if (previous != nullptr) {
    for (const auto& slot : previous->slots) {
      old_slots[SlotKey(slot->target().name, slot->schedule().kind)] = slot;
    }
  }
  auto table = std::make_shared<SlotTable>();
  for (const TargetConfig& target : config.targets) {
    auto shared_target = std::make_shared<const TargetConfig>(target);
    for (const ProfileSchedule& schedule : target.profiles) {
      auto old = old_slots.find(SlotKey(target.name, schedule.kind));
      if (old != old_slots.end() && SameTarget(old->second->target(), target) &&
          SameSchedule(old->second->schedule(), schedule)) {
        table->slots.push_back(old->second);
      } else {
        table->slots.push_back(
            std::make_shared<Slot>(shared_target, schedule));
      }
    }
  }
  table->config = std::move(config);
  return table;
}

void Slot::Publish(ScrapeResult result) {
  if (result.attempted) {
    LabelPairs labels = TargetLabels(*target_);
    labels.emplace_back("profile",
                        std::string(profile::KindName(schedule_.kind)));
    FamilyBuilder health;
    AddScrapeHealth(result.health, labels, &health);
    result.rendered_health =
        std::make_shared<const Rendering>(Render(std::move(health).Build()));
  }
  result.rendered_series =
      std::make_shared<const Rendering>(Render(result.series));
  // Only the text is read from now on; the families are several times its
  // size.
  result.series = {};
  std::atomic_store(&result_, std::make_shared<const ScrapeResult>(
                                  std::move(result)));
}

void CollectSeries(const SlotTable& table, ExpositionWriter* out) {
  FamilyBuilder build_info;
  AddBuildInfo(&build_info);
  out->Add(std::move(build_info).Build());
  std::vector<std::shared_ptr<const ScrapeResult>> results;
  results.reserve(table.slots.size());
  for (const auto& slot : table.slots) {
    std::shared_ptr<const ScrapeResult> result = slot->result();
    // Like Prometheus's `up`, health exists from the first attempt on.
    if (!result->attempted) continue;
    out->Add(result->rendered_health);
    results.push_back(std::move(result));
  }
  for (const auto& result : results) out->Add(result->rendered_series);
}

}  // namespace exporter
