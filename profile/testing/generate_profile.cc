#include "profile/testing/generate_profile.h"

#include "profile/deflate.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "profile/profile.pb.h"

namespace profile::testing {
namespace {

namespace pb = ::perftools::profiles;

// ---------------------------------------------------------------------------
// Randomness: splitmix64 and integer-only derived draws. No floating point
// and no <random> distributions, so the output is identical everywhere.

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0 (multiply-shift; its tiny bias is irrelevant).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>(
        (static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Percent(int p) { return Below(100) < static_cast<uint64_t>(p); }
  // Skewed towards the front: P(i) ~ (H(n) - H(i)) / n, so index 0 is about
  // ln(n) times as likely as the average. Makes hot paths.
  uint64_t Skewed(uint64_t n) { return Below(1 + Below(n)); }

 private:
  uint64_t state_;
};

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

template <typename T>
void Shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(i)]);
}

// ---------------------------------------------------------------------------
// Names.

constexpr const char* kOrgs[] = {
    "acme",   "orbit", "lumen",  "nimbus", "quark",  "vertex", "helix",
    "cobalt", "delta", "ember",  "fjord",  "granite", "harbor", "iris",
    "juniper", "kelp", "lattice", "mosaic", "nova",   "onyx",   "prism",
    "quill",  "radix", "sable"};
constexpr const char* kRepos[] = {
    "svc",    "gateway", "ledger", "billing", "search", "ingest", "relay",
    "mesh",   "vault",   "broker", "router",  "cache",  "auth",   "stream",
    "index",  "queue",   "shard",  "batch",   "sched",  "notify", "report",
    "store",  "proxy",   "agent"};
constexpr const char* kPackages[] = {
    "buffer", "codec", "conn",   "engine", "filter", "flow",   "hook",
    "http",   "kv",    "lease",  "log",    "lookup", "metrics", "pool",
    "probe",  "raft",  "ring",   "rpc",    "session", "state", "table",
    "tls",    "trace", "wire"};
constexpr const char* kTypes[] = {
    "Listener", "Map",     "Store",   "Conn",    "Cache",   "Buffer",
    "Engine",   "Server",  "Client",  "Router",  "Watcher", "Stream",
    "Session",  "Table",   "Queue",   "Pool",    "Peer",    "Dialer",
    "Handler",  "Manager", "Tracker", "Resolver", "Encoder", "Decoder"};
constexpr const char* kVerbs[] = {
    "Find",   "Flush",   "Save",    "Read",    "Sync",     "Load",
    "Send",   "Visit",   "Write",   "Close",   "Start",    "Stop",
    "Run",    "Poll",    "Get",     "Put",     "Insert",   "Delete",
    "Update", "Check",   "Apply",   "Match",   "Hash",     "Walk",
    "Handle", "Process", "Reset",   "Refresh", "Lookup",   "Accept",
    "Dial",   "Recv",    "Parse",   "Format",  "Encode",   "Decode",
    "Marshal", "Unmarshal", "Tick", "Loop",    "Merge",    "Next"};
constexpr const char* kComponents[] = {"api",    "auth",   "billing", "ingest",
                                       "search", "storage", "worker"};
constexpr int kNumComponents = 7;
constexpr int kNumServices = 57;

template <typename T, size_t N>
const char* Pick(const T (&words)[N], Rng& rng) {
  return words[rng.Below(N)];
}

std::string Lower(absl::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') out[0] += 'a' - 'A';
  return out;
}

// ---------------------------------------------------------------------------
// The call graph.

struct Function {
  std::string name;
  std::string file;
  int64_t start_line = 0;
};

struct Location {
  uint64_t address = 0;
  std::vector<uint32_t> lines;  // function indices, innermost first
  std::vector<int64_t> line_numbers;
  std::vector<uint32_t> children;  // callee locations, one layer deeper
  int32_t recursion = -1;          // call site of a self-recursive call
};

// A runtime stack fragment, leaf first; each slot offers several locations
// (different PCs in the same function), one of which is drawn per sample.
using Slot = std::vector<uint32_t>;
using Fragment = std::vector<Slot>;

struct SlotDef {
  std::vector<const char*> lines;  // innermost first
  int variants;
};

// Application layers: stacks of up to 54 application frames need 56.
constexpr int kLayers = 56;
constexpr int kRootFunctions = 64;
constexpr int kAppFunctions = 20'800;
constexpr int kAppLocations = 59'700;
constexpr int kLayer0Locations = 128;

