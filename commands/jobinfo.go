package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
	"github.com/urfave/cli/v2"
)

func jobInfoCommand() *cli.Command {
	return &cli.Command{
		Name:      "info",
		Usage:     "print a job's jobspec, R (its resources) or eventlog",
		UsageText: "flux job info ID jobspec|R|eventlog",
		Description: `jobspec is the job as Flux's RFC 14 jobspec (without the environment, which the instance does not
keep), R its allocation (RFC 20 R_lite), eventlog its events as flux job eventlog prints them.`,
		Action: jobInfoAction,
	}
}

func jobInfoAction(c *cli.Context) error {
	const cmd = "flux-job"
	if c.Args().Len() != 2 {
		return exitf(2, "%s: usage: %s", cmd, c.Command.UsageText)
	}
	ids, err := parseJobIDs(cmd, c.Args().Slice()[:1])
	if err != nil {
		return err
	}
	key := c.Args().Get(1)
	if key != "jobspec" && key != "R" && key != "eventlog" {
		return exitf(2, "%s: info key %q: we keep jobspec, R and eventlog", cmd, key)
	}
	client, err := connect("job info")
	if err != nil {
		return err
	}
	defer client.Close()
	j, err := findJob(client, cmd, ids[0])
	if err != nil {
		return err
	}
	switch key {
	case "jobspec":
		spec := broker.Jobspec{Req: j.Req, Argv: j.Argv, Cwd: j.Cwd, TimeLimit: j.TimeLimit, Name: j.Name,
			Setopt: j.Setopt, Output: j.Output}
		b, _ := json.Marshal(jobspecJSON(&spec, nil))
		fmt.Printf("%s\n", b)
	case "R":
		if j.Ranks == "" {
			return exitf(1, "%s: %s: no R: the job has not been allocated resources", cmd, jobid.String(j.ID))
		}
		b, _ := json.Marshal(rJSON(j))
		fmt.Printf("%s\n", b)
	case "eventlog":
		for _, e := range jobEvents(j) {
			b, _ := json.Marshal(map[string]any{"timestamp": e.t, "name": e.name, "context": e.ctx})
			fmt.Printf("%s\n", b)
		}
	}
	return nil
}

// rJSON is a job's allocation as Flux's R (RFC 20).
func rJSON(j *broker.JobInfo) map[string]any {
	ranks := strings.Split(j.Ranks, ",")
	cores := strings.Fields(j.Cores)
	var lite []any
	for i, r := range ranks {
		children := map[string]any{}
		if i < len(cores) {
			children["core"] = cores[i]
		}
		lite = append(lite, map[string]any{"rank": r, "children": children})
	}
	exec := map[string]any{"R_lite": lite, "starttime": unixF(j.Start), "nodelist": strings.Split(j.Hosts, ",")}
	if j.TimeLimit > 0 {
		exec["expiration"] = unixF(j.Start.Add(j.TimeLimit))
	} else {
		exec["expiration"] = 0.0
	}
	return map[string]any{"version": 1, "execution": exec}
}

// jobEvent is one event of a job's eventlog (RFC 21), made from its record.
type jobEvent struct {
	t    float64
	name string
	ctx  map[string]any
}

// text prints an event as flux job eventlog does: timestamp, name, and the
// context as key=value.
func (e jobEvent) text(human bool) string {
	var b strings.Builder
	if human {
		b.WriteString(time.Unix(0, int64(e.t*1e9)).Format("[Jan02 15:04:05.000000]"))
	} else {
		fmt.Fprintf(&b, "%.6f", e.t)
	}
	b.WriteString(" ")
	b.WriteString(e.name)
	keys := make([]string, 0, len(e.ctx))
	for k := range e.ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, _ := json.Marshal(e.ctx[k])
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}

