// Command gen_profiles writes small synthetic pprof profiles for the CLI
// tests:
//
//   - escape-cpu.pb.gz, escape-goroutine.pb.gz: function names and label
//     values that need escaping in the Prometheus text format (quote,
//     backslash, newline, tab, spaces, non-ASCII, a very long name), plus
//     escape.json with the names and values a reduction must report;
//   - prune-cpu.pb.gz: drop_frames/keep_frames with pprof's pruning corner
//     cases (dropped root, inlined dropped frame, keep_frames, a method name
//     that simplifyFunc cuts at its first '(');
//   - shapes-cpu.pb.gz: recursion, inlined recursion, a function both
//     inlined and called, several lines of one location naming one function;
//   - gperftools-heap.pb.gz: a C++ heap profile as gperftools writes it
//     (sample types objects/count and space/bytes, in-use values only).
//
// The prune, shapes and gperftools profiles have no expected values: pprof_compare_test
// compares our reduction of them with `go tool pprof -top`.
//
// Builds in GOPATH mode against Debian's golang-github-google-pprof-dev
// (GOPATH=/usr/share/gocode, GO111MODULE=off):
//
//	go run gen_profiles.go OUTDIR
package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/pprof/profile"
)

// Leaf functions of the CPU profile; sample i has (len-i)*3 samples, so
// flat values are distinct and the order is fixed.
var names = []string{
	`main.quote"inside`,
	`main.back\slash`,
	`main.trailing\`,
	"main.new\nline",
	"main.with spaces and (parens)",
	"main.ünïcödé.日本語.😀",
	"main.tab\there",
	`main.\"already escaped\\n`,
	"github.com/example/very/long/module/path/v2/internal/pkg." + strings.Repeat("LongFunctionName", 20),
	"main.(*T[go.shape.struct { a int; b string }]).Method",
	`}{,="=`,
}

// Label values of the goroutine profile's "service" label.
var services = []string{
	`svc "quoted"`,
	`svc\back`,
	"svc\nnewline",
	"svc-ünï-日本",
	"svc plain",
}

type expected struct {
	CPUTotal   int64             `json:"cpu_total_nanos"`
	Flat       map[string]int64  `json:"flat_nanos"` // includes the mapping-only and unknown frames
	Cum        map[string]int64  `json:"cum_nanos"`
	Goroutines int64             `json:"goroutines"`
	Services   map[string]int64  `json:"services"`
	Names      []string          `json:"names"`
	Extra      map[string]string `json:"extra"`
}