class Graph {
 public:
  explicit Graph(uint64_t seed) : rng_(Mix(seed ^ 0x6772617068ULL)) {
    BuildRuntime();
    BuildApplication();
    // The walks in DrawSamples touch only this compact copy of the edges,
    // which stays in cache (the Location objects would not).
    for (const Location& loc : locations) {
      nodes.push_back({static_cast<uint32_t>(child_list.size()),
                       static_cast<uint32_t>(loc.children.size()),
                       loc.recursion});
      child_list.insert(child_list.end(), loc.children.begin(),
                        loc.children.end());
    }
  }

  struct Node {
    uint32_t first_child, num_children;
    int32_t recursion;
  };
  std::vector<Node> nodes;  // by location
  std::vector<uint32_t> child_list;
  absl::Span<const uint32_t> children(uint32_t loc) const {
    return {child_list.data() + nodes[loc].first_child, nodes[loc].num_children};
  }

  std::vector<Function> functions;
  std::vector<Location> locations;
  uint32_t goexit = 0;
  std::vector<uint32_t> roots;
  // Tails hang under an application leaf; stacks are complete.
  std::vector<Fragment> malloc_tails, assist_tails, chan_tails, map_tails,
      misc_tails, gc_stacks, sched_stacks;

 private:
  uint32_t RuntimeFunction(absl::string_view name) {
    auto [it, inserted] = runtime_index_.try_emplace(
        std::string(name), static_cast<uint32_t>(functions.size()));
    if (inserted) {
      // "runtime.(*mcache).refill" -> mcache.go; others by topic.
      std::string file = "/usr/local/go/src/runtime/proc.go";
      if (absl::StrContains(name, "gc") || absl::StrContains(name, "scan") ||
          absl::StrContains(name, "mark") ||
          absl::StrContains(name, "grey") ||
          absl::StrContains(name, "findObject")) {
        file = "/usr/local/go/src/runtime/mgcmark.go";
      } else if (absl::StrContains(name, "sweep")) {
        file = "/usr/local/go/src/runtime/mgcsweep.go";
      } else if (absl::StrContains(name, "malloc") ||
                 absl::StrContains(name, "mcache") ||
                 absl::StrContains(name, "Free") ||
                 absl::StrContains(name, "newobject") ||
                 absl::StrContains(name, "heapBits")) {
        file = "/usr/local/go/src/runtime/malloc.go";
      } else if (absl::StrContains(name, "chan")) {
        file = "/usr/local/go/src/runtime/chan.go";
      } else if (absl::StrContains(name, "map") ||
                 absl::StrContains(name, "hash")) {
        file = "/usr/local/go/src/runtime/map_faststr.go";
      }
      functions.push_back({std::string(name), file, rng_.Range(20, 1800)});
    }
    return it->second;
  }

  uint32_t NewLocation(std::vector<uint32_t> lines) {
    Location loc;
    address_ += static_cast<uint64_t>(rng_.Range(4, 90));
    loc.address = address_;
    for (uint32_t fn : lines) {
      loc.line_numbers.push_back(functions[fn].start_line + rng_.Range(1, 400));
    }
    loc.lines = std::move(lines);
    locations.push_back(std::move(loc));
    return static_cast<uint32_t>(locations.size() - 1);
  }

  Fragment MakeFragment(const std::vector<SlotDef>& defs) {
    Fragment fragment;
    for (const SlotDef& def : defs) {
      std::vector<uint32_t> lines;
      for (const char* name : def.lines) lines.push_back(RuntimeFunction(name));
      Slot slot;
      for (int v = 0; v < def.variants; ++v) slot.push_back(NewLocation(lines));
      fragment.push_back(std::move(slot));
    }
    return fragment;
  }

