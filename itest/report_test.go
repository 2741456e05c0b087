package itest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fluxtaskfarm/flux/internal/testbed"
	"github.com/fluxtaskfarm/flux/report"
)

// reportOnce builds flux-report, the program flux report runs, next to
// the flux under test (as scripts/build does).
var reportOnce struct {
	sync.Once
	err error
}

func needReportProgram(t *testing.T) {
	t.Helper()
	reportOnce.Do(func() {
		build := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", filepath.Join(bin, "flux-report"), "../cmd/flux-report")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			reportOnce.err = fmt.Errorf("building flux-report: %v\n%s", err, out)
		}
	})
	if reportOnce.err != nil {
		t.Fatal(reportOnce.err)
	}
}

// countColor counts the pixels of img within 3 of colour c in every channel.
func countColor(img image.Image, c color.RGBA) int {
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d >= -3 && d <= 3 }
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
				n++
			}
		}
	}
	return n
}

// checkPicture fails unless img shows the report's charts: not blank, and
// with enough pixels of each chart's colour.
func checkPicture(t *testing.T, what string, img image.Image, colors map[string]color.RGBA) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() < 400 || b.Dy() < 400 {
		t.Fatalf("%s: %dx%d is too small to be the report", what, b.Dx(), b.Dy())
	}
	if white := countColor(img, color.RGBA{255, 255, 255, 255}); white > b.Dx()*b.Dy()*98/100 {
		t.Fatalf("%s is blank: %d of %d pixels white", what, white, b.Dx()*b.Dy())
	}
	for name, c := range colors {
		if n := countColor(img, c); n < 200 {
			t.Errorf("%s: %d pixels of %s (%v): that chart is not there", what, n, name, c)
		}
	}
}

var reportColors = map[string]color.RGBA{
	"cores busy (fill)":       report.ColorBusyFill,
	"cores available (line)":  report.ColorCapacity,
	"runtime histogram":       report.ColorRuntime,
	"failures by exit/signal": report.ColorFailure,
}

