#include "exporter/config/duration.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;

struct GoodCase {
  std::string text;
  absl::Duration want;
};

TEST(ParsePromDurationTest, AcceptsPrometheusNotation) {
  const GoodCase cases[] = {
      {"0", absl::ZeroDuration()},
      {"0s", absl::ZeroDuration()},
      {"90s", absl::Seconds(90)},
      {"500ms", absl::Milliseconds(500)},
      {"1h30m", absl::Minutes(90)},
      {"15m", absl::Minutes(15)},
      {"2d", absl::Hours(48)},
      {"1w", absl::Hours(7 * 24)},
      {"1y", absl::Hours(365 * 24)},
      {"1y2w3d4h5m6s7ms", absl::Hours(365 * 24 + 14 * 24 + 3 * 24 + 4) +
                              absl::Minutes(5) + absl::Seconds(6) +
                              absl::Milliseconds(7)},
      {"1m500ms", absl::Milliseconds(60500)},
      {"007s", absl::Seconds(7)},
      {"1h0m", absl::Hours(1)},
  };
  for (const GoodCase& c : cases) {
    absl::StatusOr<absl::Duration> got = ParsePromDuration(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

struct BadCase {
  std::string text;
  std::string message_part;
};

TEST(ParsePromDurationTest, RejectsEverythingElse) {
  const BadCase cases[] = {
      {"", "empty"},
      {"60", "missing unit"},
      {"1h30", "missing unit (y, w, d, h, m, s, ms) after 30"},
      {"6O s", "unknown unit \"O\" after 6"},
      {"1.5s", "unexpected \".\" after 1"},
      {"-1s", "expected a number at \"-1s\""},
      {"+1s", "expected a number"},
      {" 1s", "expected a number"},
      {"1s ", "expected a number"},
      {"s", "expected a number"},
      {"1us", "unknown unit \"us\""},
      {"1ns", "unknown unit"},
      {"1M", "unknown unit \"M\""},
      {"30m1h", "descending order"},
      {"1m1m", "descending order"},
      {"1s1m", "descending order"},
      {"99999999999999999999s", "too large"},
      {"300000000y", "too large"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<absl::Duration> got = ParsePromDuration(c.text);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(),
                HasSubstr("bad duration \"" + c.text + "\""));
    EXPECT_THAT(got.status().message(), HasSubstr(c.message_part)) << c.text;
  }
}

TEST(FormatPromDurationTest, LargestUnitsFirst) {
  EXPECT_EQ(FormatPromDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatPromDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatPromDuration(absl::Milliseconds(500)), "500ms");
  EXPECT_EQ(FormatPromDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(FormatPromDuration(absl::Hours(48)), "2d");
  EXPECT_EQ(FormatPromDuration(absl::Hours(14 * 24)), "2w");
  EXPECT_EQ(FormatPromDuration(absl::Hours(365 * 24)), "1y");
  EXPECT_EQ(FormatPromDuration(absl::Seconds(25)), "25s");
}

TEST(FormatPromDurationTest, YearsAndWeeksOnlyWhenExact) {
  EXPECT_EQ(FormatPromDuration(absl::Hours(90 * 24)), "90d");
  EXPECT_EQ(FormatPromDuration(absl::Hours(8 * 24)), "8d");
  EXPECT_EQ(FormatPromDuration(absl::Hours(7 * 24) + absl::Hours(1)), "7d1h");
}

TEST(FormatPromDurationTest, EdgeCases) {
  EXPECT_EQ(FormatPromDuration(absl::Microseconds(1500)), "1ms");
  EXPECT_EQ(FormatPromDuration(absl::Microseconds(999)), "0s");
  EXPECT_EQ(FormatPromDuration(-absl::Seconds(5)), "-5s");
  EXPECT_EQ(FormatPromDuration(absl::InfiniteDuration()), "inf");
  EXPECT_EQ(FormatPromDuration(-absl::InfiniteDuration()), "-inf");
}

TEST(PromDurationTest, FormatThenParseRoundTrips) {
  const absl::Duration samples[] = {
      absl::Milliseconds(1),
      absl::Seconds(59),
      absl::Milliseconds(61001),
      absl::Hours(25),
      absl::Hours(24 * 400) + absl::Milliseconds(3),
      absl::Hours(24 * 7 * 52),
  };
  for (absl::Duration d : samples) {
    absl::StatusOr<absl::Duration> back =
        ParsePromDuration(FormatPromDuration(d));
    ASSERT_TRUE(back.ok()) << FormatPromDuration(d) << ": " << back.status();
    EXPECT_EQ(*back, d) << FormatPromDuration(d);
  }
}

}  // namespace
}  // namespace exporter