  void BuildRuntime() {
    address_ = 0x401000;
    goexit = NewLocation({RuntimeFunction("runtime.goexit")});

    auto with = [](std::vector<SlotDef> leaf, std::vector<SlotDef> rest) {
      leaf.insert(leaf.end(), rest.begin(), rest.end());
      return leaf;
    };
    // Allocation: the leaf is where malloc spends its time.
    const std::vector<SlotDef> mallocgc_newobject = {
        {{"runtime.mallocgc"}, 3}, {{"runtime.newobject"}, 2}};
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             with({{{"runtime.heapBitsSetType"}, 24}}, mallocgc_newobject),
             {{{"runtime.heapBitsSetType"}, 12},
              {{"runtime.mallocgc"}, 2},
              {{"runtime.growslice"}, 2}},
             {{{"runtime.nextFreeFast", "runtime.mallocgc"}, 16},
              {{"runtime.newobject"}, 2}},
             {{{"runtime.nextFreeFast", "runtime.mallocgc"}, 8},
              {{"runtime.makeslice"}, 2}},
             {{{"runtime.memclrNoHeapPointers"}, 16},
              {{"runtime.mallocgc"}, 3},
              {{"runtime.makeslice"}, 2}},
             with({{{"runtime.(*mcentral).cacheSpan"}, 8},
                   {{"runtime.(*mcache).refill"}, 2},
                   {{"runtime.(*mcache).nextFree"}, 2}},
                  mallocgc_newobject)}) {
      malloc_tails.push_back(MakeFragment(defs));
    }
    // GC assist: an allocating goroutine pays for marking.
    const std::vector<SlotDef> assist = {
        {{"runtime.gcDrainN"}, 3},         {{"runtime.gcAssistAlloc1"}, 2},
        {{"runtime.gcAssistAlloc.func1"}, 1}, {{"runtime.systemstack"}, 1},
        {{"runtime.gcAssistAlloc"}, 2},    {{"runtime.mallocgc"}, 2},
        {{"runtime.newobject"}, 2}};
    assist_tails.push_back(MakeFragment(with({{{"runtime.scanobject"}, 24}}, assist)));
    assist_tails.push_back(MakeFragment(with(
        {{{"runtime.greyobject"}, 12}, {{"runtime.scanobject"}, 4}}, assist)));
    assist_tails.push_back(MakeFragment(with(
        {{{"runtime.findObject"}, 12}, {{"runtime.scanobject"}, 4}}, assist)));
    // Channels and locks.
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             {{{"runtime.lock2"}, 12},
              {{"runtime.chansend"}, 2},
              {{"runtime.chansend1"}, 2}},
             {{{"runtime.chansend", "runtime.chansend1"}, 12}},
             {{{"runtime.futex"}, 8},
              {{"runtime.futexwakeup"}, 2},
              {{"runtime.unlock2"}, 2},
              {{"runtime.chansend"}, 2},
              {{"runtime.chansend1"}, 2}},
             {{{"runtime.chanrecv"}, 8}, {{"runtime.chanrecv1"}, 2}},
             {{{"runtime.selectgo"}, 12}}}) {
      chan_tails.push_back(MakeFragment(defs));
    }
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             {{{"runtime.aeshashbody"}, 12},
              {{"runtime.mapaccess2_faststr"}, 3}},
             {{{"runtime.mapassign_faststr"}, 16}},
             {{{"runtime.memequal"}, 8}, {{"runtime.mapaccess2_faststr"}, 3}}}) {
      map_tails.push_back(MakeFragment(defs));
    }
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             {{{"runtime.memmove"}, 16}},
             {{{"runtime.memmove"}, 8}, {{"runtime.typedmemmove"}, 2}},
             {{{"runtime.wbBufFlush1"}, 8}, {{"runtime.gcWriteBarrier"}, 2}},
             {{{"runtime.concatstrings"}, 8}},
             {{{"runtime.slicebytetostring"}, 8}}}) {
      misc_tails.push_back(MakeFragment(defs));
    }
    // GC background workers (3-8 locations, root runtime.goexit).
    const std::vector<SlotDef> worker = {
        {{"runtime.gcDrain"}, 4},
        {{"runtime.gcBgMarkWorker.func2"}, 1},
        {{"runtime.systemstack"}, 1},
        {{"runtime.gcBgMarkWorker"}, 2},
        {{"runtime.goexit"}, 1}};
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             with({{{"runtime.scanobject"}, 32}}, worker),
             with({{{"runtime.greyobject"}, 16}, {{"runtime.scanobject"}, 6}},
                  worker),
             with({{{"runtime.findObject"}, 16}, {{"runtime.scanobject"}, 6}},
                  worker),
             with({{{"runtime.scanblock"}, 12},
                   {{"runtime.markrootBlock"}, 2},
                   {{"runtime.markroot"}, 3}},
                  worker),
             {{{"runtime.gcDrain"}, 12},
              {{"runtime.gcBgMarkWorker.func2"}, 1},
              {{"runtime.systemstack"}, 1},
              {{"runtime.gcBgMarkWorker"}, 2},
              {{"runtime.goexit"}, 1}},
             {{{"runtime.(*sweepLocked).sweep"}, 12},
              {{"runtime.sweepone"}, 2},
              {{"runtime.bgsweep"}, 2},
              {{"runtime.goexit"}, 1}},
             {{{"runtime.(*pageAlloc).scavenge"}, 8},
              {{"runtime.bgscavenge"}, 2},
              {{"runtime.goexit"}, 1}}}) {
      gc_stacks.push_back(MakeFragment(defs));
    }
    // Scheduler and system stacks (no goexit: they run on g0).
    const std::vector<SlotDef> park = {{{"runtime.schedule"}, 2},
                                       {{"runtime.park_m"}, 2},
                                       {{"runtime.mcall"}, 1}};
    const std::vector<SlotDef> mstart = {{{"runtime.mstart1"}, 1},
                                         {{"runtime.mstart0"}, 1},
                                         {{"runtime.mstart"}, 1}};
    for (const auto& defs : std::vector<std::vector<SlotDef>>{
             with({{{"runtime.futex"}, 8},
                   {{"runtime.futexsleep"}, 2},
                   {{"runtime.notesleep"}, 2},
                   {{"runtime.stopm"}, 2},
                   {{"runtime.findrunnable"}, 3}},
                  park),
             with({{{"runtime.epollwait"}, 8},
                   {{"runtime.netpoll"}, 2},
                   {{"runtime.findrunnable"}, 3}},
                  park),
             with({{{"runtime.lock2"}, 8}, {{"runtime.findrunnable"}, 3}}, park),
             with({{{"runtime.procyield"}, 8},
                   {{"runtime.runqgrab"}, 2},
                   {{"runtime.findrunnable"}, 3}},
                  park),
             with({{{"runtime.futex"}, 8},
                   {{"runtime.futexwakeup"}, 2},
                   {{"runtime.wakep"}, 2},
                   {{"runtime.resetspinning"}, 2}},
                  park),
             with({{{"runtime.usleep"}, 8}, {{"runtime.sysmon"}, 3}}, mstart),
             with({{{"runtime.nanotime1"}, 4}, {{"runtime.sysmon"}, 2}},
                  mstart)}) {
      sched_stacks.push_back(MakeFragment(defs));
    }
  }

  std::string NewAppFunctionName(absl::string_view package) {
    std::string name;
    const uint64_t form = rng_.Below(100);
    const char* type = Pick(kTypes, rng_);
    const char* verb = Pick(kVerbs, rng_);
    if (form < 45) {
      name = absl::StrCat(package, ".(*", type, ").", verb);
    } else if (form < 52) {
      name = absl::StrCat(package, ".", type, ".", verb);
    } else if (form < 75) {
      name = absl::StrCat(package, ".", Lower(verb), type);
    } else if (form < 90) {
      name = absl::StrCat(package, ".", verb, ".func", rng_.Range(1, 4));
    } else {
      name = absl::StrCat(package, ".", verb, type);
    }
    while (!names_.insert(name).second) {
      // Like the fixture's "parseHandler387": disambiguate with a number.
      name = absl::StrCat(name, rng_.Range(1, 999));
    }
    return name;
  }

  void BuildApplication() {
    // About 400 packages; each function lives in one of them.
    struct Package {
      std::string path, file;
    };
    std::vector<Package> packages;
    absl::flat_hash_set<std::string> package_paths;
    while (packages.size() < 400) {
      const char* last = Pick(kPackages, rng_);
      std::string path = absl::StrCat("github.com/", Pick(kOrgs, rng_), "/",
                                      Pick(kRepos, rng_), "/", last);
      if (!package_paths.insert(path).second) continue;
      std::string file = absl::StrCat(path, "/", last, ".go");
      packages.push_back({std::move(path), std::move(file)});
    }

    // Functions by layer; layer 0 holds the goroutine entry points.
    std::vector<std::vector<uint32_t>> layer_functions(kLayers);
    auto add_function = [&](int layer, std::string name, const std::string& file) {
      functions.push_back({std::move(name), file, rng_.Range(20, 3000)});
      layer_functions[layer].push_back(static_cast<uint32_t>(functions.size() - 1));
    };
    for (int i = 0; i < 16; ++i) {
      std::string name = absl::StrCat("main.handler", i);
      names_.insert(name);
      add_function(0, std::move(name), "/src/svc/main.go");
    }
    for (int i = 16; i < kRootFunctions; ++i) {
      const Package& p = packages[rng_.Below(packages.size())];
      add_function(0, NewAppFunctionName(p.path), p.file);
    }
    const int per_layer = (kAppFunctions - kRootFunctions) / (kLayers - 1);
    for (int layer = 1; layer < kLayers; ++layer) {
      for (int i = 0; i < per_layer; ++i) {
        const Package& p = packages[rng_.Below(packages.size())];
        add_function(layer, NewAppFunctionName(p.path), p.file);
      }
    }

    // Locations: every function gets one call site, the rest are spread at
    // random; 25 % of them inline one callee, 15 % two.
    std::vector<std::vector<uint32_t>> layer_locations(kLayers);
    const int per_layer_locations =
        (kAppLocations - kLayer0Locations) / (kLayers - 1);
    for (int layer = 0; layer < kLayers; ++layer) {
      const std::vector<uint32_t>& fns = layer_functions[layer];
      const int count = layer == 0 ? kLayer0Locations : per_layer_locations;
      for (int i = 0; i < count; ++i) {
        const uint32_t fn = i < static_cast<int>(fns.size())
                                ? fns[i]
                                : fns[rng_.Below(fns.size())];
        std::vector<uint32_t> lines;
        const uint64_t inline_roll = rng_.Below(100);
        const int inlined = inline_roll < 15 ? 2 : inline_roll < 40 ? 1 : 0;
        for (int k = 0; k < inlined; ++k) {
          const int from = std::min<int>(kLayers - 1, layer + 1 + rng_.Below(3));
          const auto& pool = layer_functions[from];
          lines.push_back(pool[rng_.Below(pool.size())]);
        }
        lines.push_back(fn);
        layer_locations[layer].push_back(NewLocation(std::move(lines)));
      }
    }
    // Self-recursive functions: 3 % of the locations below the entry points
    // have a recursive call site that a stack may repeat a few times.
    for (int layer = 1; layer < kLayers; ++layer) {
      for (uint32_t loc : layer_locations[layer]) {
        if (!rng_.Percent(3)) continue;
        const uint32_t fn = locations[loc].lines.back();
        const uint32_t site = NewLocation({fn});
        locations[loc].recursion = static_cast<int32_t>(site);
      }
    }
    // Edges: every location gets at least one caller one layer up, and
    // every caller 2-5 callees, in random order (the first is the hottest).
    for (int layer = 0; layer + 1 < kLayers; ++layer) {
      const auto& callers = layer_locations[layer];
      for (uint32_t callee : layer_locations[layer + 1]) {
        locations[callers[rng_.Below(callers.size())]].children.push_back(
            callee);
      }
      const auto& callees = layer_locations[layer + 1];
      for (uint32_t caller : callers) {
        auto& children = locations[caller].children;
        const size_t want = static_cast<size_t>(rng_.Range(2, 5));
        while (children.size() < want) {
          const uint32_t callee = callees[rng_.Below(callees.size())];
          if (std::find(children.begin(), children.end(), callee) ==
              children.end()) {
            children.push_back(callee);
          }
        }
        Shuffle(children, rng_);
      }
    }
    roots = layer_locations[0];
    Shuffle(roots, rng_);
  }

  Rng rng_;
  uint64_t address_ = 0;
  absl::flat_hash_map<std::string, uint32_t> runtime_index_;
  absl::flat_hash_set<std::string> names_;
};

