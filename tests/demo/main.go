// Command demo is the Go service that pprof_exporter's tests and README demo
// scrape. Like tsnsrv, one process hosts N independent "services"; each
// service's goroutines carry the pprof label service=svc-<i> so per-service
// numbers can be told apart. Background load (CPU, GC, mutex, blocking) gives
// every profile type something to show, and /demo/* switches let an
// end-to-end test change behaviour without restarting the process.
//
// Standard library only; builds with `GO111MODULE=off go build` (go 1.19).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on DefaultServeMux
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	leakPerTick    = 2                      // leaked goroutines per service per tick...
	superviseEvery = 100 * time.Millisecond // ...so 20/s per service
	leakCap        = 2000                   // per service, so the test box survives
)

// Runtime switches, flipped by flags at start and by /demo/* at run time.
var (
	leakOn     atomic.Bool
	gcHeavy    atomic.Bool
	loadPaused atomic.Bool  // the background load idles (hot function, GC, mutex, block)
	allocMode  atomic.Int32 // 0 = allocPatternA, 1 = allocPatternB
)

// Sinks keep results reachable so the compiler cannot drop the work.
var (
	hashSink uint64
	liveSet  *node // pointer-rich live heap, only while gc-heavy is on
)

// ---------------------------------------------------------------------------
// Services

type service struct {
	name  string
	inbox chan int
	mu    sync.Mutex
	cond  *sync.Cond

	leakMu   sync.Mutex
	leakStop chan struct{} // closed to release this service's leaked goroutines
	leaked   int
}

// start launches the service's goroutines under its label; goroutines inherit
// the labels of the goroutine that creates them, including later leaks.
func (s *service) start(ctx context.Context) {
	pprof.Do(ctx, pprof.Labels("service", s.name), func(ctx context.Context) {
		go s.supervise(ctx)
		go s.inboxLoop(ctx)
		go s.idleTimer(ctx)
		go s.condWaiter(ctx)
	})
}

// supervise is the one goroutine per service that tests count.
func (s *service) supervise(ctx context.Context) {
	t := time.NewTicker(superviseEvery)
	defer t.Stop()
	defer s.wake() // let condWaiter see ctx is done
	for n := 1; nextTick(ctx, t); n++ {
		s.leakTick()
		if n%50 == 0 { // every ~5 s: a little real work for the idle goroutines
			select {
			case s.inbox <- n:
			default:
			}
			s.wake()
		}
	}
}

func (s *service) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// inboxLoop sits in a channel receive almost all the time.
func (s *service) inboxLoop(ctx context.Context) {
	for total := 0; ; {
		select {
		case <-ctx.Done():
			return
		case v := <-s.inbox:
			total += v
		}
	}
}

// idleTimer sits in a select on a long timer.
func (s *service) idleTimer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
		}
	}
}

// condWaiter sits in sync.Cond.Wait.
func (s *service) condWaiter(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ctx.Err() == nil {
		s.cond.Wait()
	}
}

// leakTick starts a few more never-ending goroutines while leaking is on.
// leakOn is read under leakMu so a concurrent switch-off cannot be missed.
func (s *service) leakTick() {
	s.leakMu.Lock()
	defer s.leakMu.Unlock()
	if !leakOn.Load() {
		return
	}
	if s.leakStop == nil {
		s.leakStop = make(chan struct{})
	}
	for i := 0; i < leakPerTick && s.leaked < leakCap; i++ {
		s.leaked++
		go s.leakedWorker(s.leakStop)
	}
}

// leakedWorker is the leak: parked until the leak is switched off.
func (s *service) leakedWorker(stop <-chan struct{}) {
	<-stop
}

// releaseLeaks lets every leaked goroutine of the service exit.
func (s *service) releaseLeaks() {
	s.leakMu.Lock()
	defer s.leakMu.Unlock()
	if s.leakStop != nil {
		close(s.leakStop)
		s.leakStop = nil
	}
	s.leaked = 0
}

