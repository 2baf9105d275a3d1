#include "exporter/archive/kept_profiles.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using profile::Kind;

KeptProfiles::IsConfigured Only(const std::string& target) {
  return [target](const std::string& t, Kind) { return t == target; };
}

std::string TestDir(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

TEST(KeptProfiles, WithoutArchiveOrMirrorNothingIsWanted) {
  KeptProfiles kept(/*mirror=*/false);
  kept.Configure(std::nullopt);
  EXPECT_FALSE(kept.wanted());
  EXPECT_EQ(kept.Serve("/debug/pprof/a/heap", Only("a")).status, 404);
}

TEST(KeptProfiles, TheMirrorServesTheLatestProfileOfConfiguredTargets) {
  KeptProfiles kept(/*mirror=*/true);
  EXPECT_TRUE(kept.wanted());
  kept.Keep("a", Kind::kHeap, absl::Now(), "first", 1, Only("a"));
  kept.Keep("a", Kind::kHeap, absl::Now(), "second", 1, Only("a"));
  PprofResponse response = kept.Serve("/debug/pprof/a/heap", Only("a"));
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(*response.body, "second");
  EXPECT_EQ(kept.Serve("/debug/pprof/a/heap", Only("b")).status, 404);
}

TEST(KeptProfiles, ARemovedTargetIsForgottenWhenEntriesOutnumberSlots) {
  KeptProfiles kept(/*mirror=*/true);
  kept.Keep("old", Kind::kHeap, absl::Now(), "old bytes", 1, Only("old"));
  // "old" was removed: one slot, now for "new".
  kept.Keep("new", Kind::kHeap, absl::Now(), "new bytes", 1, Only("new"));
  auto everything = [](const std::string&, Kind) { return true; };
  EXPECT_EQ(kept.Serve("/debug/pprof/old/heap", everything).status, 404);
  EXPECT_EQ(kept.Serve("/debug/pprof/new/heap", everything).status, 200);
}

TEST(KeptProfiles, TheArchiveOpensChangesLimitsAndCloses) {
  KeptProfiles kept(/*mirror=*/false);
  ArchiveConfig config;
  config.dir = TestDir("archive");
  kept.Configure(config);
  ASSERT_TRUE(kept.archiving());
  EXPECT_TRUE(kept.wanted());
  kept.Keep("a", Kind::kHeap, absl::Now(), "bytes", 1,
            Only("a"));
  FamilyBuilder families;
  kept.AddMetrics({{"a", Kind::kHeap}}, families);
  const std::string text = SerializeText(std::move(families).Build());
  EXPECT_NE(text.find("pprof_archive_profiles{target=\"a\",profile=\"heap\"} 1"),
            std::string::npos)
      << text;

  config.max_bytes = 1;  // the same directory: only the limits change
  kept.Configure(config);
  EXPECT_TRUE(kept.archiving());

  kept.Configure(std::nullopt);
  EXPECT_FALSE(kept.archiving());
  EXPECT_FALSE(kept.wanted());
}

}  // namespace
}  // namespace exporter