// ---------------------------------------------------------------------------
// Samples.

// Sample counts: 76 % are 1, 20 % 2..10, and 4 % a heavy (Pareto-like,
// exponent ~0.8) tail from 10 to 50,000, drawn by buckets.
int64_t DrawCount(Rng& rng) {
  const uint64_t roll = rng.Below(1000);
  if (roll < 760) return 1;
  if (roll < 960) return rng.Range(2, 10);
  struct Bucket {
    int64_t lo, hi;
    uint64_t weight;
  };
  static constexpr Bucket kTail[] = {
      {10, 19, 42600},      {20, 49, 29800},       {50, 99, 11800},
      {100, 199, 6750},     {200, 499, 4720},      {500, 999, 1860},
      {1000, 1999, 1070},   {2000, 4999, 750},     {5000, 9999, 295},
      {10000, 19999, 169},  {20000, 49999, 119},   {50000, 50000, 110}};
  uint64_t total = 0;
  for (const Bucket& b : kTail) total += b.weight;
  uint64_t w = rng.Below(total);
  for (const Bucket& b : kTail) {
    if (w < b.weight) return rng.Range(b.lo, b.hi);
    w -= b.weight;
  }
  return 50000;
}

constexpr int64_t kMaxCount = 50'000;
constexpr int64_t kPeriod = 10'000'000;  // 10 ms

