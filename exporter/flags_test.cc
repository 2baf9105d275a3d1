#include "exporter/flags.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The daemon's own flag set, plus one repeatable boolean-free flag.
const std::vector<FlagSpec>& Specs() {
  static const auto* specs = new std::vector<FlagSpec>{
      {"config.file"},
      {"target", true, true},
      {"web.listen-address"},
      {"version", false},
      {"h", false},
  };
  return *specs;
}

TEST(ParseFlagsTest, LongFormWithEquals) {
  auto f = ParseFlags({"--config.file=/etc/x.yml"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Has("config.file"));
  EXPECT_EQ(f->Get("config.file"), "/etc/x.yml");
  EXPECT_THAT(f->GetAll("config.file"), ElementsAre("/etc/x.yml"));
  EXPECT_THAT(f->positional, IsEmpty());
}

TEST(ParseFlagsTest, LongFormWithSeparateValue) {
  auto f = ParseFlags({"--web.listen-address", "127.0.0.1:9862"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("web.listen-address"), "127.0.0.1:9862");
  EXPECT_THAT(f->positional, IsEmpty());
}

TEST(ParseFlagsTest, SingleDashForm) {
  auto f = ParseFlags({"-config.file=a.yml", "-web.listen-address", ":1"},
                      Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("config.file"), "a.yml");
  EXPECT_EQ(f->Get("web.listen-address"), ":1");
}

TEST(ParseFlagsTest, ValueMayContainEqualsAndBeEmpty) {
  auto f = ParseFlags({"--target=svc=http://h:1/", "--config.file="}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("target"), "svc=http://h:1/");  // split at the first '='
  EXPECT_TRUE(f->Has("config.file"));
  EXPECT_EQ(f->Get("config.file"), "");
}

TEST(ParseFlagsTest, SeparateValueIsTakenVerbatimEvenIfDashed) {
  // `--a b` takes the next argument whatever it looks like.
  auto f = ParseFlags({"--config.file", "--version"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("config.file"), "--version");
  EXPECT_FALSE(f->Has("version"));
}

TEST(ParseFlagsTest, BooleanFlags) {
  auto f = ParseFlags({"--version", "-h"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Has("version"));
  EXPECT_TRUE(f->Has("h"));
  EXPECT_FALSE(f->Has("config.file"));
  EXPECT_EQ(f->Get("config.file"), std::nullopt);
  EXPECT_THAT(f->GetAll("config.file"), IsEmpty());
}

TEST(ParseFlagsTest, BooleanFlagDoesNotEatTheNextArgument) {
  auto f = ParseFlags({"--version", "file.pb.gz"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Has("version"));
  EXPECT_THAT(f->positional, ElementsAre("file.pb.gz"));
}

TEST(ParseFlagsTest, RepeatableFlagKeepsAllValuesInOrder) {
  auto f = ParseFlags({"--target=a=http://a/", "--target", "b=http://b/",
                       "-target=c=http://c/"},
                      Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->GetAll("target"),
              ElementsAre("a=http://a/", "b=http://b/", "c=http://c/"));
  EXPECT_EQ(f->Get("target"), "c=http://c/");  // the last one
}

TEST(ParseFlagsTest, NonRepeatableTwiceIsAnError) {
  auto f = ParseFlags({"--config.file=a", "--config.file=b"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("config.file"));

  // Also a boolean given twice, and mixed - and -- spellings.
  f = ParseFlags({"--version", "-version"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseFlagsTest, UnknownFlagIsAnError) {
  auto f = ParseFlags({"--config.fil=x"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("config.fil"));

  f = ParseFlags({"-x"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseFlagsTest, MissingValueIsAnError) {
  auto f = ParseFlags({"--web.listen-address"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("web.listen-address"));
}

TEST(ParseFlagsTest, ValueOnBooleanIsAnError) {
  auto f = ParseFlags({"--version=true"}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), HasSubstr("version"));

  f = ParseFlags({"--version="}, Specs());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseFlagsTest, DoubleDashEndsFlags) {
  auto f = ParseFlags({"--version", "--", "--config.file=x", "-h", "--", "y"},
                      Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->Has("version"));
  EXPECT_FALSE(f->Has("config.file"));
  EXPECT_FALSE(f->Has("h"));
  EXPECT_THAT(f->positional, ElementsAre("--config.file=x", "-h", "--", "y"));

  // Unknown-looking arguments after "--" are not errors.
  f = ParseFlags({"--", "--nonsense"}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->positional, ElementsAre("--nonsense"));
}

TEST(ParseFlagsTest, PositionalArgumentsKeptInOrder) {
  auto f = ParseFlags({"a.pb.gz", "--version", "b.pb.gz", "-", "--target",
                       "t=http://t/", "c.pb.gz"},
                      Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->positional, ElementsAre("a.pb.gz", "b.pb.gz", "-", "c.pb.gz"));
  EXPECT_EQ(f->Get("target"), "t=http://t/");
}

TEST(ParseFlagsTest, EmptyArgs) {
  auto f = ParseFlags({}, Specs());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->values, IsEmpty());
  EXPECT_THAT(f->positional, IsEmpty());
}

}  // namespace
}  // namespace exporter
