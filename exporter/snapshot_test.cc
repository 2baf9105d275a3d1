#include "exporter/snapshot.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/kinds.h"
#include "exporter/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/reduce.h"
#include "re2/re2.h"

namespace exporter {
namespace {

using ::prometheus::MetricFamily;
using ::testing::ElementsAre;

ProfileSchedule Schedule(profile::Kind kind) {
  ProfileSchedule s;
  s.kind = kind;
  s.interval = absl::Seconds(60);
  s.timeout = absl::Seconds(10);
  if (kind == profile::Kind::kCpu) {
    s.cpu_seconds = 10;
    s.timeout = ScrapeTimeout(kind, 10, absl::Seconds(10));
  }
  return s;
}

// As ParseConfig would build it: fresh RE2 objects every time, as on a
// real reload.
TargetConfig Target(const std::string& name) {
  TargetConfig t;
  t.name = name;
  t.url = absl::StrCat("http://", name, ".internal:9099/debug/pprof/");
  t.labels = {{"env", "prod"}, {"host", name + "-host"}};
  t.reduce.top = 10;
  t.reduce.gc_regex = std::make_shared<const RE2>(profile::kDefaultGcRegex);
  for (profile::Kind kind : DefaultKinds()) {
    t.profiles.push_back(Schedule(kind));
  }
  return t;
}

Config TwoTargets() {
  Config c;
  c.targets = {Target("alpha"), Target("beta")};
  return c;
}

std::vector<const Slot*> Pointers(const SlotTable& table) {
  std::vector<const Slot*> out;
  for (const auto& s : table.slots) out.push_back(s.get());
  return out;
}

TEST(TargetLabelsTest, TargetFirstThenConfiguredLabelsInOrder) {
  TargetConfig t = Target("alpha");
  t.labels = {{"a", "1"}, {"env", "prod"}, {"zone", "z"}};
  EXPECT_EQ(TargetLabels(t),
            (LabelPairs{{"target", "alpha"}, {"a", "1"}, {"env", "prod"},
                        {"zone", "z"}}));
  t.labels.clear();
  EXPECT_EQ(TargetLabels(t), (LabelPairs{{"target", "alpha"}}));
}

TEST(BuildSlotTableTest, OneSlotPerTargetAndKindInConfigOrder) {
  auto table = BuildSlotTable(TwoTargets(), nullptr);
  ASSERT_EQ(table->slots.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(table->slots[i]->target().name, i < 6 ? "alpha" : "beta");
    EXPECT_EQ(table->slots[i]->schedule().kind, DefaultKinds()[i % 6]);
    EXPECT_FALSE(table->slots[i]->result()->attempted);
    EXPECT_FALSE(table->slots[i]->busy.load());
  }
  EXPECT_EQ(table->config.targets.size(), 2u);
}

TEST(BuildSlotTableTest, UnchangedReloadKeepsTheSameSlots) {
  auto first = BuildSlotTable(TwoTargets(), nullptr);
  // A result published before the reload must survive it.
  ScrapeResult result;
  result.attempted = true;
  result.health.errors_total[0] = 7;
  first->slots[3]->Publish(result);
  const ScrapeResult* published = first->slots[3]->result().get();

  auto second = BuildSlotTable(TwoTargets(), first.get());
  EXPECT_EQ(Pointers(*second), Pointers(*first));
  EXPECT_EQ(second->slots[3]->result().get(), published);
  EXPECT_EQ(second->slots[3]->result()->health.errors_total[0], 7u);

  // And again, from the second table.
  auto third = BuildSlotTable(TwoTargets(), second.get());
  EXPECT_EQ(Pointers(*third), Pointers(*first));
}

TEST(BuildSlotTableTest, ReorderedTargetsKeepTheirSlots) {
  auto first = BuildSlotTable(TwoTargets(), nullptr);
  Config swapped;
  swapped.targets = {Target("beta"), Target("alpha")};
  auto second = BuildSlotTable(swapped, first.get());
  ASSERT_EQ(second->slots.size(), 12u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(second->slots[i].get(), first->slots[i + 6].get());
    EXPECT_EQ(second->slots[i + 6].get(), first->slots[i].get());
  }
}

struct Change {
  std::string what;
  std::function<void(TargetConfig&)> apply;
};

// Changing anything that changes alpha's series replaces all alpha's slots
// and keeps beta's.
TEST(BuildSlotTableTest, TargetChangesReplaceThatTargetsSlots) {
  const std::vector<Change> changes = {
      {"url", [](TargetConfig& t) { t.url = "http://other:9099/debug/pprof/"; }},
      {"label value", [](TargetConfig& t) { t.labels[0].second = "staging"; }},
      {"label added",
       [](TargetConfig& t) { t.labels.emplace_back("zone", "z"); }},
      {"labels removed", [](TargetConfig& t) { t.labels.clear(); }},
      {"top", [](TargetConfig& t) { t.reduce.top = 5; }},
      {"gc_regex",
       [](TargetConfig& t) {
         t.reduce.gc_regex = std::make_shared<const RE2>("^runtime\\.gc.*$");
       }},
      {"services static",
       [](TargetConfig& t) { t.reduce.services.static_count = 57; }},
      {"services label",
       [](TargetConfig& t) {
         t.reduce.services.method = profile::ServiceCounting::Method::kLabel;
         t.reduce.services.label = "service";
       }},
      {"series limit", [](TargetConfig& t) { t.series_limit = 12; }},
      // A kept slot would keep scraping with the old credentials.
      {"password", [](TargetConfig& t) { t.fetch.password = "new"; }},
      {"tls_config", [](TargetConfig& t) { t.fetch.tls.ca_file = "ca.crt"; }},
      {"services regex",
       [](TargetConfig& t) {
         t.reduce.services.method = profile::ServiceCounting::Method::kRegex;
         t.reduce.services.regex = std::make_shared<const RE2>("^main\\.serve$");
       }},
  };
  for (const Change& change : changes) {
    SCOPED_TRACE(change.what);
    auto first = BuildSlotTable(TwoTargets(), nullptr);
    Config changed = TwoTargets();
    change.apply(changed.targets[0]);
    auto second = BuildSlotTable(changed, first.get());
    ASSERT_EQ(second->slots.size(), 12u);
    for (size_t i = 0; i < 6; ++i) {
      EXPECT_NE(second->slots[i].get(), first->slots[i].get()) << i;
      EXPECT_FALSE(second->slots[i]->result()->attempted);
      // The new slot sees the new configuration.
      EXPECT_EQ(second->slots[i]->target().url, changed.targets[0].url);
      EXPECT_EQ(second->slots[i]->target().labels, changed.targets[0].labels);
      EXPECT_EQ(second->slots[i]->target().reduce.top,
                changed.targets[0].reduce.top);
      EXPECT_EQ(second->slots[i]->target().series_limit,
                changed.targets[0].series_limit);
    }
    for (size_t i = 6; i < 12; ++i) {
      EXPECT_EQ(second->slots[i].get(), first->slots[i].get()) << i;
    }
  }
}

TEST(BuildSlotTableTest, ServicesRegexPatternChangeReplaces) {
  auto with_regex = [](const std::string& pattern) {
    Config c = TwoTargets();
    c.targets[0].reduce.services.method =
        profile::ServiceCounting::Method::kRegex;
    c.targets[0].reduce.services.regex = std::make_shared<const RE2>(pattern);
    return c;
  };
  auto first = BuildSlotTable(with_regex("^a$"), nullptr);
  auto same = BuildSlotTable(with_regex("^a$"), first.get());
  EXPECT_EQ(Pointers(*same), Pointers(*first));
  auto other = BuildSlotTable(with_regex("^b$"), same.get());
  EXPECT_NE(other->slots[0].get(), first->slots[0].get());
  EXPECT_EQ(other->slots[6].get(), first->slots[6].get());
}

// A schedule change replaces only that kind's slot.
TEST(BuildSlotTableTest, ScheduleChangesReplaceOnlyThatSlot) {
  const std::vector<Change> changes = {
      {"interval",
       [](TargetConfig& t) { t.profiles[0].interval = absl::Seconds(30); }},
      {"timeout",
       [](TargetConfig& t) { t.profiles[0].timeout = absl::Seconds(40); }},
      {"cpu seconds", [](TargetConfig& t) { t.profiles[0].cpu_seconds = 5; }},
  };
  for (const Change& change : changes) {
    SCOPED_TRACE(change.what);
    auto first = BuildSlotTable(TwoTargets(), nullptr);
    Config changed = TwoTargets();
    change.apply(changed.targets[0]);
    ASSERT_EQ(changed.targets[0].profiles[0].kind, profile::Kind::kCpu);
    auto second = BuildSlotTable(changed, first.get());
    ASSERT_EQ(second->slots.size(), 12u);
    EXPECT_NE(second->slots[0].get(), first->slots[0].get());
    EXPECT_EQ(second->slots[0]->schedule().interval,
              changed.targets[0].profiles[0].interval);
    EXPECT_EQ(second->slots[0]->schedule().timeout,
              changed.targets[0].profiles[0].timeout);
    EXPECT_EQ(second->slots[0]->schedule().cpu_seconds,
              changed.targets[0].profiles[0].cpu_seconds);
    for (size_t i = 1; i < 12; ++i) {
      EXPECT_EQ(second->slots[i].get(), first->slots[i].get()) << i;
    }
  }
}

TEST(BuildSlotTableTest, RemovedTargetsAndKindsAreDropped) {
  Config three = TwoTargets();
  three.targets.push_back(Target("gamma"));
  auto first = BuildSlotTable(three, nullptr);
  ASSERT_EQ(first->slots.size(), 18u);

  Config fewer;
  fewer.targets = {Target("alpha"), Target("gamma")};
  // gamma keeps only heap and goroutine.
  fewer.targets[1].profiles = {Schedule(profile::Kind::kHeap),
                               Schedule(profile::Kind::kGoroutine)};
  auto second = BuildSlotTable(fewer, first.get());
  ASSERT_EQ(second->slots.size(), 8u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(second->slots[i].get(), first->slots[i].get());
  }
  EXPECT_EQ(second->slots[6]->target().name, "gamma");
  EXPECT_EQ(second->slots[6]->schedule().kind, profile::Kind::kHeap);
  EXPECT_EQ(second->slots[7]->target().name, "gamma");
  EXPECT_EQ(second->slots[7]->schedule().kind, profile::Kind::kGoroutine);
  // Whether or not gamma's remaining slots are carried over, they must not
  // keep the old target configuration: a scrape reads target().profiles
  // (its series budget per kind, whether heap totals come from heap).
  for (size_t i = 6; i < 8; ++i) {
    EXPECT_EQ(second->slots[i]->target().profiles.size(), 2u)
        << "slot " << i << " kept gamma's old configuration";
  }
  for (const auto& slot : second->slots) {
    EXPECT_NE(slot->target().name, "beta");
  }

  // A renamed target is a new target.
  Config renamed;
  renamed.targets = {Target("alpha")};
  TargetConfig delta = Target("beta");
  delta.name = "delta";
  renamed.targets.push_back(delta);
  auto third = BuildSlotTable(renamed, first.get());
  ASSERT_EQ(third->slots.size(), 12u);
  for (size_t i = 6; i < 12; ++i) {
    EXPECT_NE(third->slots[i].get(), first->slots[i].get());
    EXPECT_EQ(third->slots[i]->target().name, "delta");
  }

  // An empty config empties the table.
  auto empty = BuildSlotTable(Config{}, first.get());
  EXPECT_TRUE(empty->slots.empty());
}

// --- CollectSeries ---

// One sample line of the exposition, parsed back. Label values in these
// tests hold no quotes, commas or escapes.
struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

// The exposition CollectSeries writes: family names in TYPE-line order, and
// the samples of each.
struct Exposition {
  std::string text;
  std::vector<std::string> names;
  std::vector<Sample> samples;