// Distinct samples, stored flat. Identical stacks with identical labels are
// merged (values added), as Go's profile builder does.
class SampleSet {
 public:
  explicit SampleSet(size_t expected)
      : set_(0, Hasher{this}, Equal{this}) {
    begin_.reserve(expected + 1);
    begin_.push_back(0);
    labels_.reserve(expected);
    counts_.reserve(expected);
    hashes_.reserve(expected);
    set_.reserve(expected);
  }
  SampleSet(const SampleSet&) = delete;  // set_ points back at this
  SampleSet& operator=(const SampleSet&) = delete;

  size_t size() const { return counts_.size(); }

  // `stack` leaf first; labels as component+1 / service+1 (0: none).
  void Add(const std::vector<uint32_t>& stack, uint16_t component,
           uint16_t service, int64_t count) {
    uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t{component} << 16 | service);
    for (uint32_t loc : stack) h = (h ^ loc) * 0x100000001b3ULL;
    locations_.insert(locations_.end(), stack.begin(), stack.end());
    begin_.push_back(locations_.size());
    labels_.push_back(uint32_t{component} << 16 | service);
    counts_.push_back(count);
    hashes_.push_back(Mix(h));
    auto [it, inserted] = set_.insert(static_cast<uint32_t>(counts_.size() - 1));
    if (inserted) return;
    int64_t& merged = counts_[*it];
    merged = std::min(kMaxCount, merged + count);
    locations_.resize(begin_[begin_.size() - 2]);
    begin_.pop_back();
    labels_.pop_back();
    counts_.pop_back();
    hashes_.pop_back();
  }

  absl::Span<const uint32_t> stack(size_t i) const {
    return {locations_.data() + begin_[i], begin_[i + 1] - begin_[i]};
  }
  uint16_t component(size_t i) const { return labels_[i] >> 16; }
  uint16_t service(size_t i) const { return labels_[i] & 0xffff; }
  int64_t count(size_t i) const { return counts_[i]; }
  const std::vector<uint32_t>& all_locations() const { return locations_; }

 private:
  struct Hasher {
    const SampleSet* s;
    size_t operator()(uint32_t i) const { return s->hashes_[i]; }
  };
  struct Equal {
    const SampleSet* s;
    bool operator()(uint32_t a, uint32_t b) const {
      return s->hashes_[a] == s->hashes_[b] && s->labels_[a] == s->labels_[b] &&
             s->stack(a) == s->stack(b);
    }
  };

  std::vector<uint32_t> locations_;
  std::vector<uint64_t> begin_;
  std::vector<uint32_t> labels_;
  std::vector<int64_t> counts_;
  std::vector<uint64_t> hashes_;
  absl::flat_hash_set<uint32_t, Hasher, Equal> set_;
};

