// Command go_crosscheck checks tests/corpus/EXPECTED against Go's pprof
// library (github.com/google/pprof/profile, what `go tool pprof` reads
// profiles with), so that the expectations are not only what our own code
// produced:
//
//   - `ok` entries: the file must parse, and every figure Go can compute
//     must equal ours: samples, locations, functions, sample_types,
//     sum.TYPE, KIND.top_flat / KIND.top_cum (first function and value,
//     by |value| then name), cpu.gc_value, goroutine.goroutines /
//     .services / .by_function, with the rules of tests/testdata/README.md
//     after drop_frames (RemoveUninteresting, as pprof's driver applies
//     it). Values are summed exactly (math/big). `kind`, `reduces` and
//     `KIND.error` are our classification, not pprof's, and are skipped.
//   - `error` entries: Go must refuse the file too.
//   - `bounded` entries are skipped.
//
// Where Go's pprof differs, a comment line in the block right above the
// entry must say so, starting "# Go's pprof", and name the difference:
// "wraps" (a figure is beyond int64: pprof sums in int64 and shows a
// wrapped number; the exact value is still compared), "accepts" (an error
// entry that Go parses) or "refuses" (an ok entry that Go cannot parse).
// A note whose difference does not occur fails too, so notes stay true.
//
// Builds in GOPATH mode against Debian's golang-github-google-pprof-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go run go_crosscheck.go EXPECTED INPUTS_DIR
package main

import (
	"bufio"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

const gcPattern = `^runtime\.(gcBgMarkWorker|gcAssistAlloc|gcAssistAlloc1|gcDrain|gcDrainN|gcMarkDone|gcMarkTermination|gcStart|gcSweep|bgsweep|bgscavenge|markroot|scanobject|sweepone)$`

var gcRegex = regexp.MustCompile(gcPattern)

// Figures that are our classification, not something pprof computes.
func ours(key string) bool {
	return key == "kind" || key == "reduces" || strings.HasSuffix(key, ".error")
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go_crosscheck EXPECTED INPUTS_DIR")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	check(err)
	defer f.Close()
	failures, checked := 0, 0
	fail := func(line int, format string, args ...interface{}) {
		failures++
		fmt.Printf("EXPECTED:%d: %s\n", line, fmt.Sprintf(format, args...))
	}
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	note := ""
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			note = ""
			continue
		}
		if strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "# Go's pprof") {
				note = line
			}
			continue
		}
		words := strings.Fields(line)
		file, outcome, figures := words[0], "", map[string]string{}
		for _, w := range words[1:] {
			if outcome == "ok" {
				kv := strings.SplitN(w, "=", 2)
				figures[kv[0]] = kv[1]
			} else if w == "ok" || w == "error" || w == "bounded" {
				outcome = w
			}
		}
		differences := map[string]bool{}
		var p *profile.Profile
		var perr error
		if outcome != "bounded" {
			p, perr = parse(filepath.Join(os.Args[2], file))
		}
		switch outcome {
		case "error":
			if perr == nil {
				differences["accepts"] = true
			}
		case "ok":
			if perr != nil {
				differences["refuses"] = true
				break
			}
			got := compute(p)
			for key, want := range figures {
				if ours(key) {
					continue
				}
				v, known := got[key]
				if !known {
					fail(n, "%s: figure %s=%s: Go computes no such figure", file, key, want)
					continue
				}
				checked++
				if v.value != want {
					fail(n, "%s: %s=%s, Go's pprof library gives %s", file, key, want, v.value)
				}
				if v.wraps {
					differences["wraps"] = true
				}
			}
		}
		for d := range differences {
			if !strings.Contains(note, d) {
				fail(n, "%s: Go's pprof %s it (parse error: %v), and no \"# Go's pprof\" note above says %s",
					file, d, perr, d)
			}
		}
		for _, d := range []string{"wraps", "accepts", "refuses"} {
			if strings.Contains(note, d) && !differences[d] {
				fail(n, "%s: the note %q is stale: Go's pprof does not differ so", file, note)
			}
		}
		note = ""
	}
	check(scanner.Err())
	fmt.Printf("go_crosscheck: %d figures checked, %d failures\n", checked, failures)
	if failures > 0 || checked == 0 {
		os.Exit(1)
	}
}

func parse(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	return p, p.RemoveUninteresting()
}

type figure struct {
	value string
	wraps bool // beyond int64: pprof itself would show a wrapped number
}

func exact(x *big.Int) figure { return figure{x.String(), !x.IsInt64()} }

func count(n int) figure { return figure{fmt.Sprint(n), false} }

