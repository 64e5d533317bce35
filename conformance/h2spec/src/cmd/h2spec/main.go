// Command h2spec: the command line around the vendored h2spec library (ferry's own file, see ../../../SOURCE.md).
// The snapshot lost its command directory (the snapshot's .gitignore names `h2spec`), so this is a small
// replacement with the flags ferry's tests and bench use, with the upstream defaults:
//
//	h2spec [-h HOST] [-p PORT] [-t] [-k] [-o SECONDS] [-j JUNIT_FILE] [-P PATH] [-m MAX_HEADER_LEN] [-S] [-v] [-c CIPHERS] [--dryrun] [SECTION...]
//
// Exit status: 0 when every selected test passed, 1 when one failed, 2 on a usage or run error.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/summerwind/h2spec"
	"github.com/summerwind/h2spec/config"
)

func main() {
	fs := flag.NewFlagSet("h2spec", flag.ContinueOnError)
	host := fs.String("h", "127.0.0.1", "target host")
	port := fs.Int("p", 0, "target port (0: 443 with -t, else 80)")
	path := fs.String("P", "/", "target path")
	useTLS := fs.Bool("t", false, "connect over TLS")
	insecure := fs.Bool("k", false, "do not verify the server's certificate")
	timeout := fs.Int("o", 2, "seconds to wait for each expected answer")
	junit := fs.String("j", "", "write a JUnit report to this file")
	maxHeader := fs.Int("m", 4000, "length of the long header values some tests send")
	strict := fs.Bool("S", false, "strict mode (also the tests for SHOULD requirements)")
	verbose := fs.Bool("v", false, "print the frames exchanged")
	ciphers := fs.String("c", "", "TLS cipher suites, comma-separated")
	dryRun := fs.Bool("dryrun", false, "list the tests without running them")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *port == 0 {
		if *useTLS {
			*port = 443
		} else {
			*port = 80
		}
	}
	c := &config.Config{
		Host:         *host,
		Port:         *port,
		Path:         *path,
		Timeout:      time.Duration(*timeout) * time.Second,
		MaxHeaderLen: *maxHeader,
		JUnitReport:  *junit,
		Strict:       *strict,
		DryRun:       *dryRun,
		TLS:          *useTLS,
		Ciphers:      *ciphers,
		Insecure:     *insecure,
		Verbose:      *verbose,
		Sections:     fs.Args(),
	}
	ok, err := h2spec.Run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "h2spec:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}