// jobEvents makes a job's eventlog from what the instance records: submit,
// validate, depend, priority, then alloc and start when it ran, an
// exception if it had one, finish, release, free and clean when it ended.
func jobEvents(j *broker.JobInfo) []jobEvent {
	r := jobRow{j: j}
	sub := unixF(j.Submit)
	ev := []jobEvent{
		{sub, "submit", map[string]any{"userid": os.Getuid(), "urgency": 16, "flags": 0, "version": 1}},
		{sub, "validate", nil},
		{sub, "depend", nil},
		{sub, "priority", map[string]any{"priority": 16}},
	}
	if !j.Start.IsZero() {
		st := unixF(j.Start)
		ev = append(ev, jobEvent{st, "alloc", nil}, jobEvent{st, "start", nil})
	}
	if r.result() == "" {
		return ev
	}
	end := unixF(j.End)
	if t := r.exceptionType(); t != "" {
		ctx := map[string]any{"type": t, "severity": 0, "userid": os.Getuid(), "note": r.note()}
		ev = append(ev, jobEvent{end, "exception", ctx})
	}
	if !j.Start.IsZero() {
		ws := jobFields["waitstatus"].get(r)
		ev = append(ev, jobEvent{end, "finish", map[string]any{"status": int(ws.n)}},
			jobEvent{end, "release", map[string]any{"ranks": "all", "final": true}},
			jobEvent{end, "free", nil})
	}
	return append(ev, jobEvent{end, "clean", nil})
}

func jobEventlogCommand() *cli.Command {
	return &cli.Command{
		Name:      "eventlog",
		Usage:     "print a job's events with their timestamps and context",
		UsageText: "flux job eventlog [-H] ID",
		Description: `The events (submit, validate, depend, priority, alloc, start, exception, finish, release, free,
clean) are made from what the instance records of the job, so events of one moment share a timestamp.`,
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Usage: "print times as dates"}},
		Action: jobEventlogAction,
	}
}

func jobEventlogAction(c *cli.Context) error {
	const cmd = "flux-job"
	id, err := oneJobID(c, cmd)
	if err != nil {
		return err
	}
	client, err := connect("job eventlog")
	if err != nil {
		return err
	}
	defer client.Close()
	j, err := findJob(client, cmd, id)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	for _, e := range jobEvents(j) {
		fmt.Fprintln(w, e.text(c.Bool("human")))
	}
	return w.Flush()
}

func jobLastCommand() *cli.Command {
	return &cli.Command{
		Name:      "last",
		Usage:     "print the id of the most recently submitted job (or the last N)",
		UsageText: "flux job last [N]",
		Action: func(c *cli.Context) error {
			const cmd = "flux-job"
			n := 1
			if c.Args().Len() > 0 {
				if _, err := fmt.Sscanf(c.Args().First(), "%d", &n); err != nil || n < 1 || c.Args().Len() > 1 {
					return exitf(2, "%s: last %q: give a count of jobs such as 3", cmd, c.Args().First())
				}
			}
			client, err := connect("job last")
			if err != nil {
				return err
			}
			defer client.Close()
			var reply broker.ListReply
			if err := client.RPC(context.Background(), broker.TopicList, &broker.ListRequest{All: true}, &reply); err != nil {
				return exitf(1, "%s: %v", cmd, err)
			}
			if len(reply.Jobs) == 0 {
				return exitf(1, "%s: no jobs have been submitted", cmd)
			}
			ids := make([]uint64, len(reply.Jobs))
			for i, j := range reply.Jobs {
				ids[i] = j.ID
			}
			// Ids grow with submission time, so the largest is the last.
			sort.Slice(ids, func(a, b int) bool { return ids[a] > ids[b] })
			for _, id := range ids[:min(n, len(ids))] {
				fmt.Println(jobid.String(id))
			}
			return nil
		},
	}
}

func jobIDCommand() *cli.Command {
	return &cli.Command{
		Name:      "id",
		Usage:     "convert job ids between forms: f58, dec, hex, dothex, words",
		UsageText: "flux job id [--to=FORM] [ID...]   (ids from standard input without arguments)",
		Flags:     []cli.Flag{&cli.StringFlag{Name: "to", Value: "dec", Usage: "the form to print: dec, f58, hex, dothex, words"}},
		Action: func(c *cli.Context) error {
			const cmd = "flux-job"
			form, err := jobid.ParseForm(c.String("to"))
			if err != nil {
				return exitf(2, "%s: --to: %v", cmd, err)
			}
			args := c.Args().Slice()
			if len(args) == 0 {
				sc := bufio.NewScanner(os.Stdin)
				for sc.Scan() {
					if s := strings.TrimSpace(sc.Text()); s != "" {
						args = append(args, s)
					}
				}
			}
			ids, err := parseJobIDs(cmd, args)
			if err != nil {
				return err
			}
			for _, id := range ids {
				fmt.Println(jobid.Encode(id, form))
			}
			return nil
		},
	}
}