  std::vector<Sample> Of(const std::string& name) const {
    std::vector<Sample> of;
    for (const Sample& s : samples) {
      if (s.name == name) of.push_back(s);
    }
    return of;
  }
};

Exposition Collect(const SlotTable& table) {
  ExpositionWriter writer;
  CollectSeries(table, &writer);
  Exposition e;
  e.text = std::move(writer).Finish();
  for (absl::string_view line : absl::StrSplit(e.text, '\n')) {
    if (line.empty() || absl::StartsWith(line, "# HELP ")) continue;
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      e.names.emplace_back(line.substr(0, line.find(' ')));
      continue;
    }
    Sample s;
    const size_t space = line.rfind(' ');
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &s.value)) << line;
    absl::string_view series = line.substr(0, space);
    const size_t brace = series.find('{');
    s.name = std::string(series.substr(0, brace));
    if (brace != absl::string_view::npos) {
      series = series.substr(brace + 1, series.size() - brace - 2);
      for (absl::string_view pair : absl::StrSplit(series, ',')) {
        const size_t eq = pair.find('=');
        s.labels.emplace_back(
            std::string(pair.substr(0, eq)),
            std::string(pair.substr(eq + 2, pair.size() - eq - 3)));
      }
    }
    e.samples.push_back(std::move(s));
  }
  return e;
}

