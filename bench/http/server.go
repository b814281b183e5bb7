// Go peers for bench/net.sh, stdlib only; bench/net.sh builds them into
// build/bench/netbench and runs the servers with GOMAXPROCS=1, to compare
// with one lugo processor.
//
//	netbench http                  hello-world server (net/http, keep-alive)
//	netbench echo [-size N]        TCP echo in blocks of N bytes
//	netbench echoclient -addr A [-conns C] [-size N] [-d 3s]
//	netbench httpclient -addr A [-conns C] -n N   exactly N requests
//	netbench freeport              print a free TCP port on 127.0.0.1
//
// The servers listen on a free port of 127.0.0.1, print "LISTEN <port>"
// and serve until killed.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN %d\n", ln.Addr().(*net.TCPAddr).Port)
	return ln
}

func serveHTTP() {
	hello := []byte("hello world\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	fmt.Fprintln(os.Stderr, http.Serve(listen(), h))
	os.Exit(1)
}

// serveEcho does what bench/http/server.lua does: read exactly size bytes,
// write them back, until the client closes.
func serveEcho(size int) {
	ln := listen()
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, size)
			for {
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}(c)
	}
}

func freePort() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netbench http | echo [-size N] | echoclient -addr A [-conns C] [-size N] [-d D] | httpclient -addr A [-conns C] -n N | freeport")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	size := fs.Int("size", 65536, "echo block size in bytes")
	addr := fs.String("addr", "", "echo server host:port")
	conns := fs.Int("conns", 1, "client connections")
	dur := fs.Duration("d", 3e9, "client run time")
	n := fs.Int("n", 10000, "httpclient: requests in all")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "http":
		serveHTTP()
	case "echo":
		serveEcho(*size)
	case "echoclient":
		echoClient(*addr, *conns, *size, *dur)
	case "httpclient":
		httpClient(*addr, *conns, *n)
	case "freeport":
		freePort()
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}