func (s *service) leakedCount() int {
	s.leakMu.Lock()
	defer s.leakMu.Unlock()
	return s.leaked
}

// ---------------------------------------------------------------------------
// Background load. Loops are duty-cycled (busy for a few ms of every 100 ms)
// so the default total stays near 20% of one core on a shared CI box. The
// work sits directly in the named functions so profiles show them as frames.

// nextTick waits for the next period; false once ctx is done.
func nextTick(ctx context.Context, t *time.Ticker) bool {
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// mix64 is a small inlinable finalizer, so CPU profiles contain inlined frames.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}

func hashLoop(ctx context.Context) { // ~12% of a core
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	h := uint64(1)
	for nextTick(ctx, t) {
		if loadPaused.Load() {
			continue
		}
		for deadline := time.Now().Add(12 * time.Millisecond); time.Now().Before(deadline); {
			for i := uint64(0); i < 4096; i++ {
				h = mix64(h + i)
			}
		}
		atomic.StoreUint64(&hashSink, h)
	}
}

func sortLoop(ctx context.Context) { // ~8% of a core
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	buf := make([]int, 2048) // reused, so sorting barely shows as allocation
	seed := uint64(7)
	for nextTick(ctx, t) {
		if loadPaused.Load() {
			continue
		}
		for deadline := time.Now().Add(8 * time.Millisecond); time.Now().Before(deadline); {
			for i := range buf {
				seed = seed*6364136223846793005 + 1442695040888963407
				buf[i] = int(seed >> 33)
			}
			sort.Ints(buf)
		}
	}
}

type node struct {
	next, left, right *node
	val               uint64
}

type leaf struct {
	owner *leaf
	data  *[8]byte
}

// allocPatternA and allocPatternB are the two switchable dominant allocation
// sites, ~2 KB per call each; noinline keeps each a distinct leaf frame in
// heap/allocs profiles.
//
//go:noinline
func allocPatternA(n int) interface{} {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head, left: head, val: uint64(i)}
	}
	return head
}

//go:noinline
func allocPatternB(n int) interface{} {
	leaves := make([]*leaf, n)
	for i := range leaves {
		leaves[i] = &leaf{data: new([8]byte)}
		if i > 0 {
			leaves[i].owner = leaves[i-1]
		}
	}
	return leaves
}

// buildLiveSet makes a large pointer-rich heap that every GC cycle must mark;
// together with a fast allocation rate it makes GC a visible share of CPU.
func buildLiveSet(n int) *node {
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = &node{val: uint64(i)}
		if i > 0 {
			p := nodes[(i-1)/2]
			if i%2 == 1 {
				p.left = nodes[i]
			} else {
				p.right = nodes[i]
			}
		}
	}
	return nodes[0]
}

// churnLoop allocates garbage: ~1 MB/s by default (a GC every few seconds),
// and when gc-heavy, a flood for 15 ms of every 100 ms on top of a big live
// heap. Recent garbage is kept in a ring so it survives a little and must be
// marked.
func churnLoop(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	ring := make([]interface{}, 512)
	i := 0
	for nextTick(ctx, t) {
		heavy := gcHeavy.Load()
		if loadPaused.Load() && !heavy {
			continue
		}
		if heavy && liveSet == nil {
			liveSet = buildLiveSet(400000) // ~13 MB, all pointers to mark
		}
		if !heavy && liveSet != nil {
			// Collect now: otherwise the heap goal stays sized for the live
			// set and the next GC (and heap profile update) comes late.
			liveSet = nil
			runtime.GC()
		}
		deadline := time.Now().Add(15 * time.Millisecond)
		for n := 0; n < 48 || heavy && time.Now().Before(deadline); n++ {
			if allocMode.Load() == 0 {
				ring[i%len(ring)] = allocPatternA(64)
			} else {
				ring[i%len(ring)] = allocPatternB(64)
			}
			i++
		}
	}
}

