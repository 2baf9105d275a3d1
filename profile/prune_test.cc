// pprof's drop_frames/keep_frames pruning (google/pprof profile/prune.go),
// checked through Decode(), which applies it, and through the pieces in
// prune.h directly.
#include "profile/prune.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/profile.h"
#include "profile/testing/profile_builder.h"

namespace profile {
namespace {

using ::profile::testing::ProfileBuilder;
using ::profile::testing::SampleFrames;
using ::profile::testing::SampleLabels;
using ::profile::testing::SampleValues;
using ::testing::ElementsAre;

// The frames of every sample after decoding (and so after pruning).
std::vector<std::vector<std::string>> DecodedStacks(const ProfileBuilder& b) {
  auto p = Decode(b.Raw());
  EXPECT_TRUE(p.ok()) << p.status();
  std::vector<std::vector<std::string>> stacks;
  if (!p.ok()) return stacks;
  for (size_t s = 0; s < p->num_samples(); ++s) {
    stacks.push_back(SampleFrames(*p, s));
  }
  return stacks;
}

ProfileBuilder WithDropFrames(absl::string_view drop,
                              absl::string_view keep = "") {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  b.DropFrames(drop);
  if (!keep.empty()) b.KeepFrames(keep);
  return b;
}

// ---------------------------------------------------------------------------
// SimplifyFunctionName (pprof's simplifyFunc).

TEST(SimplifyFunctionName, GoMethodIsCutAtItsFirstParenthesis) {
  EXPECT_EQ(SimplifyFunctionName("main.(*T).m"), "main.");
  EXPECT_EQ(SimplifyFunctionName("net/http.(*conn).serve"), "net/http.");
}

TEST(SimplifyFunctionName, PlainNamesAreUnchanged) {
  EXPECT_EQ(SimplifyFunctionName("runtime.gopark"), "runtime.gopark");
  EXPECT_EQ(SimplifyFunctionName("main.main.func1"), "main.main.func1");
  EXPECT_EQ(SimplifyFunctionName(""), "");
}

TEST(SimplifyFunctionName, OneLeadingDotIsDropped) {
  EXPECT_EQ(SimplifyFunctionName(".foo"), "foo");
  EXPECT_EQ(SimplifyFunctionName("..foo"), ".foo");
  EXPECT_EQ(SimplifyFunctionName("."), "");
  EXPECT_EQ(SimplifyFunctionName(".foo(int)"), "foo");
}

TEST(SimplifyFunctionName, ArgumentListIsDropped) {
  EXPECT_EQ(SimplifyFunctionName("f(int)"), "f");
  EXPECT_EQ(SimplifyFunctionName("ns::f(int, char) const"), "ns::f");
  EXPECT_EQ(SimplifyFunctionName("f(int)(char)"), "f");
  EXPECT_EQ(SimplifyFunctionName("(int)"), "");
}

TEST(SimplifyFunctionName, AnonymousNamespaceIsNotAnArgumentList) {
  EXPECT_EQ(SimplifyFunctionName("ns::(anonymous namespace)::f(int)"),
            "ns::(anonymous namespace)::f");
  EXPECT_EQ(SimplifyFunctionName("(anonymous namespace)::g"),
            "(anonymous namespace)::g");
  EXPECT_EQ(SimplifyFunctionName(
                "(anonymous namespace)::(anonymous namespace)::h(void*)"),
            "(anonymous namespace)::(anonymous namespace)::h");
}

TEST(SimplifyFunctionName, CallOperatorIsNotAnArgumentList) {
  EXPECT_EQ(SimplifyFunctionName("operator()(int)"), "operator()");
  EXPECT_EQ(SimplifyFunctionName("Foo::operator()(int) const"),
            "Foo::operator()");
  EXPECT_EQ(SimplifyFunctionName("Foo::operator()"), "Foo::operator()");
  EXPECT_EQ(
      SimplifyFunctionName("(anonymous namespace)::L::operator()(int)"),
      "(anonymous namespace)::L::operator()");
}

TEST(SimplifyFunctionName, FirstOtherParenthesisCutsEvenInsideTemplates) {
  // pprof's simplification is textual: the "(" of "void ()" cuts.
  EXPECT_EQ(SimplifyFunctionName("std::function<void ()>::operator()() const"),
            "std::function<void ");
  EXPECT_EQ(SimplifyFunctionName("operator<(a, b)"), "operator<");
}

// ---------------------------------------------------------------------------
// FramePruner on its own.

TEST(FramePruner, InactiveWithoutDropFrames) {
  EXPECT_FALSE(FramePruner::Create("", "").active());
  EXPECT_FALSE(FramePruner::Create("", "runtime\\..*").active());
  EXPECT_TRUE(FramePruner::Create("runtime\\..*", "").active());
}

TEST(FramePruner, InactiveWithInvalidRegex) {
  EXPECT_FALSE(FramePruner::Create("(", "").active());
  EXPECT_FALSE(FramePruner::Create("a[", "").active());
  EXPECT_FALSE(FramePruner::Create("ok", "(").active());
}

TEST(FramePruner, AddLocationReturnsFirstLineAfterTheOutermostDroppedOne) {
  FramePruner pruner = FramePruner::Create("B", "");
  const std::vector<absl::string_view> keep = {"x", "A"};
  const std::vector<absl::string_view> beneath = {"x", "B", "A"};
  const std::vector<absl::string_view> whole = {"x", "B"};
  const std::vector<absl::string_view> twice = {"B", "y", "B", "A"};
  EXPECT_EQ(pruner.AddLocation(keep), 0u);
  EXPECT_EQ(pruner.AddLocation(beneath), 2u);
  EXPECT_EQ(pruner.AddLocation(whole), 0u);
  EXPECT_EQ(pruner.AddLocation(twice), 3u);  // the outer B is found first
  // Stacks are leaf first; location indices are in AddLocation order.
  const std::vector<uint32_t> stack = {0, 1, 0};  // keep, beneath, keep
  EXPECT_EQ(pruner.KeptFromRoot(stack), 2u);      // root keep + beneath
  const std::vector<uint32_t> stack2 = {0, 2, 0};  // keep, whole, keep
  EXPECT_EQ(pruner.KeptFromRoot(stack2), 1u);
  const std::vector<uint32_t> rootward = {0, 2};  // keep, whole (root)
  EXPECT_EQ(pruner.KeptFromRoot(rootward), 2u);
}

// ---------------------------------------------------------------------------
// Pruning as Decode() applies it.

// (a) A location whose only line is dropped goes, with everything it called.
TEST(DropFrames, DroppedFrameIsRemovedWithEverythingItCalled) {
  ProfileBuilder b = WithDropFrames("B");
  b.Stack({"C", "B", "A", "root"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("A", "root")));
}

TEST(DropFrames, FirstDroppedFrameFromTheRootCuts) {
  // Scanning from the root, the first dropped frame after a kept one cuts;
  // a dropped frame further towards the leaf goes with it.
  ProfileBuilder b = WithDropFrames("B|D");
  b.Stack({"E", "D", "C", "B", "A", "root"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("A", "root")));
}

// (b) A location whose middle line is dropped keeps only its outer lines and
// stays in the stack; what it called goes.
TEST(DropFrames, InlinedDroppedLineCutsTheInnerLinesOfItsLocation) {
  ProfileBuilder b = WithDropFrames("B");
  const uint64_t inlined = b.Location({"x", "B", "A"});
  b.Sample({b.Frame("C"), inlined, b.Frame("root")}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("A", "root")));
}

TEST(DropFrames, DroppedOutermostLineRemovesTheWholeLocation) {
  ProfileBuilder b = WithDropFrames("B");
  const uint64_t inlined = b.Location({"x", "B"});
  b.Sample({b.Frame("C"), inlined, b.Frame("A"), b.Frame("root")}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("A", "root")));
}

