#include "profile/prune.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "profile/options.h"
#include "absl/strings/str_cat.h"

namespace profile {

absl::string_view SimplifyFunctionName(absl::string_view name) {
  absl::ConsumePrefix(&name, ".");
  static constexpr absl::string_view kReserved[] = {"(anonymous namespace)",
                                                     "operator()"};
  for (size_t i = 0; i < name.size();) {
    bool skipped = false;
    for (absl::string_view reserved : kReserved) {
      if (absl::StartsWith(name.substr(i), reserved)) {
        i += reserved.size();
        skipped = true;
        break;
      }
    }
    if (skipped) continue;
    if (name[i] == '(') return name.substr(0, i);
    ++i;
  }
  return name;
}

FramePruner FramePruner::Create(absl::string_view drop_frames,
                                absl::string_view keep_frames) {
  FramePruner pruner;
  if (drop_frames.empty()) return pruner;
  // Exactly pprof's wrapping, ^(expr)$, searched for: an expression that
  // closes the group itself ("a)|(b") must behave as it does in pprof.
  auto drop = std::make_shared<RE2>(absl::StrCat("^(", drop_frames, ")$"),
                                    RE2::Quiet);
  if (!drop->ok()) return pruner;
  if (!keep_frames.empty()) {
    auto keep = std::make_shared<RE2>(
        absl::StrCat("^(", keep_frames, ")$"), RE2::Quiet);
    if (!keep->ok()) return pruner;
    pruner.keep_ = std::move(keep);
  }
  pruner.drop_ = std::move(drop);
  return pruner;
}

bool FramePruner::Drops(absl::string_view function_name) const {
  const absl::string_view simple = SimplifyFunctionName(function_name);
  const re2::StringPiece text(simple.data(), simple.size());
  return RE2::PartialMatch(text, *drop_) &&
         (keep_ == nullptr || !RE2::PartialMatch(text, *keep_));
}

size_t FramePruner::AddLocation(
    absl::Span<const absl::string_view> line_names) {
  if (!active()) return 0;
  // Search from the outermost line inwards for the first dropped function.
  for (size_t i = line_names.size(); i-- > 0;) {
    if (line_names[i].empty() || !Drops(line_names[i])) continue;
    if (i == line_names.size() - 1) {
      state_.push_back(kPrune);  // the whole location goes; lines stay
      return 0;
    }
    state_.push_back(kPruneBeneath);
    return i + 1;  // keep only the callers of the dropped function
  }
  state_.push_back(kKeep);
  return 0;
}

size_t FramePruner::KeptFromRoot(absl::Span<const uint32_t> stack) const {
  if (!active()) return stack.size();
  bool found_user_frame = false;
  for (size_t i = stack.size(); i-- > 0;) {
    const State state = state_[stack[i]];
    if (state == kKeep) {
      found_user_frame = true;
      continue;
    }
    if (!found_user_frame) continue;
    return state == kPrune ? stack.size() - i - 1 : stack.size() - i;
  }
  return stack.size();
}

}  // namespace profile