var contended sync.Mutex

// mutexContender holds a shared lock while sleeping, so the others queue on it.
func mutexContender(ctx context.Context) {
	for ctx.Err() == nil {
		if loadPaused.Load() {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		contended.Lock()
		time.Sleep(2 * time.Millisecond)
		contended.Unlock()
		time.Sleep(3 * time.Millisecond)
	}
}

// blockProducer feeds a slow consumer over an unbuffered channel, so both
// sides spend time blocked in the block profile.
func blockProducer(ctx context.Context, ch chan<- int) {
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case ch <- i:
		}
	}
}

func blockConsumer(ctx context.Context, ch <-chan int) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if loadPaused.Load() {
				time.Sleep(100 * time.Millisecond)
			} else {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
}

func startLoad(ctx context.Context) {
	pprof.Do(ctx, pprof.Labels("component", "cpu"), func(ctx context.Context) {
		go hashLoop(ctx)
		go sortLoop(ctx)
	})
	pprof.Do(ctx, pprof.Labels("component", "gc"), func(ctx context.Context) {
		go churnLoop(ctx)
	})
	pprof.Do(ctx, pprof.Labels("component", "mutex"), func(ctx context.Context) {
		for i := 0; i < 3; i++ {
			go mutexContender(ctx)
		}
	})
	pprof.Do(ctx, pprof.Labels("component", "block"), func(ctx context.Context) {
		ch := make(chan int)
		go blockProducer(ctx, ch)
		go blockConsumer(ctx, ch)
	})
}

// ---------------------------------------------------------------------------
// Blocked goroutines and the latency probe (goroutine forensics).

// startBlocked parks n goroutines for the life of the process, each a few
// frames deep (real services park below their own call chains), so that
// goroutine dumps show goroutines that stay blocked: past stuck_after they
// are "stuck", and thousands of them give a dump the size of a real one.
func startBlocked(n int) {
	block := make(chan struct{}) // never closed
	for i := 0; i < n; i++ {
		go blockedCaller(6, block)
	}
}

//go:noinline
func blockedCaller(depth int, block <-chan struct{}) {
	if depth > 0 {
		blockedCaller(depth-1, block)
		return
	}
	blockedForever(block)
}

// blockedForever is the frame the blocked goroutines are grouped under.
//
//go:noinline
func blockedForever(block <-chan struct{}) {
	<-block
}

// probe measures how long the scheduler was kept from running a goroutine
// that asks to wake every millisecond: a stop-the-world pause (such as the
// one a goroutine?debug=2 dump takes) shows as a late wake-up.
var probe struct {
	mu       sync.Mutex
	maxStall time.Duration
	wakeups  int64
}

func latencyProbe(ctx context.Context) {
	const period = time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		time.Sleep(period)
		stall := time.Since(start) - period
		probe.mu.Lock()
		if stall > probe.maxStall {
			probe.maxStall = stall
		}
		probe.wakeups++
		probe.mu.Unlock()
	}
}

// ---------------------------------------------------------------------------
// Control endpoints

func writeState(w http.ResponseWriter, services []*service) {
	leaked := 0
	for _, s := range services {
		leaked += s.leakedCount()
	}
	mode := "a"
	if allocMode.Load() == 1 {
		mode = "b"
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]interface{}{
		"leak":              leakOn.Load(),
		"gc_heavy":          gcHeavy.Load(),
		"load":              !loadPaused.Load(),
		"alloc_mode":        mode,
		"services":          len(services),
		"leaked_goroutines": leaked,
		"goroutines":        runtime.NumGoroutine(),
	})
}

// control serves one switch: 405 for anything but POST, 400 if apply rejects
// the query, otherwise the new state as JSON.
func control(services []*service, apply func(q url.Values) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if err := apply(r.URL.Query()); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeState(w, services)
	}
}

