package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
)

// httpClient sends exactly n keep-alive GET / requests over conns
// connections (n/conns each, one at a time per connection, as wrk does)
// and checks each answer is 200 with the body "hello world\n"; for
// bench/http_callgrind.sh, which needs a fixed request count rather than
// a fixed time. Prints the requests answered.
func httpClient(addr string, conns, n int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	for i := 0; i < conns; i++ {
		k := n / conns
		if i < n%conns {
			k++
		}
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			if err := getMany(addr, req, k); err != nil {
				mu.Lock()
				failed = err
				mu.Unlock()
			}
		}(k)
	}
	wg.Wait()
	if failed != nil {
		fmt.Fprintln(os.Stderr, "httpclient:", failed)
		os.Exit(1)
	}
	fmt.Printf("RESULT requests %d\n", n)
}

func getMany(addr string, req []byte, k int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	r := textproto.NewReader(bufio.NewReader(c))
	body := make([]byte, 64)
	for ; k > 0; k-- {
		if _, err := c.Write(req); err != nil {
			return err
		}
		line, err := r.ReadLine()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "HTTP/1.1 200 ") {
			return fmt.Errorf("status line %q", line)
		}
		h, err := r.ReadMIMEHeader()
		if err != nil {
			return err
		}
		cl, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil || cl > len(body) {
			return fmt.Errorf("Content-Length %q", h.Get("Content-Length"))
		}
		if _, err := io.ReadFull(r.R, body[:cl]); err != nil {
			return err
		}
		if string(body[:cl]) != "hello world\n" {
			return fmt.Errorf("body %q", body[:cl])
		}
	}
	return nil
}