func main() {
	out := os.Args[1]
	exp := expected{Flat: map[string]int64{}, Cum: map[string]int64{}, Services: map[string]int64{},
		Names: names, Extra: map[string]string{}}

	// --- CPU profile ---
	mapping := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x800000,
		File: `/opt/weird dir/svc"bin`, HasFunctions: true}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10000000,
		DurationNanos: 1000000000,
		TimeNanos:     1700000000000000000,
		Mapping:       []*profile.Mapping{mapping},
	}
	var nextID uint64 = 1
	fn := func(name string) *profile.Location {
		f := &profile.Function{ID: nextID, Name: name, SystemName: name, Filename: "weird.go"}
		l := &profile.Location{ID: nextID, Mapping: mapping, Address: 0x400000 + nextID*16,
			Line: []profile.Line{{Function: f, Line: int64(nextID)}}}
		nextID++
		p.Function = append(p.Function, f)
		p.Location = append(p.Location, l)
		return l
	}
	root := fn("main.main")
	const period = 10000000
	add := func(leaf *profile.Location, name string, count int64) {
		p.Sample = append(p.Sample, &profile.Sample{
			Location: []*profile.Location{leaf, root},
			Value:    []int64{count, count * period},
		})
		exp.Flat[name] += count * period
		exp.Cum[name] += count * period
		exp.Cum["main.main"] += count * period
		exp.CPUTotal += count * period
	}
	for i, name := range names {
		add(fn(name), name, int64(len(names)-i)*3)
	}
	// A location without lines: named after the mapping file's basename.
	noLines := &profile.Location{ID: nextID, Mapping: mapping, Address: 0x400000 + nextID*16}
	nextID++
	p.Location = append(p.Location, noLines)
	add(noLines, `[svc"bin]`, 2)
	exp.Extra["mapping_frame"] = `[svc"bin]`
	// Neither lines nor mapping.
	unknown := &profile.Location{ID: nextID, Address: 0x10}
	nextID++
	p.Location = append(p.Location, unknown)
	add(unknown, "<unknown>", 1)
	exp.Extra["unknown_frame"] = "<unknown>"
	exp.Flat["main.main"] = 0
	write(p, filepath.Join(out, "escape-cpu.pb.gz"))

	// --- goroutine profile with odd label values ---
	nextID = 1
	g := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "goroutine", Unit: "count"}},
		PeriodType: &profile.ValueType{Type: "goroutine", Unit: "count"},
		Period:     1,
		Mapping:    []*profile.Mapping{mapping},
	}
	p = g
	gopark := fn("runtime.gopark")
	worker := fn("main.worker")
	for i, svc := range services {
		n := int64(i + 1)
		g.Sample = append(g.Sample, &profile.Sample{
			Location: []*profile.Location{gopark, worker},
			Value:    []int64{n},
			Label:    map[string][]string{"service": {svc}},
		})
		exp.Services[svc] = n
		exp.Goroutines += n
	}
	write(g, filepath.Join(out, "escape-goroutine.pb.gz"))

	write(pruneProfile(mapping), filepath.Join(out, "prune-cpu.pb.gz"))
	write(shapesProfile(mapping), filepath.Join(out, "shapes-cpu.pb.gz"))
	write(gperftoolsHeapProfile(mapping), filepath.Join(out, "gperftools-heap.pb.gz"))

	data, err := json.MarshalIndent(exp, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(out, "escape.json"), data, 0o644))
}

// builder makes CPU profiles from stacks written leaf first, each frame a
// location; a frame "a|b|c" is one location with inlined lines a (innermost),
// b, c (outermost); "" is a location without lines.
type builder struct {
	p       *profile.Profile
	mapping *profile.Mapping
	funcs   map[string]*profile.Function
	locs    map[string]*profile.Location
}

func newCPUBuilder(mapping *profile.Mapping) *builder {
	return &builder{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
			PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
			Period:        10000000,
			DurationNanos: 2000000000,
			Mapping:       []*profile.Mapping{mapping},
		},
		mapping: mapping,
		funcs:   map[string]*profile.Function{},
		locs:    map[string]*profile.Location{},
	}
}

func (b *builder) fn(name string) *profile.Function {
	if f, ok := b.funcs[name]; ok {
		return f
	}
	f := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name, SystemName: name,
		Filename: "gen.go"}
	b.funcs[name] = f
	b.p.Function = append(b.p.Function, f)
	return f
}

func (b *builder) loc(frame string) *profile.Location {
	if l, ok := b.locs[frame]; ok {
		return l
	}
	id := uint64(len(b.p.Location) + 1)
	l := &profile.Location{ID: id, Mapping: b.mapping, Address: 0x400000 + id*16}
	if frame != "" {
		for i, name := range strings.Split(frame, "|") {
			l.Line = append(l.Line, profile.Line{Function: b.fn(name), Line: int64(10*id) + int64(i)})
		}
	}
	b.locs[frame] = l
	b.p.Location = append(b.p.Location, l)
	return l
}

func (b *builder) sample(count int64, frames ...string) {
	s := &profile.Sample{Value: []int64{count, count * b.p.Period}}
	for _, f := range frames {
		s.Location = append(s.Location, b.loc(f))
	}
	b.p.Sample = append(b.p.Sample, s)
}

