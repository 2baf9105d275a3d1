// Command gocompare is the Go side of bench/reduce_compare.sh: it parses a
// CPU profile with github.com/google/pprof/profile (what `go tool pprof`
// uses) and computes the same figures as `pprof_exporter reduce --kind=cpu`,
// printed as the same Prometheus sample lines (no HELP/TYPE), so the two
// outputs can be compared number by number:
//
//	pprof_cpu_sampled_seconds   sum of the cpu sample type / 1e9
//	pprof_cpu_duration_seconds  duration_nanos / 1e9
//	pprof_cpu_gc_ratio          cpu of samples with any frame matching the GC
//	                            regex (whole name), over all cpu
//	pprof_cpu_flat_ratio        top N by flat, then name
//	pprof_cpu_cum_ratio         top N by cum, then name
//
// Rules as in tests/testdata/README.md: a frame is a function name, one per
// Line (Line[0] innermost), flat to the leaf frame, cum once per distinct
// name per sample, zero samples skipped, ratios over the sum of |value|,
// drop_frames applied (RemoveUninteresting, as pprof's driver does).
//
// Build in GOPATH mode against Debian's golang-github-google-pprof-dev:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o gocompare .
//
// Usage: gocompare [-top=10] [-target=NAME] [-gc-regex=RE] FILE
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

const defaultGcRegex = `^runtime\.(gcBgMarkWorker|gcAssistAlloc|gcAssistAlloc1|gcDrain|gcDrainN|gcMarkDone|gcMarkTermination|gcStart|gcSweep|bgsweep|bgscavenge|markroot|scanobject|sweepone)$`

type share struct {
	name      string
	flat, cum int64
}

func main() {
	top := flag.Int("top", 10, "functions per top list")
	target := flag.String("target", "", "target label (default: file name without .pb.gz)")
	gcPattern := flag.String("gc-regex", defaultGcRegex, "GC regex, matched against whole names")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: gocompare [-top=N] [-target=NAME] [-gc-regex=RE] FILE")
		os.Exit(2)
	}
	path := flag.Arg(0)
	// RE2 whole-name match, like the exporter's FullMatch.
	gcRegex, err := regexp.Compile(`^(?:` + *gcPattern + `)$`)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocompare: bad -gc-regex:", err)
		os.Exit(2)
	}
	if *target == "" {
		*target = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(path), ".gz"), ".pb")
	}

	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocompare:", err)
		os.Exit(1)
	}
	p, err := profile.Parse(bufio.NewReaderSize(f, 1<<20))
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocompare:", path+":", err)
		os.Exit(1)
	}
	if err := p.RemoveUninteresting(); err != nil {
		fmt.Fprintln(os.Stderr, "gocompare:", err)
		os.Exit(1)
	}

	// pprof's default sample type: default_sample_type, else the last one.
	valueIndex := len(p.SampleType) - 1
	cpuIndex := -1
	for i, st := range p.SampleType {
		if p.DefaultSampleType != "" && st.Type == p.DefaultSampleType {
			valueIndex = i
		}
		if st.Type == "cpu" {
			cpuIndex = i
		}
	}
	if cpuIndex < 0 {
		fmt.Fprintln(os.Stderr, "gocompare:", path+": no cpu sample type")
		os.Exit(1)
	}

	// Intern function names; per location, its frames leaf-most first and
	// whether any of them is GC work (one regex match per distinct name).
	nameIndex := map[string]int{}
	var names []string
	var isGc []bool
	intern := func(name string) int {
		if i, ok := nameIndex[name]; ok {
			return i
		}
		i := len(names)
		nameIndex[name] = i
		names = append(names, name)
		isGc = append(isGc, gcRegex.MatchString(name))
		return i
	}
	type locInfo struct {
		frames []int
		gc     bool
	}
	locs := make(map[uint64]*locInfo, len(p.Location))
	for _, loc := range p.Location {
		info := &locInfo{}
		for _, line := range loc.Line {
			name := ""
			if line.Function != nil {
				name = line.Function.Name
			}
			if name == "" {
				name = unnamed(loc)
			}
			info.frames = append(info.frames, intern(name))
		}
		if len(loc.Line) == 0 {
			info.frames = append(info.frames, intern(unnamed(loc)))
		}
		for _, fr := range info.frames {
			info.gc = info.gc || isGc[fr]
		}
		locs[loc.ID] = info
	}

	flat := make([]int64, len(names))
	cum := make([]int64, len(names))
	stamp := make([]int, len(names))
	seen := make([]bool, len(names))
	var total, cpuSum, gcValue int64
	for si, s := range p.Sample {
		cpuSum += s.Value[cpuIndex]
		gc := false
		for _, loc := range s.Location {
			if locs[loc.ID].gc {
				gc = true
				break
			}
		}
		if gc {
			gcValue += s.Value[cpuIndex]
		}
		v := s.Value[valueIndex]
		if v == 0 || len(s.Location) == 0 {
			continue
		}
		if v < 0 {
			total -= v
		} else {
			total += v
		}
		for li, loc := range s.Location {
			for fi, fr := range locs[loc.ID].frames {
				if li == 0 && fi == 0 {
					flat[fr] += v
				}
				if stamp[fr] != si+1 {
					stamp[fr] = si + 1
					cum[fr] += v
					seen[fr] = true
				}
			}
		}
	}

	var all []share
	for i, name := range names {
		if seen[i] {
			all = append(all, share{name, flat[i], cum[i]})
		}
	}
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	topBy := func(key func(share) int64) []share {
		sorted := append([]share(nil), all...)
		sort.Slice(sorted, func(i, j int) bool {
			a, b := abs(key(sorted[i])), abs(key(sorted[j]))
			if a != b {
				return a > b
			}
			return sorted[i].name < sorted[j].name
		})
		if len(sorted) > *top {
			sorted = sorted[:*top]
		}
		return sorted
	}
	ratio := func(v, t int64) float64 {
		if t == 0 {
			return 0
		}
		return float64(v) / float64(t)
	}

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	lbl := `target="` + escape(*target) + `"`
	fmt.Fprintf(out, "pprof_cpu_sampled_seconds{%s} %s\n", lbl, num(float64(cpuSum)/1e9))
	fmt.Fprintf(out, "pprof_cpu_duration_seconds{%s} %s\n", lbl, num(float64(p.DurationNanos)/1e9))
	fmt.Fprintf(out, "pprof_cpu_gc_ratio{%s} %s\n", lbl, num(ratio(gcValue, cpuSum)))
	for _, s := range topBy(func(s share) int64 { return s.flat }) {
		fmt.Fprintf(out, "pprof_cpu_flat_ratio{%s,function=\"%s\"} %s\n", lbl, escape(s.name), num(ratio(s.flat, total)))
	}
	for _, s := range topBy(func(s share) int64 { return s.cum }) {
		fmt.Fprintf(out, "pprof_cpu_cum_ratio{%s,function=\"%s\"} %s\n", lbl, escape(s.name), num(ratio(s.cum, total)))
	}
}

// unnamed is pprof's name for a frame without a function name.
func unnamed(loc *profile.Location) string {
	if loc.Mapping != nil && loc.Mapping.File != "" {
		return "[" + filepath.Base(loc.Mapping.File) + "]"
	}
	return "<unknown>"
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// escape escapes a Prometheus label value.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
