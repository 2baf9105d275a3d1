#include "exporter/config/kinds.h"

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "profile/kind.h"

namespace exporter {
namespace {

TEST(KindSpecs, EveryKindHasExactlyOneRow) {
  absl::flat_hash_set<profile::Kind> seen;
  for (const KindSpec& spec : AllKindSpecs()) {
    EXPECT_TRUE(seen.insert(spec.kind).second) << profile::KindName(spec.kind);
    EXPECT_EQ(SpecOf(spec.kind).kind, spec.kind);
  }
  for (profile::Kind kind : profile::kAllKinds) {
    EXPECT_TRUE(seen.contains(kind)) << profile::KindName(kind);
  }
}

TEST(KindSpecs, OnlyCpuSamplesOverAWindow) {
  for (const KindSpec& spec : AllKindSpecs()) {
    EXPECT_EQ(spec.sampled, spec.kind == profile::Kind::kCpu)
        << profile::KindName(spec.kind);
  }
  EXPECT_EQ(SpecOf(profile::Kind::kCpu).path, "profile");
  EXPECT_EQ(SpecOf(profile::Kind::kGoroutine).path, "goroutine");
}

}  // namespace
}  // namespace exporter
