// Go peer of bench/workloads.lua: the same six workloads, written the way a
// Go programmer would, stdlib only. Run with GOMAXPROCS=1 (bench/run.sh sets
// it) so that it compares with one lugo processor.
//
//	gobench -w pingpong [-n N] [-scale F]
//
// Prints one "RESULT <key> <value>" line per metric, as workloads.lua does.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

var sink int

func result(key string, v float64) { fmt.Printf("RESULT %s %.6g\n", key, v) }

func nsPer(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// procStatus returns VmRSS and VmHWM in bytes, read as the Lua side reads them.
func procStatus() (rss, hwm float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024
		case "VmHWM:":
			hwm = kb * 1024
		}
	}
	return
}

// 1. n goroutines park on one channel, then one close wakes them all.
func spawn(n int) {
	runtime.GC()
	base, _ := procStatus()
	ch := make(chan struct{})
	ready := make(chan struct{}, 1)
	finished := make(chan struct{}, 1)
	started, done := 0, 0 // GOMAXPROCS=1: goroutines never run in parallel
	body := func() {
		started++
		if started == n {
			ready <- struct{}{}
		}
		<-ch
		done++
		if done == n {
			finished <- struct{}{}
		}
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go body()
	}
	<-ready
	t1 := time.Now()
	_, hwm := procStatus()
	close(ch)
	<-finished
	t2 := time.Now()
	result("spawn_ns", nsPer(t1.Sub(t0), n))
	result("wake_ns", nsPer(t2.Sub(t1), n))
	result("park_bytes", (hwm-base)/float64(n))
}

// 2. unbuffered ping-pong between two goroutines.
func pingpong(n int) {
	result("rt_ns", roundTrips(n))
}

// ns per round trip over two unbuffered channels (also procs.go's xping:
// Go's goroutines may share a P or not, as GOMAXPROCS allows).
func roundTrips(n int) float64 {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	defer close(ping)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	return nsPer(time.Since(t0), n)
}

// 3. one producer, one consumer, channel of capacity 128.
func buffered(n int) {
	ch := make(chan int, 128)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	s := 0
	for v := range ch {
		s += v
	}
	sink = s
	result("item_ns", nsPer(time.Since(t0), n))
}

func producers(n, capacity int) (chan int, chan int) {
	c1, c2 := make(chan int, capacity), make(chan int, capacity)
	go func() {
		for i := 0; i < n; i++ {
			c1 <- i
		}
	}()
	go func() {
		for i := 0; i < n; i++ {
			c2 <- i
		}
	}()
	return c1, c2
}

// 4a. blocking select over two unbuffered channels, n values on each.
func selectBlock(n int) {
	t0 := time.Now()
	c1, c2 := producers(n, 0)
	s := 0
	for k := 0; k < 2*n; k++ {
		select {
		case v := <-c1:
			s += v
		case v := <-c2:
			s += v
		}
	}
	sink = s
	result("select_ns", nsPer(time.Since(t0), 2*n))
}

// 4b. select with default over two channels of capacity 128; on default
// the consumer yields so the producers can refill.
func selectDefault(n int) {
	t0 := time.Now()
	c1, c2 := producers(n, 128)
	s, got, misses := 0, 0, 0
	for got < 2*n {
		select {
		case v := <-c1:
			s += v
			got++
		case v := <-c2:
			s += v
			got++
		default:
			misses++
			runtime.Gosched()
		}
	}
	sink = s
	result("select_ns", nsPer(time.Since(t0), 2*n))
	result("default_hits", float64(misses))
}

// 4c. as 4a with a third case <-time.After(1s), new each iteration.
func selectTimeout(n int) {
	t0 := time.Now()
	c1, c2 := producers(n, 0)
	s, timeouts := 0, 0
	for k := 0; k < 2*n; k++ {
		select {
		case v := <-c1:
			s += v
		case v := <-c2:
			s += v
		case <-time.After(time.Second):
			timeouts++
		}
	}
	sink = s
	result("select_ns", nsPer(time.Since(t0), 2*n))
	result("timeouts", float64(timeouts))
}

func work(j int) int {
	s := j
	for i := 1; i <= 100; i++ {
		s += i
	}
	return s
}

// 5. worker pool: 4 workers, jobs and results channels of capacity 128.
func pool(n int) {
	t0 := time.Now()
	jobs, results := make(chan int, 128), make(chan int, 128)
	for w := 0; w < 4; w++ {
		go func() {
			for j := range jobs {
				results <- work(j)
			}
		}()
	}
	go func() {
		for j := 0; j < n; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	s := 0
	for k := 0; k < n; k++ {
		s += <-results
	}
	pt := time.Since(t0)
	t1 := time.Now()
	s2 := 0
	for j := 0; j < n; j++ {
		s2 += work(j)
	}
	st := time.Since(t1)
	if s != s2 {
		panic("pool: wrong sum")
	}
	sink = s
	result("job_ns", nsPer(pt, n))
	result("overhead_ns", nsPer(pt-st, n))
}

// 6. n goroutines sleep a random 0-1 s each; how late do they wake?
func sleepers(n int) {
	rng := rand.New(rand.NewSource(42))
	late := make([]float64, n)
	finished := make(chan struct{}, 1)
	done := 0
	t0 := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(rng.Float64() * float64(time.Second))
		go func(i int, d time.Duration) {
			due := time.Now().Add(d)
			time.Sleep(d)
			late[i] = float64(time.Since(due).Nanoseconds()) / 1e6
			done++
			if done == n {
				finished <- struct{}{}
			}
		}(i, d)
	}
	<-finished
	wall := time.Since(t0)
	_, hwm := procStatus()
	sort.Float64s(late)
	result("wall_s", wall.Seconds())
	result("peak_rss_mb", hwm/(1<<20))
	result("late_min_ms", late[0]) // below 0: a timer fired early
	result("late_p50_ms", late[(n-1)/2])
	result("late_p99_ms", late[(n*99+99)/100-1])
	result("late_max_ms", late[n-1])
}

var workloads = map[string]struct {
	fn func(int)
	n  int
}{
	"spawn":          {spawn, 1000000},
	"pingpong":       {pingpong, 1000000},
	"buffered":       {buffered, 10000000},
	"select_block":   {selectBlock, 1000000},
	"select_default": {selectDefault, 1000000},
	"select_timeout": {selectTimeout, 1000000},
	"pool":           {pool, 1000000},
	"sleep":          {sleepers, 100000},
	"cpupool":        {cpupool, 200000},
	"xping":          {xping, 200000},
	"xthroughput":    {xthroughput, 200000},
	"spawnrate":      {spawnrate, 200000},
}

func main() {
	w := flag.String("w", "", "workload")
	n := flag.Int("n", 0, "operations (default: the workload's own)")
	scale := flag.Float64("scale", 1, "multiply the default n")
	flag.Parse()
	wl, ok := workloads[*w]
	if !ok {
		fmt.Fprintf(os.Stderr, "gobench: unknown workload %q\n", *w)
		os.Exit(2)
	}
	count := *n
	if count == 0 {
		count = int(float64(wl.n) * *scale)
		if count < 1 {
			count = 1
		}
	}
	wl.fn(count)
}
