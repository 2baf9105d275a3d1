// Windows over cumulative profiles: per function, current minus baseline,
// checked against the stack-by-stack subtraction `pprof -base` performs.
#include "profile/window.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/reduce.h"
#include "profile/testing/profile_builder.h"

namespace profile {
namespace {

using ::profile::testing::ProfileBuilder;

using Stacks = std::vector<std::pair<std::vector<std::string>, int64_t>>;

Profile Build(const Stacks& stacks, int64_t time_nanos = 0) {
  ProfileBuilder b;
  b.SampleType("contentions", "count").SampleType("delay", "nanoseconds");
  if (time_nanos != 0) b.TimeNanos(time_nanos);
  for (const auto& [frames, delay] : stacks) b.Stack(frames, {1, delay});
  auto decoded = Decode(b.Raw());
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return *std::move(decoded);
}

std::optional<Window> WindowBetween(const Profile& before,
                                    const Profile& after, size_t top = 10) {
  const FunctionBaseline base =
      BaselineOf(before, TabulateFunctions(before, 1).value(), 1);
  return Subtract(after, TabulateFunctions(after, 1).value(), 1, base, top);
}

TEST(Window, SubtractsFunctionByFunction) {
  const Profile before = Build({{{"main.a", "main.main"}, 10},
                                {{"main.b", "main.main"}, 5}});
  const Profile after = Build({{{"main.a", "main.main"}, 30},
                               {{"main.b", "main.main"}, 5},
                               {{"main.c", "main.main"}, 7}});
  auto window = WindowBetween(before, after);
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->total, 27);
  ASSERT_EQ(window->top_flat.size(), 3u);  // a, c and main (flat 0)
  EXPECT_EQ(window->top_flat[0].function, "main.a");
  EXPECT_EQ(window->top_flat[0].flat, 20);
  EXPECT_DOUBLE_EQ(window->top_flat[0].flat_ratio, 20.0 / 27);
  EXPECT_EQ(window->top_flat[1].function, "main.c");
  EXPECT_DOUBLE_EQ(window->top_flat[1].flat_ratio, 7.0 / 27);
  // main.b did nothing in the window, so it is not listed at all.
  for (const auto& f : window->top_flat) EXPECT_NE(f.function, "main.b");
  ASSERT_EQ(window->top_cum[0].function, "main.main");
  EXPECT_DOUBLE_EQ(window->top_cum[0].cum_ratio, 1.0);
}

TEST(Window, ARestartIsNoWindow) {
  const Profile before = Build({{{"main.a", "main.main"}, 100}});
  EXPECT_FALSE(WindowBetween(before, Build({{{"main.a", "main.main"}, 40}})));
}

TEST(Window, AVanishedFunctionIsARestart) {
  const Profile before = Build({{{"main.a", "main.main"}, 10},
                                {{"main.old", "main.main"}, 1}});
  // The total grew, but main.old is gone: another process.
  EXPECT_FALSE(WindowBetween(before, Build({{{"main.a", "main.main"}, 50}})));
}

TEST(Window, SecondsComeFromTheProfilesTimes) {
  const Profile before = Build({{{"main.a"}, 1}}, 1'000'000'000);
  const Profile after = Build({{{"main.a"}, 2}}, 16'500'000'000);
  auto window = WindowBetween(before, after);
  ASSERT_TRUE(window.has_value());
  EXPECT_DOUBLE_EQ(window->seconds, 15.5);
}

TEST(Window, NothingHappenedIsAnEmptyWindow) {
  const Profile p = Build({{{"main.a", "main.main"}, 10}});
  auto window = WindowBetween(p, p);
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->total, 0);
  EXPECT_TRUE(window->top_flat.empty());
}

// Random cumulative pairs with recursion and shared frames: the per-function
// window equals subtracting stack by stack and tabulating the difference.
TEST(Window, EqualsStackByStackSubtraction) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> names = {"main.a", "main.b", "main.c",
                                          "pkg.d", "runtime.e"};
  for (int round = 0; round < 50; ++round) {
    std::map<std::vector<std::string>, std::pair<int64_t, int64_t>> stacks;
    for (int s = 0; s < 12; ++s) {
      std::vector<std::string> frames;
      const int depth = 1 + static_cast<int>(rng() % 5);
      for (int d = 0; d < depth; ++d) frames.push_back(names[rng() % 5]);
      const int64_t before = static_cast<int64_t>(rng() % 100);
      const int64_t grown = before + static_cast<int64_t>(rng() % 3 == 0 ? 0 : rng() % 50);
      auto& entry = stacks[frames];
      entry.first += before;
      entry.second += grown;
    }
    Stacks before, after, difference;
    for (const auto& [frames, values] : stacks) {
      before.push_back({frames, values.first});
      after.push_back({frames, values.second});
      difference.push_back({frames, values.second - values.first});
    }
    auto window = WindowBetween(Build(before), Build(after), 100);
    ASSERT_TRUE(window.has_value());
    const Profile diff = Build(difference);
    const FunctionTable expected = TabulateFunctions(diff, 1).value();
    EXPECT_EQ(window->total, expected.total);
    const auto want = TopByFlat(diff, expected, 100);
    ASSERT_EQ(window->top_flat.size(), want.size()) << "round " << round;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(window->top_flat[i].function, want[i].function);
      EXPECT_EQ(window->top_flat[i].flat, want[i].flat);
      EXPECT_EQ(window->top_flat[i].cum, want[i].cum);
      EXPECT_DOUBLE_EQ(window->top_flat[i].flat_ratio, want[i].flat_ratio);
    }
  }
}

TEST(Window, ReduceCarriesTheBaselineForward) {
  const Profile before = Build({{{"main.a", "main.main"}, 10}});
  const Profile after = Build({{{"main.a", "main.main"}, 25}});
  auto first = Reduce(Kind::kMutex, before, {});
  ASSERT_TRUE(first.ok());
  const auto& windowed = std::get<ContentionReduction>(*first).windowed;
  EXPECT_FALSE(windowed.window.has_value());
  ASSERT_NE(windowed.baseline, nullptr);
  auto second = Reduce(Kind::kMutex, after, {}, windowed.baseline.get());
  ASSERT_TRUE(second.ok());
  const auto& window = std::get<ContentionReduction>(*second).windowed.window;
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->total, 15);
}

}  // namespace
}  // namespace profile