// onOff handles on=1|0 for a boolean switch.
func onOff(set func(on bool)) func(q url.Values) error {
	return func(q url.Values) error {
		on, err := strconv.ParseBool(q.Get("on"))
		if err != nil {
			return fmt.Errorf("want on=1 or on=0")
		}
		set(on)
		return nil
	}
}

func registerControl(mux *http.ServeMux, services []*service) {
	mux.HandleFunc("/demo/leak", control(services, onOff(func(on bool) {
		leakOn.Store(on)
		if !on { // release, so the goroutine count falls back
			for _, s := range services {
				s.releaseLeaks()
			}
		}
	})))
	mux.HandleFunc("/demo/gc", control(services, onOff(gcHeavy.Store)))
	mux.HandleFunc("/demo/load", control(services, onOff(func(on bool) { loadPaused.Store(!on) })))
	mux.HandleFunc("/demo/alloc", control(services, func(q url.Values) error {
		switch q.Get("mode") {
		case "a":
			allocMode.Store(0)
		case "b":
			allocMode.Store(1)
		default:
			return fmt.Errorf("want mode=a or mode=b")
		}
		// Heap profiles only show allocations up to the last finished GC;
		// collecting here publishes the old mode's allocations, so a window
		// that starts after this response sees only the new mode.
		runtime.GC()
		return nil
	}))
	// POST /demo/probe: the latency probe's longest stall and wake-ups since
	// the previous POST, which starts a new window.
	mux.HandleFunc("/demo/probe", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		probe.mu.Lock()
		stall, wakeups := probe.maxStall, probe.wakeups
		probe.maxStall, probe.wakeups = 0, 0
		probe.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]interface{}{
			"max_stall_seconds": stall.Seconds(),
			"wakeups":           wakeups,
			"goroutines":        runtime.NumGoroutine(),
		})
	})
	mux.HandleFunc("/demo/state", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		writeState(w, services)
	})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:9099", "address for pprof and /demo/* (port 0 picks a free port)")
	nServices := flag.Int("services", 8, "number of simulated services")
	leak := flag.Bool("leak", false, "leak goroutines in every service from the start")
	heavy := flag.Bool("gc-heavy", false, "heavy GC churn from the start")
	paused := flag.Bool("load-paused", false, "start with the background load idle (/demo/load?on=1 starts it); with it, hashLoop is a function above 10% of the CPU, PprofHotFunction's case")
	blocked := flag.Int("blocked", 0, "goroutines that stay blocked in main.blockedForever for the life of the process (stuck goroutines; ~6000 makes a dump the size of real tsnsrv's)")
	gcEvery := flag.Duration("gc-every", 0, "also run a GC at this interval (0: never); the runtime only starts a goroutine's wait clock at the first GC that sees it waiting")
	load := flag.Bool("load", true, "run the background load (CPU burners, GC churn, mutex contention, blocking); -load=false keeps only the services, for overhead benchmarks")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("demo: ")

	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(10000) // record waits of ~10µs and more
	leakOn.Store(*leak)
	gcHeavy.Store(*heavy)
	loadPaused.Store(*paused)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	services := make([]*service, *nServices)
	for i := range services {
		services[i] = &service{name: fmt.Sprintf("svc-%d", i), inbox: make(chan int)}
		services[i].cond = sync.NewCond(&services[i].mu)
		services[i].start(ctx)
	}
	if *load {
		startLoad(ctx)
	}
	startBlocked(*blocked)
	go latencyProbe(ctx)
	if *gcEvery > 0 {
		go func() {
			t := time.NewTicker(*gcEvery)
			defer t.Stop()
			for nextTick(ctx, t) {
				runtime.GC()
			}
		}()
	}
	registerControl(http.DefaultServeMux, services)

	// Tests read this line to find the port, so print it only once everything
	// is running; os.Stdout is unbuffered in Go.
	fmt.Printf("listening on %s\n", ln.Addr())

	srv := &http.Server{Handler: http.DefaultServeMux}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Printf("shutdown: %v", err)
	}
}
