package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// echoClient pushes blocks of size bytes through conns connections to an
// echo server for about d, reading the echo back concurrently (a writer and
// a reader per connection). At the deadline each writer half-closes its
// connection; the server then closes it, and the reader, having read every
// byte that was sent, sees EOF. Prints the bytes echoed, the seconds from
// the first write to the last EOF, and MB/s (10^6 bytes per second, one
// direction).
func echoClient(addr string, conns, size int, d time.Duration) {
	cs := make([]*net.TCPConn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		cs[i] = c.(*net.TCPConn)
	}
	var stop atomic.Bool
	var sent, echoed atomic.Int64
	var failed atomic.Value
	fail := func(what string, err error) { failed.CompareAndSwap(nil, what+": "+err.Error()) }
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range cs {
		wg.Add(2)
		go func(c *net.TCPConn) {
			defer wg.Done()
			buf := make([]byte, size)
			for !stop.Load() {
				if _, err := c.Write(buf); err != nil {
					fail("write", err)
					return
				}
				sent.Add(int64(size))
			}
			if err := c.CloseWrite(); err != nil {
				fail("shutdown", err)
			}
		}(c)
		go func(c *net.TCPConn) {
			defer wg.Done()
			buf := make([]byte, 256*1024)
			for {
				n, err := c.Read(buf)
				echoed.Add(int64(n))
				if err == io.EOF {
					return
				}
				if err != nil {
					fail("read", err)
					return
				}
			}
		}(c)
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	secs := time.Since(start).Seconds()
	for _, c := range cs {
		c.Close()
	}
	if f := failed.Load(); f != nil {
		fmt.Fprintln(os.Stderr, f)
		os.Exit(1)
	}
	if echoed.Load() != sent.Load() {
		fmt.Fprintf(os.Stderr, "sent %d bytes, %d came back\n", sent.Load(), echoed.Load())
		os.Exit(1)
	}
	fmt.Printf("RESULT bytes %d\n", echoed.Load())
	fmt.Printf("RESULT seconds %.6g\n", secs)
	fmt.Printf("RESULT mbps %.6g\n", float64(echoed.Load())/secs/1e6)
}
