#include "exporter/discovery/shard.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

TEST(ShardTest, Fnv1a64MatchesTheReferenceVectors) {
  // From the FNV reference test suite (test_fnv.c, fnv1a_64).
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
  // Bytes above 0x7f are taken unsigned.
  EXPECT_EQ(Fnv1a64("\xff"),
            (0xcbf29ce484222325ULL ^ 0xffULL) * 0x100000001b3ULL);
}

TEST(ShardTest, TheShardsOfACountPartitionEveryName) {
  std::vector<std::string> names;
  for (int i = 0; i < 500; ++i) names.push_back(absl::StrCat("target-", i));
  names.push_back("127.0.0.1:6060");
  names.push_back("http://10.0.0.1:6060/debug/pprof/");
  names.push_back("");
  for (int count : {1, 2, 3, 7, 64}) {
    SCOPED_TRACE(count);
    std::vector<int> sizes(count, 0);
    for (const std::string& name : names) {
      int owners = 0;
      for (int index = 0; index < count; ++index) {
        if (InShard(name, Shard{index, count})) {
          ++owners;
          ++sizes[index];
        }
      }
      EXPECT_EQ(owners, 1) << name;
    }
    // Spread: with 503 names no shard of up to 7 is empty or holds more
    // than twice its share.
    if (count <= 7) {
      for (int size : sizes) {
        EXPECT_GT(size, 0);
        EXPECT_LT(size, 2 * static_cast<int>(names.size()) / count);
      }
    }
  }
}

TEST(ShardTest, KnownAssignmentsStayPut) {
  // Pinned so that a change of the hash (which would move targets between
  // running replicas) cannot go unnoticed; tests/discovery computes the same
  // in Python.
  EXPECT_EQ(Fnv1a64("target-0"), 0x9360edf1bac3d7fdULL);
  EXPECT_EQ(Fnv1a64("127.0.0.1:6060"), 0xf17f6ee0f489839cULL);
  EXPECT_TRUE(InShard("target-0", Shard{1, 3}));
  EXPECT_TRUE(InShard("127.0.0.1:6060", Shard{2, 3}));
  EXPECT_TRUE(InShard("anything", Shard{0, 1}));
}

TEST(ShardTest, ParseShard) {
  auto shard = ParseShard("1/3");
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ(shard->index, 1);
  EXPECT_EQ(shard->count, 3);
  shard = ParseShard("0/1");
  ASSERT_TRUE(shard.ok());
  EXPECT_EQ(shard->count, 1);
  for (const char* bad : {"", "1", "3/3", "4/3", "0/0", "-1/3", "1/-3", "a/b",
                          "1/3/5", " 1/3", "1/ 3", "0x1/3", "1/99999999"}) {
    EXPECT_FALSE(ParseShard(bad).ok()) << bad;
  }
  EXPECT_NE(ParseShard("3/3").status().message().find("less than COUNT"),
            std::string::npos);
}

}  // namespace
}  // namespace exporter
