// Command spawnloop is the benchmark's ceiling: the fewest steps Go needs to
// run a list of command lines, one worker per core, each line split on spaces
// and started with os.StartProcess (no shell, output to /dev/null). Whatever
// flux-capacitor adds on top of this is its own overhead.
//
//	spawnloop [-j N] [FILE]   # FILE defaults to stdin
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

func main() {
	jobs := flag.Int("j", runtime.NumCPU(), "concurrent processes")
	flag.Parse()
	in := os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintf(os.Stderr, "spawnloop: %v; pass a readable command file or pipe lines on stdin\n", err)
			os.Exit(2)
		}
		in = f
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "spawnloop: %v\n", err)
		os.Exit(2)
	}
	attr := &os.ProcAttr{Files: []*os.File{devnull, devnull, devnull}}
	lines := make(chan []string, 4*(*jobs)) // bounded: memory stays flat on long streams
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range max(*jobs, 1) {
		wg.Go(func() {
			for argv := range lines {
				if !run(argv, attr) {
					failed.Add(1)
				}
			}
		})
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if argv := strings.Fields(sc.Text()); len(argv) > 0 {
			lines <- argv
		}
	}
	close(lines)
	wg.Wait()
	if err := sc.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "spawnloop: reading commands: %v\n", err)
		os.Exit(1)
	}
	if n := failed.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "spawnloop: %d tasks failed or could not start; run one by hand to see why\n", n)
		os.Exit(1)
	}
}

// run starts one task and waits for it; a missing program counts as a failure.
func run(argv []string, attr *os.ProcAttr) bool {
	path, err := exec.LookPath(argv[0]) // StartProcess does not search PATH
	if err != nil {
		return false
	}
	p, err := os.StartProcess(path, argv, attr)
	if err != nil {
		return false
	}
	st, err := p.Wait()
	return err == nil && st.Success()
}
