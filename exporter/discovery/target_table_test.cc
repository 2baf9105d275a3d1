#include "exporter/discovery/target_table.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

TargetConfig Named(const std::string& name, const std::string& url = "") {
  TargetConfig target;
  target.name = name;
  target.url = url;
  return target;
}

std::vector<std::string> Names(const TargetTable& table) {
  std::vector<std::string> names;
  for (const TargetConfig& target : table.targets) names.push_back(target.name);
  return names;
}

FileDiscovery::Targets Discovered(std::vector<TargetConfig> targets) {
  FileDiscovery::Targets discovered;
  for (size_t i = 0; i < targets.size(); ++i) {
    discovered.sources.push_back("sd.json:" + std::to_string(i + 1));
  }
  discovered.targets = std::move(targets);
  return discovered;
}

TEST(BuildTargetTable, StaticTargetsComeFirstThenDiscoveredInOrder) {
  const TargetTable table = BuildTargetTable(
      {Named("b"), Named("a")}, Discovered({Named("d"), Named("c")}), Shard{});
  EXPECT_THAT(Names(table), ElementsAre("b", "a", "d", "c"));
  EXPECT_THAT(table.rejected, IsEmpty());
}

TEST(BuildTargetTable, TheFirstOfANameStaysAndTheLaterOneIsRejected) {
  const TargetTable table = BuildTargetTable(
      {Named("a", "http://static/")},
      Discovered({Named("a", "http://discovered/"), Named("b"), Named("b")}),
      Shard{});
  EXPECT_THAT(Names(table), ElementsAre("a", "b"));
  EXPECT_EQ(table.targets[0].url, "http://static/");
  EXPECT_THAT(table.rejected,
              ElementsAre(Field(&RejectedTarget::source, "sd.json:1"),
                          Field(&RejectedTarget::source, "sd.json:3")));
  EXPECT_EQ(table.rejected[0].target, "a");
  EXPECT_EQ(table.rejected[0].reason, "its name is already used");
}

TEST(BuildTargetTable, InvalidDiscoveryEntriesArePassedOn) {
  FileDiscovery::Targets discovered = Discovered({Named("a")});
  discovered.errors.push_back("sd.json:2: bad address");
  const TargetTable table = BuildTargetTable({}, discovered, Shard{});
  EXPECT_THAT(Names(table), ElementsAre("a"));
  ASSERT_EQ(table.rejected.size(), 1u);
  EXPECT_EQ(table.rejected[0].target, "");
  EXPECT_EQ(table.rejected[0].reason, "sd.json:2: bad address");
}

TEST(BuildTargetTable, ShardsSplitStaticAndDiscoveredTargetsWithoutOverlap) {
  std::vector<TargetConfig> statics, discovered;
  for (int i = 0; i < 50; ++i) {
    statics.push_back(Named("static-" + std::to_string(i)));
    discovered.push_back(Named("discovered-" + std::to_string(i)));
  }
  std::vector<std::string> all;
  for (int index = 0; index < 3; ++index) {
    const TargetTable table =
        BuildTargetTable(statics, Discovered(discovered), Shard{index, 3});
    for (const TargetConfig& target : table.targets) {
      EXPECT_TRUE(InShard(target.name, Shard{index, 3})) << target.name;
      all.push_back(target.name);
    }
    EXPECT_THAT(table.rejected, IsEmpty());
  }
  EXPECT_EQ(all.size(), 100u);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

}  // namespace
}  // namespace exporter
