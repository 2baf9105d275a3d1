#include "exporter/base/log.h"

#include <string>

#include "gtest/gtest.h"

namespace exporter {
namespace {

std::string Value(const std::string& value) {
  // The part after "level=info msg=m k=".
  const std::string line = FormatLogFields(LogLevel::kInfo, "m", {{"k", value}});
  const std::string prefix = "level=info msg=m k=";
  EXPECT_EQ(line.substr(0, prefix.size()), prefix) << line;
  return line.substr(prefix.size());
}

TEST(FormatLogFieldsTest, LevelsAndMessage) {
  EXPECT_EQ(FormatLogFields(LogLevel::kDebug, "x", {}), "level=debug msg=x");
  EXPECT_EQ(FormatLogFields(LogLevel::kInfo, "x", {}), "level=info msg=x");
  EXPECT_EQ(FormatLogFields(LogLevel::kWarn, "x", {}), "level=warn msg=x");
  EXPECT_EQ(FormatLogFields(LogLevel::kError, "x", {}), "level=error msg=x");
  EXPECT_EQ(FormatLogFields(LogLevel::kWarn, "scrape failed",
                            {{"target", "tsnsrv"}, {"profile", "cpu"}}),
            "level=warn msg=\"scrape failed\" target=tsnsrv profile=cpu");
}

TEST(FormatLogFieldsTest, BareValues) {
  EXPECT_EQ(Value("tsnsrv"), "tsnsrv");
  EXPECT_EQ(Value("http://127.0.0.1:9099/debug/pprof/"),
            "http://127.0.0.1:9099/debug/pprof/");
  EXPECT_EQ(Value("[::1]:80"), "[::1]:80");
  EXPECT_EQ(Value("Zürich"), "Zürich");  // UTF-8 is not escaped
}

TEST(FormatLogFieldsTest, QuotedValues) {
  EXPECT_EQ(Value("a b"), "\"a b\"");
  EXPECT_EQ(Value("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(Value("\""), "\"\\\"\"");
  EXPECT_EQ(Value("C:\\dir"), "\"C:\\\\dir\"");
  EXPECT_EQ(Value("line1\nline2"), "\"line1\\nline2\"");
  EXPECT_EQ(Value("a\tb"), "\"a\\tb\"");
  EXPECT_EQ(Value(std::string("a\x01z")), "\"a\\x01z\"");
  EXPECT_EQ(Value("k=v"), "\"k=v\"");
  EXPECT_EQ(Value(""), "\"\"");
}

TEST(FormatLogFieldsTest, QuotedMessage) {
  EXPECT_EQ(FormatLogFields(LogLevel::kError, "", {}), "level=error msg=\"\"");
  EXPECT_EQ(FormatLogFields(LogLevel::kError, "a=b \"c\"", {}),
            "level=error msg=\"a=b \\\"c\\\"\"");
}

TEST(FormatLogFieldsTest, OneLineWhateverTheInput) {
  const std::string line = FormatLogFields(
      LogLevel::kWarn, "multi\nline", {{"err", "x\ny\r\n"}, {"k", "v"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line,
            "level=warn msg=\"multi\\nline\" err=\"x\\ny\\x0d\\n\" k=v");
}

TEST(ParseLogLevelTest, KnownNames) {
  EXPECT_EQ(ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(ParseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(ParseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("error"), LogLevel::kError);
}

TEST(ParseLogLevelTest, RejectsOthers) {
  EXPECT_EQ(ParseLogLevel(""), std::nullopt);
  EXPECT_EQ(ParseLogLevel("INFO"), std::nullopt);
  EXPECT_EQ(ParseLogLevel("warning"), std::nullopt);
  EXPECT_EQ(ParseLogLevel("info "), std::nullopt);
  EXPECT_EQ(ParseLogLevel("fatal"), std::nullopt);
}

}  // namespace
}  // namespace exporter
