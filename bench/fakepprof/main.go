// Command fakepprof stands in for many Go processes in pprof_exporter's
// benchmarks (bench/scale.sh, bench/serve_latency.sh): one loopback port
// serves net/http/pprof-like endpoints for N targets,
//
//	http://127.0.0.1:PORT/t<i>/debug/pprof/{profile,heap,allocs,goroutine,mutex,block}
//
// answering with fixture bytes (tests/testdata or /work/shared/fixtures:
// cpu.pb.gz, heap.pb.gz, ...). Like Go, /profile?seconds=S answers after S
// seconds (default 30), holding no thread meanwhile (a parked goroutine),
// and a second CPU profile of the same target while one is running gets
// Go's "500 + X-Go-Pprof: 1" (profiler busy).
//
// Every request is logged when it ends, one line each:
//
//	<start unix ms> <target index> <kind> <status> <duration ms>
//
// The process is bounded: it exits after -duration, and it listens on
// loopback only. Standard library only:
//
//	GO111MODULE=off go build -o fakepprof .
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var kinds = map[string]string{ // endpoint -> fixture name
	"profile":   "cpu",
	"heap":      "heap",
	"allocs":    "allocs",
	"goroutine": "goroutine",
	"mutex":     "mutex",
	"block":     "block",
}

type server struct {
	targets   int
	bodies    map[string][]byte // fixture name -> bytes
	largeCPU  []byte            // served by the first largeN targets' CPU profiles
	largeN    int
	cpuBusy   []atomic.Bool
	logMu     sync.Mutex
	logW      *bufio.Writer
	requests  atomic.Int64
	busy      atomic.Int64
	inFlight  atomic.Int64
	maxFlight atomic.Int64
}

func (s *server) logf(start time.Time, target int, kind string, status int) {
	s.logMu.Lock()
	fmt.Fprintf(s.logW, "%d %d %s %d %d\n", start.UnixMilli(), target, kind, status,
		time.Since(start).Milliseconds())
	s.logMu.Unlock()
}

// ServeHTTP handles /t<i>/debug/pprof/<endpoint>.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.maxFlight.Load(); n > m && !s.maxFlight.CompareAndSwap(m, n); m = s.maxFlight.Load() {
	}
	ok := strings.HasPrefix(r.URL.Path, "/t")
	rest := strings.TrimPrefix(r.URL.Path, "/t")
	idx, endpoint, ok2 := strings.Cut(rest, "/debug/pprof/")
	target, err := strconv.Atoi(idx)
	if !ok || !ok2 || err != nil || target < 0 || target >= s.targets {
		http.NotFound(w, r)
		s.logf(start, -1, "unknown", 404)
		return
	}
	fixture, known := kinds[endpoint]
	if !known {
		http.NotFound(w, r)
		s.logf(start, target, "unknown", 404)
		return
	}
	body := s.bodies[fixture]
	if fixture == "cpu" {
		if !s.cpuBusy[target].CompareAndSwap(false, true) {
			// What runtime/pprof answers when a CPU profile is running.
			w.Header().Set("X-Go-Pprof", "1")
			http.Error(w, "Could not enable CPU profiling: cpu profiling already in use", 500)
			s.busy.Add(1)
			s.logf(start, target, fixture, 500)
			return
		}
		defer s.cpuBusy[target].Store(false)
		sec, err := strconv.ParseFloat(r.FormValue("seconds"), 64)
		if err != nil || sec <= 0 {
			sec = 30
		}
		t := time.NewTimer(time.Duration(sec * float64(time.Second)))
		select {
		case <-t.C:
		case <-r.Context().Done(): // client went away
			t.Stop()
			s.logf(start, target, fixture, 499)
			return
		}
		if target < s.largeN {
			body = s.largeCPU
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
	s.logf(start, target, fixture, 200)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	targets := flag.Int("targets", 1000, "number of targets /t0 ... /t<N-1>")
	fixtures := flag.String("fixtures", "", "directory with cpu.pb.gz, heap.pb.gz, allocs.pb.gz, goroutine.pb.gz, mutex.pb.gz, block.pb.gz")
	large := flag.String("large-cpu", "", "CPU profile served instead of cpu.pb.gz by the first -large-targets targets")
	largeN := flag.Int("large-targets", 0, "how many targets serve -large-cpu")
	logPath := flag.String("log", "", "request log file (default: none)")
	duration := flag.Duration("duration", 15*time.Minute, "exit after this long")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("fakepprof: ")

	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("-listen must be a loopback address, not %q", *listen)
	}
	s := &server{targets: *targets, bodies: map[string][]byte{}, largeN: *largeN,
		cpuBusy: make([]atomic.Bool, *targets)}
	for _, name := range kinds {
		b, err := os.ReadFile(filepath.Join(*fixtures, name+".pb.gz"))
		if err != nil {
			log.Fatal(err)
		}
		s.bodies[name] = b
	}
	if *large != "" {
		if s.largeCPU, err = os.ReadFile(*large); err != nil {
			log.Fatal(err)
		}
	} else {
		s.largeN = 0
	}
	logFile := os.Stdout
	if *logPath != "" {
		if logFile, err = os.Create(*logPath); err != nil {
			log.Fatal(err)
		}
	} else if logFile, err = os.Open(os.DevNull); err != nil {
		log.Fatal(err)
	}
	s.logW = bufio.NewWriterSize(logFile, 1<<16)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening on %s\n", ln.Addr())

	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	deadline := time.After(*duration)
loop:
	for {
		select {
		case <-flush.C:
			s.logMu.Lock()
			s.logW.Flush()
			s.logMu.Unlock()
		case <-stop:
			break loop
		case <-deadline:
			break loop
		}
	}
	srv.Close()
	s.logMu.Lock()
	s.logW.Flush()
	s.logMu.Unlock()
	logFile.Close()
	log.Printf("requests %d, profiler_busy answers %d, max in flight %d",
		s.requests.Load(), s.busy.Load(), s.maxFlight.Load())
}
