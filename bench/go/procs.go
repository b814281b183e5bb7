// Go peers of bench/procs.lua: the workloads across processors, run by
// bench/run.sh under GOMAXPROCS=1 and 2.
package main

import (
	"runtime"
	"sync"
	"time"
)

// The worker pool with CPU-bound jobs (sum 1..1000), one worker per P.
func cpupool(n int) {
	t0 := time.Now()
	jobs, results := make(chan int, 256), make(chan int, 256)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		go func() {
			for j := range jobs {
				s := 0
				for i := 1; i <= 1000; i++ {
					s += i
				}
				results <- j + s - 500500
			}
		}()
	}
	go func() {
		for j := 1; j <= n; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	s := 0
	for k := 0; k < n; k++ {
		s += <-results
	}
	if s != n*(n+1)/2 {
		panic("cpupool: wrong sum")
	}
	result("job_ns", nsPer(time.Since(t0), n))
}

// Ping-pong over unbuffered channels (Go's goroutines may share a P).
func xping(n int) {
	result("rtt_ns", roundTrips(n))
}

type order struct {
	id, z, items, ts  int
	user, state, note string
	x, y              float64
	paid              bool
}

// 10-field values through a channel of capacity 128.
func xthroughput(n int) {
	ch := make(chan order, 128)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- order{id: i, user: "u", x: 1.5, y: -2.25, z: i * 3,
				state: "new", paid: true, items: 3, note: "fast", ts: i}
		}
		close(ch)
	}()
	got := 0
	for v := range ch {
		got += v.items
	}
	if got != 3*n {
		panic("xthroughput: lost items")
	}
	result("item_ns", nsPer(time.Since(t0), n))
}

// Goroutines that only count down a WaitGroup.
func spawnrate(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	result("spawn_ns", nsPer(time.Since(t0), n))
}