TEST(DropFrames, CutLinesStayCutInEverySampleOfTheLocation) {
  // pprof shortens Location.Line itself, so even a sample where the
  // location sits at the root (and is therefore kept whole) loses the
  // lines. Because that location is not a kept frame, nothing beneath it
  // is pruned either: C stays (checked against pprof's Prune).
  ProfileBuilder b = WithDropFrames("B");
  const uint64_t inlined = b.Location({"x", "B", "A"});
  b.Sample({inlined}, {1});
  b.Sample({b.Frame("C"), inlined}, {1});
  EXPECT_THAT(DecodedStacks(b),
              ElementsAre(ElementsAre("A"), ElementsAre("C", "A")));
}

TEST(DropFrames, FlatGoesToTheNewLeafAfterPruning) {
  ProfileBuilder b = WithDropFrames("B");
  const uint64_t inlined = b.Location({"x", "B", "A"});
  b.Sample({b.Frame("C"), inlined, b.Frame("root")}, {1});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  std::vector<uint32_t> locations;
  ASSERT_TRUE(p->ForEachSample([&](const SampleRef& sample) {
                 locations.assign(sample.locations.begin(),
                                  sample.locations.end());
               }).ok());
  ASSERT_EQ(locations.size(), 2u);
  EXPECT_EQ(p->frame_names[p->frames_of_location(locations[0])[0]], "A");
}

// (c) Frames from the root up to the first kept frame are never pruned.
TEST(DropFrames, DroppedFramesAtTheRootAreKept) {
  ProfileBuilder b = WithDropFrames("B");
  b.Stack({"C", "A", "B"}, {1});
  b.Stack({"B"}, {1});
  b.Stack({"C", "B", "B"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "A", "B"),
                                            ElementsAre("B"),
                                            ElementsAre("C", "B", "B")));
}