func pruneProfile(mapping *profile.Mapping) *profile.Profile {
	b := newCPUBuilder(mapping)
	// Anchored by pprof as ^(...)$ and matched against simplifyFunc(name).
	b.p.DropFrames = `runtime\.mallocgc|main\.drop.*|main\.`
	b.p.KeepFrames = `main\.dropButKeep`
	b.sample(11, "runtime.memclr", "runtime.mallocgc", "main.alloc", "main.main")
	b.sample(13, "runtime.mallocgc", "main.alloc2", "main.main")
	// Dropped frame at the root: pprof keeps the stack as is.
	b.sample(17, "main.work", "runtime.mallocgc")
	// Only dropped frames.
	b.sample(5, "runtime.mallocgc")
	// A dropped function inlined in the middle of a location.
	b.sample(19, "runtime.x", "main.inner|main.dropMe|main.outer", "main.main")
	// keep_frames wins over drop_frames.
	b.sample(23, "runtime.y", "main.dropButKeep", "main.main")
	// simplifyFunc("main.(*T).Method") == "main.", which drop_frames matches.
	b.sample(29, "runtime.z", "main.(*T).Method", "main.caller", "main.main")
	// Two dropped frames: the outermost decides.
	b.sample(31, "main.leaf", "main.dropInner", "main.mid", "main.dropOuter", "main.top", "main.main")
	// Dropped frame as the innermost line of an inlined location.
	b.sample(37, "main.dropTail|main.keeper", "main.main")
	// Locations without lines and with unnamed functions are never dropped.
	b.sample(41, "", "main.dropZ", "main.main")
	b.sample(43, "|main.unnamedCaller", "main.main")
	// Same leaf, several stacks.
	b.sample(47, "runtime.memclr", "main.alloc", "main.main")
	return b.p
}

func shapesProfile(mapping *profile.Mapping) *profile.Profile {
	b := newCPUBuilder(mapping)
	b.sample(7, "main.rec", "main.rec", "main.rec", "main.main")
	b.sample(5, "main.a|main.a|main.b", "main.b", "main.main")
	b.sample(3, "main.helper", "main.b|main.helper", "main.main")
	b.sample(9, "main.helper|main.c", "main.c", "main.main")
	b.sample(9, "main.d", "main.main")
	b.sample(9, "main.e", "main.main")
	b.sample(2, "main.main")
	b.sample(0, "main.zero", "main.main") // value 0: ignored by pprof
	b.sample(4, "main.mutual1", "main.mutual2", "main.mutual1", "main.main")
	return b.p
}

// gperftoolsHeapProfile: in-use objects and bytes under gperftools' names,
// which pprof's legacy heap parser also gives them; `go tool pprof` shows
// "space" by default, as the in-use bytes.
func gperftoolsHeapProfile(mapping *profile.Mapping) *profile.Profile {
	b := newCPUBuilder(mapping)
	b.p.SampleType = []*profile.ValueType{{Type: "objects", Unit: "count"}, {Type: "space", Unit: "bytes"}}
	b.p.PeriodType = &profile.ValueType{Type: "space", Unit: "bytes"}
	b.p.Period = 524288
	b.p.DurationNanos = 0
	for _, s := range []struct {
		objects, bytes int64
		frames         []string
	}{
		{3, 3 << 20, []string{"tcmalloc::allocate", "Vector::Grow", "Cache::Insert", "main"}},
		{1, 5 << 20, []string{"tcmalloc::allocate", "operator new", "Arena::Grow", "Cache::Insert", "main"}},
		{40, 40 * 1024, []string{"operator new", "Request::Parse", "Server::Handle", "main"}},
		{7, 700 * 1024, []string{"Vector::Grow", "Server::Handle", "main"}},
		{2, 2 << 20, []string{"tcmalloc::allocate", "operator new", "Arena::Grow", "Server::Handle", "main"}},
		{0, 0, []string{"Idle::Nothing", "main"}}, // value 0: ignored by pprof
	} {
		sample := &profile.Sample{Value: []int64{s.objects, s.bytes}}
		for _, f := range s.frames {
			sample.Location = append(sample.Location, b.loc(f))
		}
		b.p.Sample = append(b.p.Sample, sample)
	}
	return b.p
}

func write(p *profile.Profile, path string) {
	check(p.CheckValid())
	f, err := os.Create(path)
	check(err)
	check(p.Write(f)) // gzipped
	check(f.Close())
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