void AppendFragment(const Fragment& fragment, Rng& rng,
                    std::vector<uint32_t>& leaf_first) {
  for (const Slot& slot : fragment) {
    leaf_first.push_back(slot[rng.Below(slot.size())]);
  }
}

const Fragment& PickFragment(const std::vector<Fragment>& fragments, Rng& rng) {
  return fragments[rng.Skewed(fragments.size())];
}

// How many recent application stacks new ones may branch off, and how often.
constexpr uint64_t kRecent = 32;
constexpr int kSharePercent = 75;

void DrawSamples(const Graph& g, int64_t n, uint64_t seed, SampleSet& out) {
  Rng rng(Mix(seed ^ 0x73616d706c6573ULL));
  std::vector<uint32_t> app;    // root first
  std::vector<uint32_t> stack;  // leaf first
  std::vector<std::vector<uint32_t>> recent(kRecent);  // last app stacks
  uint64_t drawn = 0;
  while (static_cast<int64_t>(out.size()) < n) {
    stack.clear();
    const int64_t count = DrawCount(rng);
    const uint64_t kind = rng.Below(100);
    if (kind < 4) {  // GC background worker
      AppendFragment(PickFragment(g.gc_stacks, rng), rng, stack);
      out.Add(stack, 0, 0, count);
      continue;
    }
    if (kind < 8) {  // scheduler / system
      AppendFragment(PickFragment(g.sched_stacks, rng), rng, stack);
      out.Add(stack, 0, 0, count);
      continue;
    }
    // Application: a walk down the layered graph, then maybe a runtime tail.
    // Most goroutines continue a recently drawn one's stack from some frame
    // on (a hot request path branching into different leaves), so stacks
    // share long prefixes with their neighbours, as in a real profile.
    app.clear();
    const size_t depth = static_cast<size_t>(rng.Range(9, 52));
    uint32_t loc;
    std::vector<uint32_t>& slot = recent[drawn % kRecent];
    const std::vector<uint32_t>& prev = recent[rng.Below(kRecent)];
    if (prev.size() >= 2 && rng.Percent(kSharePercent)) {
      size_t keep = std::min<size_t>(depth - 1, rng.Range(1, prev.size() - 1));
      // Cut back to a frame that calls further (not a recursion site).
      while (keep > 1 && g.nodes[prev[keep - 1]].num_children == 0) --keep;
      app.assign(prev.begin(), prev.begin() + keep);
      const auto children = g.children(app.back());
      loc = children.empty() ? g.roots[rng.Skewed(g.roots.size())]
                             : children[rng.Skewed(children.size())];
      if (children.empty()) app.clear();
    } else {
      loc = g.roots[rng.Skewed(g.roots.size())];
    }
    for (;;) {
      app.push_back(loc);
      const Graph::Node& l = g.nodes[loc];
      if (l.recursion >= 0 && rng.Percent(40)) {
        for (int r = static_cast<int>(rng.Range(1, 4));
             r > 0 && app.size() < depth; --r) {
          app.push_back(static_cast<uint32_t>(l.recursion));
        }
      }
      if (app.size() >= depth || l.num_children == 0) break;
      loc = g.child_list[l.first_child + rng.Skewed(l.num_children)];
    }
    slot = app;
    ++drawn;
    const uint32_t root = app[0];
    const uint64_t tail = rng.Below(100);
    if (tail < 18) {
      AppendFragment(PickFragment(g.malloc_tails, rng), rng, stack);
    } else if (tail < 20) {
      AppendFragment(PickFragment(g.assist_tails, rng), rng, stack);
    } else if (tail < 26) {
      AppendFragment(PickFragment(g.chan_tails, rng), rng, stack);
    } else if (tail < 32) {
      AppendFragment(PickFragment(g.map_tails, rng), rng, stack);
    } else if (tail < 38) {
      AppendFragment(PickFragment(g.misc_tails, rng), rng, stack);
    }
    stack.insert(stack.end(), app.rbegin(), app.rend());
    stack.push_back(g.goexit);
    // Labels follow the goroutine: the service from its entry point, the
    // component from the first layer below it.
    uint16_t service = 0, component = 0;
    if (rng.Percent(80)) {
      service = static_cast<uint16_t>(1 + (root * 5 + rng.Below(2)) % kNumServices);
    }
    if (app.size() > 1 && rng.Percent(50)) {
      component = static_cast<uint16_t>(1 + app[1] % kNumComponents);
    }
    out.Add(stack, component, service, count);
  }
}

