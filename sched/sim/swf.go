package sim

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Trace is a parsed SWF file.
type Trace struct {
	// MaxProcs is the "; MaxProcs: N" header, 0 when absent.
	MaxProcs int
	// Jobs in file order.
	Jobs []TraceJob
}

// TraceJob is one SWF data line.
type TraceJob struct {
	Line     int           // line number in the file, for messages
	ID       int           // field 1
	Submit   time.Duration // field 2, from the trace's start
	Run      time.Duration // field 4; negative when unknown
	Procs    int           // field 8 if positive, else field 5; <= 0 when unknown
	Estimate time.Duration // field 9; the run time when field 9 is -1
	// NoEstimate says field 9 was -1: the job asked for no time (as a line
	// without -t).
	NoEstimate bool
	// App is field 14, the executable (application) number, or -1: the
	// key learned estimates group jobs by.
	App int
}

// swfFields names the fields ReadSWF reads, by SWF number (1-based).
var swfFields = map[int]string{
	1: "job number", 2: "submit time", 4: "run time", 5: "allocated processors",
	8: "requested processors", 9: "requested time",
}

// swfOrder is the order ReadSWF checks fields in, so that the first bad
// one is reported.
var swfOrder = []int{1, 2, 4, 5, 8, 9}

// minFields is the number of fields a data line needs (up to requested time).
const minFields = 9

// ReadSWF parses an SWF trace: ';' lines are header comments (MaxProcs is
// read from "; MaxProcs: N"), blank lines are skipped, data lines have 18
// whitespace-separated fields of which ReadSWF uses 1, 2, 4, 5, 8 and 9.
// Errors name the line: `line 12: field 5 (allocated processors) is not a
// number: "x"`.
func ReadSWF(r io.Reader) (Trace, error) {
	var t Trace
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if text[0] == ';' {
			k, v, ok := strings.Cut(strings.TrimSpace(text[1:]), ":")
			if ok && strings.TrimSpace(k) == "MaxProcs" {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil || n < 0 {
					return Trace{}, fmt.Errorf("line %d: MaxProcs header %q is not a whole number", line, strings.TrimSpace(v))
				}
				t.MaxProcs = n
			}
			continue
		}
		f := strings.Fields(text)
		if len(f) < minFields {
			return Trace{}, fmt.Errorf("line %d: %d fields; an SWF job line has 18 (at least %d are needed)", line, len(f), minFields)
		}
		var v [minFields + 1]float64
		for _, num := range swfOrder {
			x, err := strconv.ParseFloat(f[num-1], 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 1e12 {
				return Trace{}, fmt.Errorf("line %d: field %d (%s) is not a number: %q", line, num, swfFields[num], f[num-1])
			}
			v[num] = x
		}
		j := TraceJob{Line: line, ID: int(v[1]), Submit: seconds(v[2]), Run: seconds(v[4]), Procs: int(v[5])}
		if v[2] < 0 {
			return Trace{}, fmt.Errorf("line %d: field 2 (submit time) is negative: %q", line, f[1])
		}
		if v[8] > 0 {
			j.Procs = int(v[8])
		}
		j.Estimate = seconds(v[9])
		if v[9] < 0 {
			j.Estimate, j.NoEstimate = j.Run, true
		}
		j.App = -1
		if len(f) >= 14 {
			if app, err := strconv.Atoi(f[13]); err == nil {
				j.App = app
			}
		}
		t.Jobs = append(t.Jobs, j)
	}
	if err := sc.Err(); err != nil {
		return Trace{}, fmt.Errorf("line %d: %w", line+1, err)
	}
	return t, nil
}

func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