TEST(DropFrames, SameFunctionIsKeptAtTheRootAndDroppedDeeper) {
  ProfileBuilder b = WithDropFrames("B");
  b.Stack({"C", "B", "A", "B"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("A", "B")));
}

TEST(DropFrames, EverythingDroppedLeavesTheStackWhole) {
  ProfileBuilder b = WithDropFrames(".*");
  b.Stack({"C", "B", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "B", "A")));
}

// (d) keep_frames exempts functions that drop_frames matches.
TEST(DropFrames, KeepFramesExemptsMatchingFunctions) {
  ProfileBuilder b = WithDropFrames("B.*", "Bkeep");
  b.Stack({"C", "Bkeep", "A", "root"}, {1});
  b.Stack({"C", "Bdrop", "A", "root"}, {1});
  EXPECT_THAT(DecodedStacks(b),
              ElementsAre(ElementsAre("C", "Bkeep", "A", "root"),
                          ElementsAre("A", "root")));
}

TEST(DropFrames, KeepFramesAloneDoesNothing) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  b.KeepFrames("A");
  b.Stack({"C", "B", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "B", "A")));
}

// (e) pprof refuses to prune with an invalid expression; so do we.
TEST(DropFrames, InvalidDropFramesPrunesNothing) {
  ProfileBuilder b = WithDropFrames("B(");
  b.Stack({"C", "B(", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "B(", "A")));
}

TEST(DropFrames, InvalidKeepFramesPrunesNothing) {
  ProfileBuilder b = WithDropFrames("B", "[");
  b.Stack({"C", "B", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "B", "A")));
}

// (f) The expression is matched against the simplified name.
TEST(DropFrames, MatchesTheSimplifiedFunctionName) {
  // "main.(*T).m" simplifies to "main.", so only "main\." matches it.
  ProfileBuilder by_prefix = WithDropFrames(R"(main\.)");
  by_prefix.Stack({"leaf", "main.(*T).m", "root"}, {1});
  EXPECT_THAT(DecodedStacks(by_prefix), ElementsAre(ElementsAre("root")));

  ProfileBuilder by_full_name = WithDropFrames(R"(main\.\(\*T\)\.m)");
  by_full_name.Stack({"leaf", "main.(*T).m", "root"}, {1});
  EXPECT_THAT(DecodedStacks(by_full_name),
              ElementsAre(ElementsAre("leaf", "main.(*T).m", "root")));
}

TEST(DropFrames, MatchesCppNamesWithoutTheirArguments) {
  ProfileBuilder b = WithDropFrames(R"(.*::operator\(\)|ns::\(anonymous namespace\)::f|malloc)");
  b.Stack({"leaf1", "Foo::operator()(int) const", "main"}, {1});
  b.Stack({"leaf2", "ns::(anonymous namespace)::f(int)", "main"}, {1});
  b.Stack({"leaf3", ".malloc", "main"}, {1});
  EXPECT_THAT(DecodedStacks(b),
              ElementsAre(ElementsAre("main"), ElementsAre("main"),
                          ElementsAre("main")));
}

TEST(DropFrames, WholeNameMustMatch) {
  ProfileBuilder b = WithDropFrames("B");
  b.Stack({"C", "BB", "A"}, {1});
  b.Stack({"C", "xB", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b), ElementsAre(ElementsAre("C", "BB", "A"),
                                            ElementsAre("C", "xB", "A")));
}

// pprof compiles "^(" + drop_frames + ")$" and searches with it; an
// alternation that escapes the group is anchored on one side only.
TEST(DropFrames, ExpressionIsWrappedExactlyAsPprofWrapsIt) {
  // "^(B)|(D)$": any name starting with B, any name ending with D.
  ProfileBuilder b = WithDropFrames("B)|(D");
  b.Stack({"C", "Bsuffix", "A"}, {1});
  b.Stack({"C", "prefixD", "A"}, {1});
  EXPECT_THAT(DecodedStacks(b),
              ElementsAre(ElementsAre("A"), ElementsAre("A")));
}

TEST(DropFrames, NamelessFunctionsAreNeverDropped) {
  // "B|" also matches the empty name, but pprof skips nameless functions.
  ProfileBuilder b = WithDropFrames("B|");
  const uint64_t nameless = b.LocationOfFunctionIds({b.Function("")});
  b.Sample({b.Frame("C"), nameless, b.Frame("A"), b.Frame("root")}, {1});
  EXPECT_THAT(DecodedStacks(b),
              ElementsAre(ElementsAre("C", "<unknown>", "A", "root")));
}

TEST(DropFrames, PruningDoesNotChangeValuesOrLabels) {
  ProfileBuilder b = WithDropFrames("B");
  b.Stack({"C", "B", "A"}, {42}, {{"service", "svc"}});
  auto p = Decode(b.Raw());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(SampleValues(*p), std::vector<std::vector<int64_t>>{{42}});
  EXPECT_THAT(SampleLabels(*p, 0), ElementsAre("service=svc"));
}

}  // namespace
}  // namespace profile
