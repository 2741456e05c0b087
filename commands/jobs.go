package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/urfave/cli/v2"
)

func jobsCommand() *cli.Command {
	return &cli.Command{
		Name:      "jobs",
		Usage:     "list jobs: pending and running ones, with -a the recent finished ones too",
		UsageText: "flux jobs [-a] [-n] [-o FORMAT] [--filter=STATES] [-c N] [--since=WHEN] [--name=NAME] [--stats] [--json] [JOBID...]",
		Description: `As flux-jobs(1). Default columns: JOBID USER NAME ST NTASKS NNODES TIME INFO, where ST is S (pending,
waiting for resources), R (running), CD (completed), F (failed), CA (canceled), TO (timeout); TIME is
the runtime (for a pending job its time limit); INFO for a pending job says why it waits, else where
it ran. -o takes a named format (default, long, deps, endreason) or a format string of fields such as
'{id.f58:>12} {name:<10.10+} {status} {runtime!F}': id id.f58 id.dec id.hex id.dothex id.words
username userid name cwd state state_single status status_abbrev result result_abbrev success
returncode waitstatus exception.type exception.note ntasks ncores ngpus nnodes duration expiration
t_remaining t_submit t_run t_inactive runtime ranks nodelist contextual_info contextual_time
inactive_reason sched.reason_pending; conversions !F (duration) !H (h:mm:ss) !d (time, as
{t_submit!d:%b%d %R::>12}); spec [[fill]align][width][.precision][+][h]; a ?: prefix drops an empty
column. --filter takes states and results: pending running active inactive depend priority sched run
cleanup completed failed canceled timeout. The instance keeps the last 1000 finished jobs.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "list jobs in every state"},
			&cli.BoolFlag{Name: "all-users", Aliases: []string{"A"}, Usage: "jobs of every user (every job here is the instance owner's)"},
			&cli.StringFlag{Name: "format", Aliases: []string{"o"}, Value: "default", Usage: "a named format or a format string"},
			&cli.StringFlag{Name: "filter", Aliases: []string{"f"}, Usage: "list only jobs in these states or with these results, comma-separated"},
			&cli.BoolFlag{Name: "no-header", Aliases: []string{"n"}, Usage: "no header line"},
			&cli.IntFlag{Name: "count", Aliases: []string{"c"}, Value: 1000, Usage: "list at most N jobs"},
			&cli.StringFlag{Name: "since", Usage: "finished jobs only since WHEN: -1h, 30m (ago), a unix time or 2006-01-02T15:04:05; implies -a"},
			&cli.StringFlag{Name: "name", Usage: "only jobs with this name"},
			&cli.BoolFlag{Name: "stats", Usage: "print job counts before the list"},
			&cli.BoolFlag{Name: "stats-only", Usage: "print only the job counts; exit 1 if no job is active"},
			&cli.BoolFlag{Name: "json", Usage: "print the jobs as JSON, as flux jobs --json does"},
		},
		Action: jobsAction,
	}
}

// jobFilter is a set of Flux states and results.
type jobFilter map[string]bool

var filterWords = map[string][]string{
	"pending": {"SCHED"}, "running": {"RUN"}, "active": {"SCHED", "RUN"}, "inactive": {"INACTIVE"},
	"depend": {"DEPEND"}, "priority": {"PRIORITY"}, "sched": {"SCHED"}, "run": {"RUN"}, "cleanup": {"CLEANUP"},
	"completed": {"COMPLETED"}, "failed": {"FAILED"}, "canceled": {"CANCELED"}, "timeout": {"TIMEOUT"},
}

func parseJobFilter(s string) (jobFilter, error) {
	f := jobFilter{}
	for _, w := range strings.Split(s, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		states, ok := filterWords[w]
		if !ok {
			return nil, fmt.Errorf("unknown state or result %q; use pending, running, active, inactive, depend, priority, "+
				"sched, run, cleanup, completed, failed, canceled or timeout", w)
		}
		for _, st := range states {
			f[st] = true
		}
	}
	if len(f) == 0 {
		return nil, fmt.Errorf("no state given")
	}
	return f, nil
}

func (f jobFilter) match(r jobRow) bool {
	return f[r.state()] || f[r.result()]
}

func (f jobFilter) needsHistory() bool {
	return f["INACTIVE"] || f["COMPLETED"] || f["FAILED"] || f["CANCELED"] || f["TIMEOUT"]
}

// parseSince reads --since: an FSD ago (-1h or 1h), unix seconds, or a
// date and time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := capacitor.ParseDuration(strings.TrimPrefix(s, "-")); err == nil && strings.ContainsAny(s, "smhd") {
		return now.Add(-d), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(f*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			if layout == "15:04" {
				t = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.Local)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time; use -1h, 30m, unix seconds or 2006-01-02T15:04:05")
}

// jobsOptions is flux jobs' parsed command line, apart from the instance.
type jobsOptions struct {
	all       bool
	format    *jobFormat
	filter    jobFilter
	noHeader  bool
	count     int
	since     time.Time
	name      string
	stats     bool
	statsOnly bool
	json      bool
	ids       []uint64
}

func parseJobsOptions(c *cli.Context, now time.Time) (*jobsOptions, error) {
	o := &jobsOptions{all: c.Bool("all"), noHeader: c.Bool("no-header"), count: c.Int("count"), name: c.String("name"),
		stats: c.Bool("stats"), statsOnly: c.Bool("stats-only"), json: c.Bool("json")}
	f := c.String("format")
	if named, ok := jobFormats[f]; ok {
		f = named
	}
	jf, err := parseJobFormat(f, func(n string) bool { _, ok := jobFields[n]; return ok })
	if err != nil {
		return nil, exitf(2, "flux jobs: -o %q: %v (named formats: default, long, deps, endreason)", c.String("format"), err)
	}
	o.format = jf
	if c.IsSet("filter") {
		if o.filter, err = parseJobFilter(c.String("filter")); err != nil {
			return nil, exitf(2, "flux jobs: --filter %s: %v", c.String("filter"), err)
		}
	}
	if c.IsSet("since") {
		if o.since, err = parseSince(c.String("since"), now); err != nil {
			return nil, exitf(2, "flux jobs: --since %s: %v", c.String("since"), err)
		}
		o.all = true
	}
	if o.count < 0 {
		return nil, exitf(2, "flux jobs: --count %d: give 0 (no limit) or more", o.count)
	}
	for _, a := range c.Args().Slice() {
		id, err := jobid.Parse(a)
		if err != nil {
			return nil, exitf(2, "flux jobs: %v", err)
		}
		o.ids = append(o.ids, id)
	}
	return o, nil
}

func jobsAction(c *cli.Context) error {
	now := time.Now()
	o, err := parseJobsOptions(c, now)
	if err != nil {
		return err
	}
	// Without FLUX_URI: the one farm of this user running here (flux uri).
	client, _, err := connectOrFind("jobs")
	if err != nil {
		return err
	}
	defer client.Close()
	all := o.all || len(o.ids) > 0 || o.stats || o.statsOnly || (o.filter != nil && o.filter.needsHistory())
	var reply broker.ListReply
	req := broker.ListRequest{All: all, Stats: o.stats || o.statsOnly}
	if err := client.RPC(context.Background(), broker.TopicList, &req, &reply); err != nil {
		return exitf(1, "flux jobs: %v", err)
	}
	if st := reply.Stats; st != nil {
		// The instance's counts since it started (the history keeps only
		// the last 1000 jobs), with the lines run again by --retries.
		fmt.Println(statsLine(st))
		if o.statsOnly {
			if st.Running+st.Pending == 0 {
				return exitStatus(1)
			}
			return nil
		}
		o.stats = false
	}
	code, err := writeJobs(os.Stdout, os.Stderr, reply.Jobs, o, now, currentUser())
	if err != nil {
		return err
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

type userInfo struct {
	name string
	uid  int
}

func currentUser() userInfo {
	u := userInfo{uid: os.Getuid()}
	u.name = strconv.Itoa(u.uid)
	if cu, err := user.Current(); err == nil {
		u.name = cu.Username
	}
	return u
}

// writeJobs selects, orders and prints the jobs; it returns the exit
// status. It is the whole of flux jobs but the instance, for tests.
func writeJobs(w, errw io.Writer, jobs []broker.JobInfo, o *jobsOptions, now time.Time, u userInfo) (int, error) {
	rows := make([]jobRow, 0, len(jobs))
	for i := range jobs {
		rows = append(rows, jobRow{j: &jobs[i], now: now, user: u.name, uid: u.uid})
	}
	if o.stats || o.statsOnly {
		running, completed, failed, pending := 0, 0, 0, 0
		for _, r := range rows {
			switch r.status() {
			case "RUN":
				running++
			case "SCHED":
				pending++
			case "COMPLETED":
				completed++
			default:
				failed++
			}
		}
		fmt.Fprintf(w, "%d running, %d completed, %d failed, %d pending, 0 inactive purged\n", running, completed, failed, pending)
		if o.statsOnly {
			if running+pending == 0 {
				return 1, nil
			}
			return 0, nil
		}
	}
	var sel []jobRow
	if len(o.ids) > 0 {
		byID := map[uint64]jobRow{}
		for _, r := range rows {
			byID[r.j.ID] = r
		}
		code := 0
		for _, id := range o.ids {
			r, ok := byID[id]
			if !ok {
				fmt.Fprintf(errw, "flux jobs: %s: no such job (or it left the history of the last 1000 jobs)\n", jobid.String(id))
				code = 1
				continue
			}
			sel = append(sel, r)
		}
		if len(sel) == 0 {
			return code, nil
		}
		return code, printJobs(w, sel, o, len(o.ids) == 1)
	}
	filter := o.filter
	if filter == nil {
		filter, _ = parseJobFilter("active")
		if o.all {
			filter, _ = parseJobFilter("active,inactive")
		}
	}
	for _, r := range rows {
		if !filter.match(r) || (o.name != "" && r.j.Name != o.name) {
			continue
		}
		if !o.since.IsZero() && r.state() == "INACTIVE" && r.j.End.Before(o.since) {
			continue
		}
		sel = append(sel, r)
	}
	// Pending first (in submission order), then running and finished
	// ones, newest first, as flux jobs orders them.
	rank := map[string]int{"SCHED": 0, "RUN": 1, "INACTIVE": 2}
	sort.SliceStable(sel, func(a, b int) bool {
		ra, rb := rank[sel[a].state()], rank[sel[b].state()]
		if ra != rb {
			return ra < rb
		}
		if ra == 0 {
			return sel[a].j.ID < sel[b].j.ID
		}
		if ra == 2 && !sel[a].j.End.Equal(sel[b].j.End) {
			return sel[a].j.End.After(sel[b].j.End)
		}
		return sel[a].j.ID > sel[b].j.ID
	})
	if o.count > 0 && len(sel) > o.count {
		sel = sel[:o.count]
		fmt.Fprintf(errw, "warning: output truncated at %d jobs.\nUse --count to increase returned results or use filters to alter results.\n", o.count)
	}
	return 0, printJobs(w, sel, o, false)
}

func printJobs(w io.Writer, sel []jobRow, o *jobsOptions, single bool) error {
	if o.json {
		out := make([]map[string]any, len(sel))
		for i, r := range sel {
			out[i] = jobJSON(r)
		}
		enc := json.NewEncoder(w)
		if single {
			return enc.Encode(out[0])
		}
		return enc.Encode(map[string]any{"jobs": out})
	}
	get := func(i int, name string) fmtValue { return jobFields[name].get(sel[i]) }
	heading := func(name string) string { return jobFields[name].heading }
	_, err := io.WriteString(w, o.format.render(len(sel), get, heading, o.noHeader))
	return err
}

// jobJSON is one job in flux jobs --json's keys; unset values are left out,
// as Flux leaves them out.
func jobJSON(r jobRow) map[string]any {
	m := map[string]any{
		"id": r.j.ID, "userid": r.uid, "username": r.user, "urgency": r.j.Urgency, "priority": r.j.Urgency,
		"state": r.state(), "status": r.status(), "name": r.j.Name,
		"ntasks": r.j.Req.Tasks, "ncores": r.j.Req.Tasks * max(r.j.Req.CoresPerTask, 1),
		"t_submit": unixF(r.j.Submit), "duration": r.j.TimeLimit.Seconds(),
	}
	if r.j.Cwd != "" {
		m["cwd"] = r.j.Cwd
	}
	if r.j.Retry > 0 {
		m["retry"] = r.j.Retry // a line run again by flux-capacitor --retries
	}
	if !r.j.Start.IsZero() {
		m["t_run"] = unixF(r.j.Start)
		m["runtime"] = r.runtime().Seconds()
		m["nnodes"] = r.nnodes()
		m["ranks"] = r.j.Ranks
		m["nodelist"] = compressHosts(r.j.Hosts)
	}
	if exp := r.expiration(); !exp.IsZero() {
		m["expiration"] = unixF(exp)
	}
	if r.j.Why != "" && r.state() == "SCHED" {
		m["sched"] = map[string]any{"reason_pending": r.j.Why}
	}
	if res := r.result(); res != "" {
		m["t_inactive"] = unixF(r.j.End)
		m["t_cleanup"] = unixF(r.j.End)
		m["result"] = res
		m["success"] = res == "COMPLETED"
		rc, _ := r.returncode()
		m["returncode"] = rc
		if ws := jobFields["waitstatus"].get(r); ws.kind == kindInt {
			m["waitstatus"] = int(ws.n)
		}
		if t := r.exceptionType(); t != "" {
			m["exception"] = map[string]any{"occurred": true, "severity": 0, "type": t, "note": r.note()}
		} else {
			m["exception"] = map[string]any{"occurred": false}
		}
	}
	return m
}

func unixF(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// statsLine is flux jobs --stats' summary, flux-core's words and order,
// with the retries after a semicolon when there were any.
func statsLine(s *broker.JobStats) string {
	line := fmt.Sprintf("%d running, %d completed, %d failed, %d pending, %d inactive purged",
		s.Running, s.Completed, s.Failed, s.Pending, s.Purged)
	if s.Retried > 0 {
		line += fmt.Sprintf("; %d retried", s.Retried)
	}
	return line
}
