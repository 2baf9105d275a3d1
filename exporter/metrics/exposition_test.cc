#include "exporter/metrics/exposition.h"

#include <memory>
#include <string>
#include <vector>

#include "exporter/metrics/metrics.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using Gauges = std::vector<std::pair<std::string, double>>;

void AddGauges(const Gauges& gauges, const std::string& target,
               FamilyBuilder* b) {
  for (const auto& [name, value] : gauges) {
    b->Gauge(name, "help of " + name + " with \"quotes\"",
             {{"target", target}}, value);
  }
}

std::vector<prometheus::MetricFamily> Families(const Gauges& gauges,
                                               const std::string& target) {
  FamilyBuilder b;
  AddGauges(gauges, target, &b);
  return std::move(b).Build();
}

TEST(RenderTest, SplitsHeaderFromSamples) {
  const Rendering r = Render(Families({{"a", 1}, {"b", 2}}, "x"));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].name, "a");
  EXPECT_EQ(r[0].header,
            "# HELP a help of a with \"quotes\"\n# TYPE a gauge\n");
  EXPECT_EQ(r[0].samples, "a{target=\"x\"} 1\n");
  EXPECT_EQ(r[1].samples, "b{target=\"x\"} 2\n");
}

TEST(ExpositionWriterTest, MergesFamiliesInFirstSeenOrder) {
  ExpositionWriter writer;
  writer.Add(Families({{"b", 1}, {"a", 2}}, "x"));
  writer.Add(std::make_shared<const Rendering>(
      Render(Families({{"c", 3}, {"a", 4}}, "y"))));
  writer.Add(Families({{"b", 5}}, "z"));
  // The same text as serializing the merged families in one go.
  FamilyBuilder merged;
  AddGauges({{"b", 1}, {"a", 2}}, "x", &merged);
  AddGauges({{"c", 3}, {"a", 4}}, "y", &merged);
  AddGauges({{"b", 5}}, "z", &merged);
  const std::string text = std::move(writer).Finish();
  EXPECT_EQ(text, SerializeText(std::move(merged).Build()));
  EXPECT_EQ(text.find("# TYPE b gauge"), text.rfind("# TYPE b gauge"));
}

TEST(ExpositionWriterTest, EmptyWriterWritesNothing) {
  EXPECT_EQ(ExpositionWriter().Finish(), "");
  ExpositionWriter writer;
  writer.Add(std::vector<prometheus::MetricFamily>{});
  EXPECT_EQ(std::move(writer).Finish(), "");
}

}  // namespace
}  // namespace exporter