// compute returns every figure of EXPECTED that Go's reading of p gives.
func compute(p *profile.Profile) map[string]figure {
	f := map[string]figure{
		"samples":      count(len(p.Sample)),
		"locations":    count(len(p.Location)),
		"functions":    count(len(p.Function)),
		"sample_types": count(len(p.SampleType)),
	}
	for i, st := range p.SampleType {
		sum := new(big.Int)
		for _, s := range p.Sample {
			sum.Add(sum, big.NewInt(s.Value[i]))
		}
		f["sum."+st.Type] = exact(sum)
	}
	// The sample type each kind reduces, as Reduce picks it.
	preferred := len(p.SampleType) - 1
	for i, st := range p.SampleType {
		if st.Type == p.DefaultSampleType {
			preferred = i
		}
	}
	index := func(types ...string) int {
		for _, t := range types {
			for i, st := range p.SampleType {
				if st.Type == t {
					return i
				}
			}
		}
		return -1
	}
	kinds := map[string]int{}
	if index("cpu", "samples") >= 0 {
		kinds["cpu"] = preferred
	}
	if index("inuse_space", "inuse_objects", "alloc_space", "alloc_objects", "space", "objects") >= 0 {
		kinds["heap"] = or(index("inuse_space", "space"), preferred)
	}
	if index("inuse_space", "inuse_objects", "alloc_space", "alloc_objects") >= 0 {
		kinds["allocs"] = or(index("alloc_space"), preferred)
	}
	if index("delay", "contentions") >= 0 {
		kinds["mutex"] = or(index("delay"), preferred)
		kinds["block"] = kinds["mutex"]
	}
	for kind, i := range kinds {
		flat, cum := tabulate(p, i)
		if name, v := top(flat); name != "" {
			f[kind+".top_flat"] = figure{name + ":" + v.String(), !v.IsInt64()}
		}
		if name, v := top(cum); name != "" {
			f[kind+".top_cum"] = figure{name + ":" + v.String(), !v.IsInt64()}
		}
	}
	if _, ok := kinds["cpu"]; ok {
		gc := new(big.Int)
		for _, s := range p.Sample {
			for _, fr := range frames(s) {
				if gcRegex.MatchString(fr) {
					gc.Add(gc, big.NewInt(s.Value[preferred]))
					break
				}
			}
		}
		f["cpu.gc_value"] = exact(gc)
	}
	if i := index("goroutine"); i >= 0 {
		goroutines := new(big.Int)
		services := map[string]bool{}
		byFunction := map[string]*big.Int{}
		for _, s := range p.Sample {
			v := s.Value[i]
			goroutines.Add(goroutines, big.NewInt(v))
			if v == 0 {
				continue
			}
			for _, svc := range s.Label["service"] {
				services[svc] = true
			}
			if fr := frames(s); len(fr) > 0 {
				name := fr[0]
				for _, candidate := range fr {
					if application(candidate) {
						name = candidate
						break
					}
				}
				if byFunction[name] == nil {
					byFunction[name] = new(big.Int)
				}
				byFunction[name].Add(byFunction[name], big.NewInt(v))
			}
		}
		f["goroutine.goroutines"] = exact(goroutines)
		f["goroutine.services"] = count(len(services))
		if name, v := top(byFunction); name != "" {
			f["goroutine.by_function"] = figure{name + ":" + v.String(), !v.IsInt64()}
		}
	}
	return f
}

func or(i, fallback int) int {
	if i < 0 {
		return fallback
	}
	return i
}

// frames: the sample's function names, leaf first; inlined lines count.
func frames(s *profile.Sample) []string {
	var out []string
	for _, loc := range s.Location {
		for _, line := range loc.Line {
			if line.Function != nil && line.Function.Name != "" {
				out = append(out, line.Function.Name)
			} else {
				out = append(out, unnamed(loc))
			}
		}
		if len(loc.Line) == 0 {
			out = append(out, unnamed(loc))
		}
	}
	return out
}

func unnamed(loc *profile.Location) string {
	if loc.Mapping != nil && loc.Mapping.File != "" {
		return "[" + filepath.Base(loc.Mapping.File) + "]"
	}
	return "<unknown>"
}

// tabulate: flat to the leaf frame, cum once per distinct function of a
// stack; samples of value 0 are ignored.
func tabulate(p *profile.Profile, i int) (flat, cum map[string]*big.Int) {
	flat, cum = map[string]*big.Int{}, map[string]*big.Int{}
	add := func(m map[string]*big.Int, name string, v int64) {
		if m[name] == nil {
			m[name] = new(big.Int)
		}
		m[name].Add(m[name], big.NewInt(v))
	}
	for _, s := range p.Sample {
		v := s.Value[i]
		fr := frames(s)
		if v == 0 || len(fr) == 0 {
			continue
		}
		add(flat, fr[0], v)
		seen := map[string]bool{}
		for _, name := range fr {
			if !seen[name] {
				seen[name] = true
				add(cum, name, v)
			}
		}
		for name := range seen {
			if flat[name] == nil {
				flat[name] = new(big.Int)
			}
		}
	}
	return flat, cum
}

// top: the first function by |value|, then name.
func top(m map[string]*big.Int) (string, *big.Int) {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Slice(names, func(a, b int) bool {
		if c := new(big.Int).Abs(m[names[a]]).Cmp(new(big.Int).Abs(m[names[b]])); c != 0 {
			return c > 0
		}
		return names[a] < names[b]
	})
	if len(names) == 0 {
		return "", nil
	}
	return names[0], m[names[0]]
}

// application: package path "main..." or whose first element has a dot.
func application(name string) bool {
	lastSlash := strings.LastIndex(name, "/")
	pathEnd := strings.Index(name[lastSlash+1:], ".")
	path := name
	if pathEnd >= 0 {
		path = name[:lastSlash+1+pathEnd]
	}
	first := path
	if i := strings.Index(path, "/"); i >= 0 {
		first = path[:i]
	}
	return first == "main" || strings.Contains(first, ".")
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_crosscheck:", err)
		os.Exit(2)
	}
}