// ---------------------------------------------------------------------------
// Encoding.

class StringTable {
 public:
  StringTable() { Index(""); }
  int64_t Index(absl::string_view s) {
    auto [it, inserted] = index_.try_emplace(std::string(s), strings_.size());
    if (inserted) strings_.emplace_back(s);
    return it->second;
  }
  std::vector<std::string>& strings() { return strings_; }

 private:
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, int64_t> index_;
};

void AppendVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string Encode(const Graph& g, const SampleSet& samples) {
  // Only what the samples use goes into the tables, ids dense in graph order
  // (which is address order), as in a real profile.
  std::vector<uint64_t> location_id(g.locations.size(), 0);
  for (uint32_t loc : samples.all_locations()) location_id[loc] = 1;
  std::vector<uint64_t> function_id(g.functions.size(), 0);
  uint64_t next_location = 0;
  for (size_t l = 0; l < g.locations.size(); ++l) {
    if (location_id[l] == 0) continue;
    location_id[l] = ++next_location;
    for (uint32_t fn : g.locations[l].lines) function_id[fn] = 1;
  }
  uint64_t next_function = 0;
  for (uint64_t& id : function_id) {
    if (id != 0) id = ++next_function;
  }

  StringTable strings;
  pb::Profile head;
  auto* samples_type = head.add_sample_type();
  samples_type->set_type(strings.Index("samples"));
  samples_type->set_unit(strings.Index("count"));
  auto* cpu_type = head.add_sample_type();
  cpu_type->set_type(strings.Index("cpu"));
  cpu_type->set_unit(strings.Index("nanoseconds"));
  const int64_t component_key = strings.Index("component");
  std::vector<int64_t> component_value;
  for (const char* c : kComponents) component_value.push_back(strings.Index(c));
  const int64_t service_key = strings.Index("service");
  std::vector<int64_t> service_value;
  for (int s = 0; s < kNumServices; ++s) {
    service_value.push_back(strings.Index(absl::StrCat("svc-", s)));
  }

  std::string out;
  out.reserve(samples.all_locations().size() * 3 + samples.size() * 40 +
              (size_t{8} << 20));
  head.AppendToString(&out);

  pb::Sample sample;
  for (size_t i = 0; i < samples.size(); ++i) {
    sample.Clear();
    for (uint32_t loc : samples.stack(i)) sample.add_location_id(location_id[loc]);
    sample.add_value(samples.count(i));
    sample.add_value(samples.count(i) * kPeriod);
    if (const uint16_t c = samples.component(i)) {
      auto* label = sample.add_label();
      label->set_key(component_key);
      label->set_str(component_value[c - 1]);
    }
    if (const uint16_t s = samples.service(i)) {
      auto* label = sample.add_label();
      label->set_key(service_key);
      label->set_str(service_value[s - 1]);
    }
    const size_t size = sample.ByteSizeLong();
    out.push_back(0x12);  // field 2 (sample), length-delimited
    AppendVarint(size, out);
    const size_t at = out.size();
    out.resize(at + size);
    sample.SerializeWithCachedSizesToArray(
        reinterpret_cast<uint8_t*>(out.data() + at));
  }

  pb::Profile tail;
  pb::Mapping* mapping = tail.add_mapping();
  mapping->set_id(1);
  mapping->set_memory_start(0x400000);
  mapping->set_memory_limit(0x4400000);
  mapping->set_filename(strings.Index("/usr/local/bin/svc"));
  mapping->set_build_id(strings.Index("5f1a3c9e0b7d42e8a6c4d2b0f8e6a4c2"));
  mapping->set_has_functions(true);
  mapping->set_has_filenames(true);
  mapping->set_has_line_numbers(true);
  mapping->set_has_inline_frames(true);
  for (size_t l = 0; l < g.locations.size(); ++l) {
    if (location_id[l] == 0) continue;
    const Location& loc = g.locations[l];
    pb::Location* out_loc = tail.add_location();
    out_loc->set_id(location_id[l]);
    out_loc->set_mapping_id(1);
    out_loc->set_address(loc.address);
    for (size_t k = 0; k < loc.lines.size(); ++k) {
      pb::Line* line = out_loc->add_line();
      line->set_function_id(function_id[loc.lines[k]]);
      line->set_line(loc.line_numbers[k]);
    }
  }
  for (size_t f = 0; f < g.functions.size(); ++f) {
    if (function_id[f] == 0) continue;
    const Function& fn = g.functions[f];
    pb::Function* out_fn = tail.add_function();
    out_fn->set_id(function_id[f]);
    const int64_t name = strings.Index(fn.name);
    out_fn->set_name(name);
    out_fn->set_system_name(name);
    out_fn->set_filename(strings.Index(fn.file));
    out_fn->set_start_line(fn.start_line);
  }
  for (std::string& s : strings.strings()) tail.add_string_table(std::move(s));
  tail.set_time_nanos(1'700'000'000'000'000'000);
  tail.set_duration_nanos(3'600'000'000'000);
  tail.mutable_period_type()->set_type(cpu_type->type());
  tail.mutable_period_type()->set_unit(cpu_type->unit());
  tail.set_period(kPeriod);
  tail.AppendToString(&out);
  return out;
}


}  // namespace

std::string GenerateCpuProfile(const GeneratorOptions& options) {
  const Graph graph(options.seed);
  const int64_t n = options.samples * std::max(1, options.scale);
  std::string raw;
  {
    SampleSet samples(static_cast<size_t>(n));
    DrawSamples(graph, n, options.seed, samples);
    raw = Encode(graph, samples);
  }
  // Level 1, as Go's runtime/pprof writes profiles.
  return options.gzip ? Gzip(raw, 1) : raw;
}

}  // namespace profile::testing