std::string Label(const Sample& s, const std::string& name) {
  for (const auto& [label, value] : s.labels) {
    if (label == name) return value;
  }
  return "<none>";
}

void AddGoroutines(const TargetConfig& target, int64_t goroutines,
                   FamilyBuilder* out) {
  profile::GoroutineReduction r;
  r.goroutines = goroutines;
  r.services = 1;
  AddReduction(profile::Kind::kGoroutine, r, TargetLabels(target), out);
}

ScrapeResult UpGoroutines(const TargetConfig& target, int64_t goroutines) {
  FamilyBuilder series;
  AddGoroutines(target, goroutines, &series);
  ScrapeResult result;
  result.attempted = true;
  result.health.up = true;
  result.health.profile_bytes = 100;
  result.health.last_success = absl::FromUnixSeconds(1700000000);
  result.series = std::move(series).Build();
  return result;
}

TEST(CollectSeriesTest, EmptyTableHasOnlyBuildInfo) {
  auto table = BuildSlotTable(TwoTargets(), nullptr);
  EXPECT_THAT(Collect(*table).names, ElementsAre("pprof_exporter_build_info"));
}

TEST(CollectSeriesTest, HealthForAttemptedDerivedForUp) {
  Config c = TwoTargets();
  c.targets.push_back(Target("gamma"));
  for (auto& t : c.targets) {
    t.profiles = {Schedule(profile::Kind::kHeap),
                  Schedule(profile::Kind::kGoroutine)};
  }
  auto table = BuildSlotTable(c, nullptr);
  ASSERT_EQ(table->slots.size(), 6u);
  // alpha: heap never attempted, goroutine up.
  table->slots[1]->Publish(UpGoroutines(table->slots[1]->target(), 48));
  // beta: heap down (never succeeded), goroutine down after a success.
  {
    ScrapeResult down;
    down.attempted = true;
    down.failure = ScrapeFailure{FailureReason::kConnect, "refused"};
    down.health.errors_total[static_cast<int>(FailureReason::kConnect)] = 2;
    table->slots[2]->Publish(down);
    ScrapeResult was_up = UpGoroutines(table->slots[3]->target(), 5);
    was_up.health.up = false;
    was_up.series.clear();  // as Scrape leaves a failed result
    was_up.failure = ScrapeFailure{FailureReason::kTimeout, "x"};
    table->slots[3]->Publish(was_up);
  }
  // gamma: goroutine up, heap never attempted.
  table->slots[5]->Publish(UpGoroutines(table->slots[5]->target(), 7));

  const Exposition e = Collect(*table);
  ASSERT_THAT(e.names,
              ElementsAre("pprof_exporter_build_info", "pprof_up",
                          "pprof_scrape_duration_seconds",
                          "pprof_scrape_errors_total", "pprof_profile_bytes",
                          "pprof_last_success_timestamp_seconds",
                          "pprof_goroutines", "pprof_services"))
      << e.text;

  // pprof_up: one per attempted slot, in table order, with target labels
  // first and profile last.
  const std::vector<Sample> up = e.Of("pprof_up");
  ASSERT_EQ(up.size(), 4u) << e.text;
  const std::vector<std::pair<std::string, std::string>> expected_up = {
      {"alpha", "goroutine"}, {"beta", "heap"}, {"beta", "goroutine"},
      {"gamma", "goroutine"}};
  const std::vector<double> up_values = {1, 0, 0, 1};
  for (size_t i = 0; i < 4; ++i) {
    const Sample& m = up[i];
    ASSERT_EQ(m.labels.size(), 4u);
    EXPECT_EQ(m.labels[0].first, "target");
    EXPECT_EQ(m.labels[0].second, expected_up[i].first);
    EXPECT_EQ(m.labels[1].first, "env");
    EXPECT_EQ(m.labels[2].first, "host");
    EXPECT_EQ(m.labels[3].first, "profile");
    EXPECT_EQ(m.labels[3].second, expected_up[i].second);
    EXPECT_EQ(m.value, up_values[i]);
  }
  EXPECT_EQ(e.Of("pprof_scrape_errors_total").size(), 4u * kNumCountedReasons);
  // Only slots that ever succeeded have bytes and a last success time.
  const std::vector<Sample> bytes = e.Of("pprof_profile_bytes");
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(Label(bytes[0], "target"), "alpha");
  EXPECT_EQ(Label(bytes[1], "target"), "beta");
  EXPECT_EQ(Label(bytes[2], "target"), "gamma");

  // Derived series: only alpha's and gamma's goroutines, merged into one
  // family; no profile label on them.
  const std::vector<Sample> goroutines = e.Of("pprof_goroutines");
  ASSERT_EQ(goroutines.size(), 2u);
  EXPECT_EQ(Label(goroutines[0], "target"), "alpha");
  EXPECT_EQ(goroutines[0].value, 48);
  EXPECT_EQ(Label(goroutines[1], "target"), "gamma");
  EXPECT_EQ(goroutines[1].value, 7);
  EXPECT_EQ(Label(goroutines[0], "profile"), "<none>");

  // Nothing at all about never-attempted slots.
  for (const Sample& m : e.samples) {
    const std::string target = Label(m, "target");
    const std::string kind = Label(m, "profile");
    EXPECT_FALSE((target == "alpha" || target == "gamma") && kind == "heap")
        << m.name << " " << target;
  }
}

