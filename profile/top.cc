#include "profile/top.h"

#include <algorithm>
#include <string>

namespace profile {
namespace {

absl::int128 Abs(absl::int128 v) { return v < 0 ? -v : v; }

template <typename Key>
std::vector<FunctionShare> Top(const Profile& profile,
                               const FunctionTable& table, size_t n,
                               Key key) {
  std::vector<const FunctionValue*> order;
  order.reserve(table.functions.size());
  for (const FunctionValue& f : table.functions) order.push_back(&f);
  auto before = [&](const FunctionValue* a, const FunctionValue* b) {
    const absl::int128 ka = Abs(key(*a)), kb = Abs(key(*b));
    if (ka != kb) return ka > kb;
    return profile.frame_names[a->frame] < profile.frame_names[b->frame];
  };
  n = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + n, order.end(), before);
  std::vector<FunctionShare> top;
  top.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const FunctionValue& f = *order[i];
    top.push_back({std::string(profile.frame_names[f.frame]), f.flat, f.cum,
                   Ratio(f.flat, table.total), Ratio(f.cum, table.total)});
  }
  return top;
}

}  // namespace

double Ratio(absl::int128 value, absl::int128 total) {
  if (total == 0) return 0;
  return static_cast<double>(value) / static_cast<double>(total);
}

FunctionTabulator::FunctionTabulator(const Profile& profile, int sample_index)
    : FunctionTabulator(profile, sample_index, LocationFrames(profile)) {}

FunctionTabulator::FunctionTabulator(
    const Profile& profile, int sample_index,
    std::shared_ptr<const std::vector<uint32_t>> location_frame)
    : profile_(profile),
      sample_index_(sample_index),
      location_frame_(std::move(location_frame)),
      flat_(profile.frame_names.size()),
      cum_(profile.frame_names.size()) {
  table_.sums.assign(profile.sample_types.size(), 0);
}

std::shared_ptr<const std::vector<uint32_t>> FunctionTabulator::LocationFrames(
    const Profile& profile) {
  auto location_frame = std::make_shared<std::vector<uint32_t>>(
      profile.num_locations(), kNotOneFrame);
  for (uint32_t loc = 0; loc < profile.num_locations(); ++loc) {
    const auto frames = profile.frames_of_location(loc);
    if (frames.size() == 1) (*location_frame)[loc] = frames[0];
  }
  return location_frame;
}

FunctionTabulator FunctionTabulator::ForAnotherShard() const {
  return FunctionTabulator(profile_, sample_index_, location_frame_);
}

void FunctionTabulator::Carry(uint32_t frame, int64_t value) {
  if (cum_carry_.empty()) cum_carry_.resize(cum_.size());
  // The 64-bit sum wrapped around by 2^64 in the direction of `value`.
  const absl::int128 wrap = absl::MakeInt128(1, 0);
  cum_carry_[frame] += value > 0 ? wrap : -wrap;
}

void FunctionTabulator::Add(const SampleRef& sample) {
  for (size_t i = 0; i < sample.values.size(); ++i) {
    table_.sums[i] += sample.values[i];
  }
  const int64_t v = sample.values[sample_index_];
  if (v == 0) return;
  table_.total += Abs(v);
  ++stamp_;
  // flat: the first frame on the stack.
  for (uint32_t loc : sample.locations) {
    const auto frames = profile_.frames_of_location(loc);
    if (frames.empty()) continue;
    flat_[frames[0]] += v;
    break;
  }
  const uint32_t* const location_frame = location_frame_->data();
  for (uint32_t loc : sample.locations) {
    const uint32_t frame = location_frame[loc];
    if (frame != kNotOneFrame) {
      AddCum(frame, v);
      continue;
    }
    for (uint32_t f : profile_.frames_of_location(loc)) AddCum(f, v);
  }
}

void FunctionTabulator::Merge(FunctionTabulator&& other) {
  table_.total += other.table_.total;
  for (size_t i = 0; i < table_.sums.size(); ++i) {
    table_.sums[i] += other.table_.sums[i];
  }
  // A frame counted there is counted here too; with a stamp that no later
  // Add() uses (it increments stamp_ first), and that is not 0.
  if (stamp_ == 0) stamp_ = 1;
  if (!other.cum_carry_.empty() && cum_carry_.empty()) {
    cum_carry_.resize(cum_.size());
  }
  for (uint32_t f = 0; f < cum_.size(); ++f) {
    flat_[f] += other.flat_[f];
    const CumSum& theirs = other.cum_[f];
    if (theirs.stamp == 0) continue;
    CumSum& ours = cum_[f];
    if (ours.stamp == 0) ours.stamp = stamp_;
    if (__builtin_add_overflow(ours.cum, theirs.cum, &ours.cum)) {
      Carry(f, theirs.cum);
    }
    if (!other.cum_carry_.empty()) cum_carry_[f] += other.cum_carry_[f];
  }
}

FunctionTable FunctionTabulator::Finish() && {
  // Sized exactly, and the per-location table freed first: for a large
  // profile this is the moment of peak memory.
  location_frame_ = {};
  size_t counted = 0;
  for (const CumSum& sum : cum_) counted += sum.stamp != 0;
  table_.functions.reserve(counted);
  for (uint32_t f = 0; f < flat_.size(); ++f) {
    if (cum_[f].stamp == 0) continue;
    absl::int128 cum = cum_[f].cum;
    if (!cum_carry_.empty()) cum += cum_carry_[f];
    table_.functions.push_back({f, flat_[f], cum});
  }
  return std::move(table_);
}

absl::StatusOr<FunctionTable> TabulateFunctions(const Profile& profile,
                                                int sample_index) {
  FunctionTabulator tabulator(profile, sample_index);
  if (auto s = profile.ForEachSample(
          [&](const SampleRef& sample) { tabulator.Add(sample); });
      !s.ok()) {
    return s;
  }
  return std::move(tabulator).Finish();
}

std::vector<FunctionShare> TopByFlat(const Profile& profile,
                                     const FunctionTable& table, size_t n) {
  return Top(profile, table, n, [](const FunctionValue& f) { return f.flat; });
}

std::vector<FunctionShare> TopByCum(const Profile& profile,
                                    const FunctionTable& table, size_t n) {
  return Top(profile, table, n, [](const FunctionValue& f) { return f.cum; });
}

}  // namespace profile
