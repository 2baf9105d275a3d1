// Command rateload sends GETs to one loopback URL at a fixed rate, open
// loop (like wrk2): request i is due at start + i/rate whether or not
// earlier ones have finished, and its latency is counted from when it was
// due, so a stall shows up in the percentiles instead of silently lowering
// the rate (no coordinated omission). Bounded by -rate x -duration requests
// and -conns concurrent connections, and in time by -duration + -grace
// (requests still unsent then are dropped and count as infinitely slow);
// loopback URLs only.
//
//	rateload -url http://127.0.0.1:10066/metrics -rate 500 -duration 30s
//
// Prints the achieved rate, errors and latency percentiles. Standard library
// only: GO111MODULE=off go build -o rateload .
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	target := flag.String("url", "", "loopback URL to GET")
	rate := flag.Float64("rate", 500, "requests per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to send")
	conns := flag.Int("conns", 8, "concurrent connections (workers)")
	grace := flag.Duration("grace", 10*time.Second, "requests not sent by -duration + -grace are dropped and count as infinitely slow")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("rateload: ")
	u, err := url.Parse(*target)
	if err != nil || u.Scheme != "http" || !net.ParseIP(u.Hostname()).IsLoopback() {
		log.Fatalf("-url must be http://127.0.0.1:PORT/...: %q", *target)
	}
	if *rate <= 0 || *rate > 100000 || *duration > 10*time.Minute || *conns < 1 || *conns > 256 {
		log.Fatal("want 0 < -rate <= 100000, -duration <= 10m, 1 <= -conns <= 256")
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns,
			DisableCompression: true},
		Timeout: 10 * time.Second,
	}
	total := int(*rate * duration.Seconds())
	start := time.Now().Add(50 * time.Millisecond)
	hardStop := start.Add(*duration + *grace)
	due := make(chan time.Time, total)
	type result struct {
		latency time.Duration
		ok      bool
		notSent bool
		bytes   int64
	}
	results := make([]result, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for when := range due {
				if d := time.Until(when); d > 0 {
					time.Sleep(d)
				}
				if time.Now().After(hardStop) {
					// Far behind schedule: not sent, counted as too slow.
					mu.Lock()
					results = append(results, result{latency: time.Duration(math.MaxInt64), notSent: true})
					mu.Unlock()
					continue
				}
				resp, err := client.Get(*target)
				r := result{}
				if err == nil {
					r.bytes, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					r.ok = resp.StatusCode == 200
				}
				r.latency = time.Since(when)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / *rate)
	for i := 0; i < total; i++ {
		due <- start.Add(time.Duration(i) * interval)
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)

	var lat []time.Duration // answered OK, plus not sent (as +Inf)
	errors, notSent, answered := 0, 0, 0
	var bytes int64
	for _, r := range results {
		switch {
		case r.notSent:
			notSent++
			lat = append(lat, r.latency)
		case !r.ok:
			errors++
		default:
			answered++
			lat = append(lat, r.latency)
			bytes += r.bytes
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p / 100 * float64(len(lat)-1))
		if lat[i] == time.Duration(math.MaxInt64) {
			return math.Inf(1)
		}
		return float64(lat[i]) / 1e6
	}
	fmt.Printf("answered %d of %d in %.1fs = %.1f/s (target %.0f/s), errors %d, not sent (too far behind) %d, %.0f bytes/response\n",
		answered, total, elapsed.Seconds(), float64(answered)/elapsed.Seconds(), *rate, errors, notSent,
		float64(bytes)/float64(max(1, answered)))
	fmt.Printf("latency ms (from when due; not sent = +Inf): p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
		pct(50), pct(90), pct(99), pct(99.9), pct(100))
	if errors > 0 {
		os.Exit(1)
	}
}

func max(a, b int) int {
	if a > b {
		return a
	}
	return b
}