// The text served is what serializing all families at once gives: the
// pre-rendered pieces change nothing but when the work is done.
TEST(CollectSeriesTest, SameTextAsSerializingEverythingAtOnce) {
  Config c = TwoTargets();
  for (auto& t : c.targets) t.profiles = {Schedule(profile::Kind::kGoroutine)};
  auto table = BuildSlotTable(c, nullptr);
  FamilyBuilder health, derived;
  AddBuildInfo(&health);
  for (int i = 0; i < 2; ++i) {
    const Slot& slot = *table->slots[i];
    ScrapeResult result = UpGoroutines(slot.target(), 10 + i);
    AddGoroutines(slot.target(), 10 + i, &derived);
    LabelPairs labels = TargetLabels(slot.target());
    labels.emplace_back("profile", "goroutine");
    AddScrapeHealth(result.health, labels, &health);
    table->slots[i]->Publish(std::move(result));
  }
  std::vector<MetricFamily> all = std::move(health).Build();
  for (MetricFamily& f : std::move(derived).Build()) all.push_back(f);
  EXPECT_EQ(Collect(*table).text, SerializeText(all));
}

TEST(CollectSeriesTest, ReadsTheLatestPublishedResult) {
  Config c;
  c.targets = {Target("alpha")};
  c.targets[0].profiles = {Schedule(profile::Kind::kGoroutine)};
  auto table = BuildSlotTable(c, nullptr);
  table->slots[0]->Publish(UpGoroutines(table->slots[0]->target(), 1));
  EXPECT_EQ(Collect(*table).Of("pprof_goroutines").at(0).value, 1);
  table->slots[0]->Publish(UpGoroutines(table->slots[0]->target(), 2));
  EXPECT_EQ(Collect(*table).Of("pprof_goroutines").at(0).value, 2);
  ScrapeResult failed = *table->slots[0]->result();
  failed.health.up = false;
  failed.series.clear();
  table->slots[0]->Publish(failed);
  EXPECT_TRUE(Collect(*table).Of("pprof_goroutines").empty());
  EXPECT_EQ(Collect(*table).Of("pprof_up").at(0).value, 0);
}

}  // namespace
}  // namespace exporter