// screenshot renders page in headless Debian chromium and returns the
// picture; the PNG stays at shot.
func screenshot(t *testing.T, page, shot string) image.Image {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		testbed.Require(t, "chromium", "Debian's chromium package is not installed (scripts/test installs it)")
	}
	profile := t.TempDir() // a fresh profile: nothing from another run
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--window-size=1200,3000", "--hide-scrollbars",
		"--screenshot="+shot, "file://"+page)
	c.WaitDelay = 5 * time.Second
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v\n%s", err, out)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot of %s: %s", filepath.Base(page), shot)
	if keep := os.Getenv("FLUX_REPORT_SCREENSHOT"); keep != "" { // to look at it by eye
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
	}
	return img
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// TestReportOurLog: a capacitor run's job log, drawn as HTML (rendered by
// chromium), PNG and SVG.
func TestReportOurLog(t *testing.T) {
	needReportProgram(t)
	dir := t.TempDir()
	var cmds strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&cmds, "-n1 sleep 0.%d\n", 1+i%3)
	}
	cmds.WriteString("-c2 sleep 0.4\n-n1 sh -c 'exit 3'\n-n1 false\n")
	writeFile(t, filepath.Join(dir, "cmds"), cmds.String())
	r := run(t, dir, "", "flux-capacitor", "--quiet", "--joblog", "run.log", "--command_file", "cmds")
	if r.code != 1 {
		t.Fatalf("capacitor: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, dir, "", "flux", "report", "run.log", "-o", "report.html", "--top", "5")
	if r.code != 0 || !strings.Contains(r.stderr, "wrote report.html: 11 lines, 2 failed") {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	page := readFile(t, filepath.Join(dir, "report.html"))
	for _, want := range []string{"The 5 slowest lines", "-c2 sleep 0.4", "exit 3", "exit 1", "<th>widest line</th><td>2 cores</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	checkPicture(t, "the HTML in chromium", screenshot(t, filepath.Join(dir, "report.html"), filepath.Join(dir, "shot.png")), reportColors)

	// Flags before the log, and the other formats.
	if r := run(t, dir, "", "flux", "report", "-o", "report.png", "run.log"); r.code != 0 {
		t.Fatalf("png: exit %d\n%s", r.code, r.stderr)
	}
	checkPicture(t, "report.png", decodePNG(t, filepath.Join(dir, "report.png")), reportColors)
	if r := run(t, dir, "", "flux", "report", "run.log", "--output=report.svg"); r.code != 0 {
		t.Fatalf("svg: exit %d\n%s", r.code, r.stderr)
	}
	if svg := readFile(t, filepath.Join(dir, "report.svg")); !strings.Contains(svg, "<svg") || !strings.Contains(svg, "Cores busy over time") {
		t.Errorf("report.svg is not the picture: %.200s", svg)
	}
	// From standard input.
	if r := run(t, dir, readFile(t, filepath.Join(dir, "run.log")), "flux", "report", "-", "-o", "stdin.html"); r.code != 0 ||
		!strings.Contains(r.stderr, "11 lines") {
		t.Fatalf("stdin: exit %d\n%s", r.code, r.stderr)
	}
}

// TestReportGNUParallelLog: a log written by GNU parallel itself.
func TestReportGNUParallelLog(t *testing.T) {
	needReportProgram(t)
	parallel, err := exec.LookPath("parallel")
	if err != nil {
		testbed.Require(t, "GNU parallel", "Debian's parallel package is not installed (scripts/test installs it)")
	}
	dir := t.TempDir()
	r := run(t, dir, "", parallel, "--will-cite", "--joblog", "par.log", "-j2",
		"sleep 0.{}; [ {} = 6 ] && kill -9 $$; exit $(( {} % 3 ))", ":::", "1", "2", "3", "4", "5", "6")
	if r.code == 0 {
		t.Fatalf("parallel: exit 0, want failures\n%s", r.stderr)
	}
	if !strings.HasPrefix(readFile(t, filepath.Join(dir, "par.log")), report.Header+"\n") {
		t.Fatalf("GNU parallel wrote another header:\n%s", readFile(t, filepath.Join(dir, "par.log")))
	}
	r = run(t, dir, "", "flux", "report", "par.log", "-o", "par.html")
	// -j2: two cores at the peak, inferred; 1,2,4,5 exit non-zero, 6 is killed.
	if r.code != 0 || !strings.Contains(r.stderr, "wrote par.html: 6 lines, 5 failed") || !strings.Contains(r.stderr, "of 2 cores") {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	page := readFile(t, filepath.Join(dir, "par.html"))
	for _, want := range []string{"local (:)", "inferred from the peak concurrency", "<td>signal 9 (SIGKILL)</td>", "<td>exit 1</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	checkPicture(t, "parallel's log in chromium", screenshot(t, filepath.Join(dir, "par.html"), filepath.Join(dir, "shot.png")), reportColors)
}

// TestReportHierarchyStats: flux-hierarchy's job log and --stats file feed
// one report with a line per instance.
func TestReportHierarchyStats(t *testing.T) {
	needReportProgram(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config.json"), `{"shape":"2x1"}`)
	var cmds strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&cmds, "-n1 sleep 0.0%d\n", i%10)
	}
	cmds.WriteString("-n1 false\n")
	writeFile(t, filepath.Join(dir, "cmds"), cmds.String())
	r := run(t, dir, "", "flux-hierarchy", "--quiet", "--config=config.json", "--stats", "stats.json",
		"--joblog", "run.log", "--command_file", "cmds")
	if r.code != 1 {
		t.Fatalf("hierarchy: exit %d\n%s", r.code, r.stderr)
	}
	// Each leaf counts the core-seconds its lines ran: no more than its
	// cores over its lifetime, and some.
	f, err := os.Open(filepath.Join(dir, "stats.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := report.ReadStats(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	leaves := 0
	for _, in := range st.Instances {
		if in.Leaf {
			leaves++
			if u := in.Utilisation(); u <= 0.05 || u > 1.01 {
				t.Errorf("leaf %s: busy %.3f core-s on %d cores over %.3f s: utilisation %.2f", in.Name, in.BusyCoreSeconds, in.Cores, in.Seconds(), u)
			}
		}
	}
	if leaves != 2 {
		t.Errorf("%d leaves in stats.json, want 2", leaves)
	}
	r = run(t, dir, "", "flux", "report", "run.log", "--stats", "stats.json", "-o", "h.html")
	if r.code != 0 || !strings.Contains(r.stderr, "21 lines, 1 failed") {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	page := readFile(t, filepath.Join(dir, "h.html"))
	for _, want := range []string{"Instances of the hierarchy", "top.0.0", "top.1.0", "Utilisation per leaf instance", "the top instance&#39;s cores in the stats file"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	colors := map[string]color.RGBA{"lines per instance": report.ColorInstance, "cores busy": report.ColorBusyFill}
	checkPicture(t, "the hierarchy's report in chromium", screenshot(t, filepath.Join(dir, "h.html"), filepath.Join(dir, "shot.png")), colors)
}

// TestReportBadInput: one-line errors and exit 2; a file that is not a job
// log still gets a report of what could be read.
func TestReportBadInput(t *testing.T) {
	needReportProgram(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "notes.txt"), "shopping list\neggs\n")
	writeFile(t, filepath.Join(dir, "mixed.log"), report.Header+"\n1\th\t1000\t2\t0\t0\t0\t0\ta\ngarbage here\n2\th\t1001\t2\t0\t0\t1\t0\tb\n")
	tests := []struct {
		args []string
		want string
		out  string // a report that must still be written
	}{
		{[]string{"notes.txt", "-o", "n.html"}, `notes.txt is not a job log: line 1: is "shopping list", not the job log header`, "n.html"},
		{[]string{"mixed.log", "-o", "m.html"}, "mixed.log is not all job log records: line 3: has 1 tab-separated columns", "m.html"},
		{[]string{"mixed.log", "-o", filepath.Join(dir, "no", "such", "dir", "r.html")}, "cannot write the report", ""},
		{[]string{"mixed.log", "-o", "r.pdf"}, "must end in .html, .svg or .png", ""},
		{[]string{"missing.log", "-o", "r.html"}, "job log: open missing.log", ""},
		{[]string{"mixed.log"}, "give the report to write with -o", ""},
		{[]string{"-o", "r.html"}, "give the job log to read", ""},
		{[]string{"mixed.log", "-o", "r.html", "--cores", "0"}, `--cores "0": want a whole number`, ""},
		{[]string{"mixed.log", "-o", "r.html", "--colour"}, "unknown option --colour", ""},
		{[]string{"mixed.log", "-o", "r.html", "--stats", "notes.txt"}, "--stats notes.txt: not the JSON", ""},
		{[]string{"mixed.log", "-o", "r.html", "--defaults", "-n"}, `--defaults "-n"`, ""},
	}
	for _, tt := range tests {
		r := run(t, dir, "", "flux", append([]string{"report"}, tt.args...)...)
		msg := strings.TrimSuffix(r.stderr, "\n")
		if r.code != 2 || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "flux report: ") {
			t.Errorf("flux report %s: exit %d, stderr %q; want exit 2 and one line with %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
		if tt.out != "" {
			if _, err := os.Stat(filepath.Join(dir, tt.out)); err != nil {
				t.Errorf("flux report %s: no report of what could be read: %v", strings.Join(tt.args, " "), err)
			}
		}
	}
	if page := readFile(t, filepath.Join(dir, "m.html")); !strings.Contains(page, "<svg") || !strings.Contains(page, "<th>lines</th><td>2</td>") {
		t.Errorf("the report of a log with a bad line does not show the 2 good records")
	}
	if r := run(t, dir, "", "flux", "report", "--help"); r.code != 0 || !strings.Contains(r.stdout, "cores available") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestReportProgramMissing: flux without flux-report beside it or on PATH
// says what to do.
func TestReportProgramMissing(t *testing.T) {
	dir := t.TempDir()
	lone := filepath.Join(dir, "flux")
	if err := os.Link(filepath.Join(bin, "flux"), lone); err != nil {
		b, _ := os.ReadFile(filepath.Join(bin, "flux"))
		writeFile(t, lone, string(b))
		os.Chmod(lone, 0o755)
	}
	// A flux-report that is a link to flux must not run flux forever.
	os.Symlink("flux", filepath.Join(dir, "flux-report"))
	c := exec.Command(lone, "report", "x.log", "-o", "r.html")
	c.Env = []string{"PATH=/usr/bin:/bin"}
	out, err := c.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "flux-report, the program that draws the report, is not next to flux nor on PATH") {
		t.Fatalf("exit %v: %s", err, out)
	}
}

// writeBigLog writes a job log of n generated lines: 4 hosts, 1 to 4
// cores a line, runtimes from 1 ms to a minute, some failures.
func writeBigLog(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewSource(1))
	w.WriteString(report.Header + "\n")
	var b []byte
	start := int64(1_700_000_000_000)
	for i := 1; i <= n; i++ {
		start += int64(rng.Intn(3))
		rt := int64(1) << rng.Intn(16)
		exit := 0
		if rng.Intn(100) == 0 {
			exit = 1 + rng.Intn(3)
		}
		b = strconv.AppendInt(b[:0], int64(i), 10)
		b = fmt.Appendf(b, "\tnode%d\t%d.%03d\t%d.%03d\t0\t0\t%d\t0\t-n%d ./simulate --seed %d\n",
			i%4, start/1000, start%1000, rt/1000, rt%1000, exit, 1+i%4, i)
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// maxRSS runs flux report on a log under GNU time and returns its peak
// resident memory. Not the rusage of a child of the test: Go starts
// children with vfork, and Linux counts the parent's resident memory at
// the exec into the child's maximum, which would hide flux report's own.
// GNU time forks from a small process, so what it reports is flux's.
func maxRSS(t *testing.T, dir, log string) (int64, time.Duration) {
	t.Helper()
	gnuTime := "/usr/bin/time"
	if _, err := os.Stat(gnuTime); err != nil {
		testbed.Require(t, "GNU time", "Debian's time package is not installed (scripts/test installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := cmd(ctx, dir, nil, gnuTime, "-f", "maxrss_kb=%M", filepath.Join(bin, "flux"), "report", log, "-o", log+".svg")
	var errb bytes.Buffer
	c.Stdout, c.Stderr = io.Discard, &errb
	start := time.Now()
	if err := c.Run(); err != nil {
		t.Fatalf("flux report %s: %v\n%s", log, err, errb.String())
	}
	took := time.Since(start)
	_, kb, ok := strings.Cut(errb.String(), "maxrss_kb=")
	n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64)
	if !ok || err != nil {
		t.Fatalf("GNU time said %q", errb.String())
	}
	return n * 1024, took
}

// TestReportMemoryBounded: the peak memory of flux report does not grow
// with the log: a million lines (FLUX_REPORT_BIG_LINES to change it; the
// README's figure is for 10,000,000) against ten thousand.
func TestReportMemoryBounded(t *testing.T) {
	needReportProgram(t)
	n := 1_000_000
	if s := os.Getenv("FLUX_REPORT_BIG_LINES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	writeBigLog(t, filepath.Join(dir, "small.log"), 10_000)
	writeBigLog(t, filepath.Join(dir, "big.log"), n)
	small, _ := maxRSS(t, dir, "small.log")
	big, took := maxRSS(t, dir, "big.log")
	t.Logf("flux report: max RSS %.1f MiB for 10,000 lines, %.1f MiB for %d lines (%.1f s, %.0f lines/s)",
		float64(small)/(1<<20), float64(big)/(1<<20), n, took.Seconds(), float64(n)/took.Seconds())
	if big > small+16<<20 {
		t.Errorf("max RSS grew from %d to %d bytes with the log's length", small, big)
	}
}
