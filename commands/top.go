package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/capacitor"
	"github.com/fluxtaskfarm/flux/client"
	"github.com/fluxtaskfarm/flux/internal/rundir"
	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "watch a running instance live: lines done and failed, rate, ETA, cores busy per rank, running jobs",
		UsageText: "flux top [--color=WHEN] [TARGET]",
		Description: `A live view as flux-core's flux top: a summary pane and the running jobs, redrawn every
second. TARGET is a URI, pid:PID or jobid:ID (see flux uri); without it, FLUX_URI, else the one
flux-capacitor, flux-hierarchy or flux start of yours running on this node (when several run, flux
top asks which).

The summary shows, for a flux-capacitor or flux-hierarchy run, its lines: done, failed, retried,
running, pending, the rate and the ETA; then nodes and cores busy (and per rank), pending and
running jobs, completed and failed ones, the instance's size, depth and uptime.

Keys: j or down-arrow and k or up-arrow move the cursor in the job list; enter opens the job under
the cursor when it is a child instance (marked *, as a flux-hierarchy's children: on this node, of
this user); q goes back to the parent instance, or quits at the first; control-l redraws.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "color", Value: "auto", Usage: "colorize: auto, never or always"},
		},
		Action: topAction,
	}
}

// topLevel is one instance on the stack flux top descends through.
type topLevel struct {
	uri    string
	label  string // the path element: "top" or a job id
	client *overlay.Client
	cursor int
}

type topView struct {
	stack []*topLevel
	color bool
	out   *bufio.Writer
	msg   string // a one-line note at the bottom (e.g. why enter did nothing)
}

func topAction(c *cli.Context) error {
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return exitf(2, "flux top: needs a terminal; for scripts use flux jobs --stats or flux uri")
	}
	if c.Args().Len() > 1 {
		return exitf(2, "flux top: one TARGET at most (a URI, pid:PID or jobid:ID)")
	}
	var uri string
	switch {
	case c.Args().Len() == 1:
		u, err := resolveTarget("top", c.Args().First())
		if err != nil {
			return err
		}
		uri = u
	case os.Getenv("FLUX_URI") != "":
		uri = os.Getenv("FLUX_URI")
	default:
		e, err := findInstance("top", askInstance)
		if err != nil {
			return err
		}
		uri = e.URI
	}
	cl, err := dialClient(uri)
	if err != nil {
		return exitf(1, "flux top: %s: %v", uri, err)
	}
	color := c.String("color") == "always" || (c.String("color") == "auto" && os.Getenv("NO_COLOR") == "")
	v := &topView{stack: []*topLevel{{uri: uri, label: "top", client: cl}}, color: color, out: bufio.NewWriterSize(os.Stdout, 32<<10)}
	old, err := term.MakeRaw(int(os.Stdin.Fd()))
	if err != nil {
		return exitf(1, "flux top: %v", err)
	}
	// The alternate screen, as top(1): the shell's screen comes back at the end.
	os.Stdout.WriteString("\x1b[?1049h\x1b[?25l")
	defer func() {
		os.Stdout.WriteString("\x1b[?25h\x1b[?1049l")
		term.Restore(int(os.Stdin.Fd()), old)
		for _, l := range v.stack {
			l.client.Close()
		}
	}()
	keys := make(chan string, 16)
	go readKeys(keys)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := v.draw(); err != nil {
			if len(v.stack) == 1 {
				return exitf(1, "flux top: lost the instance at %s (did its run end?): %v", v.top().uri, err)
			}
			v.pop()
			v.msg = "the child instance ended: " + err.Error()
			continue
		}
		select {
		case k, ok := <-keys:
			if !ok {
				return nil
			}
			if quit := v.key(k); quit {
				return nil
			}
		case <-tick.C:
		}
	}
}

// askInstance lets the user choose among several running instances.
func askInstance(tops []rundir.Entry) (rundir.Entry, error) {
	fmt.Println("Several instances of yours are running on this node:")
	for i, e := range tops {
		fmt.Printf("  %d) %s\n", i+1, e.Describe())
	}
	for {
		fmt.Printf("Which one? [1-%d, q to quit] ", len(tops))
		var s string
		if _, err := fmt.Scanln(&s); err != nil && s == "" {
			return rundir.Entry{}, exitStatus(1)
		}
		if s == "q" {
			return rundir.Entry{}, exitStatus(1)
		}
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= len(tops) {
			return tops[n-1], nil
		}
	}
}

// readKeys turns the raw terminal's bytes into key names.
func readKeys(out chan<- string) {
	defer close(out)
	buf := make([]byte, 64)
	for {
		n, err := os.Stdin.Read(buf)
		if err != nil {
			return
		}
		for i := 0; i < n; i++ {
			switch b := buf[i]; {
			case b == 0x1b && i+2 < n && buf[i+1] == '[':
				switch buf[i+2] {
				case 'A':
					out <- "up"
				case 'B':
					out <- "down"
				}
				i += 2
			case b == '\r' || b == '\n':
				out <- "enter"
			case b == 0x0c:
				out <- "redraw"
			case b == 0x03:
				out <- "quit"
			default:
				out <- string(rune(b))
			}
		}
	}
}

func (v *topView) top() *topLevel { return v.stack[len(v.stack)-1] }

func (v *topView) pop() {
	l := v.top()
	l.client.Close()
	v.stack = v.stack[:len(v.stack)-1]
}

// key handles one key; it returns true to quit.
func (v *topView) key(k string) bool {
	l := v.top()
	v.msg = ""
	switch k {
	case "q":
		if len(v.stack) == 1 {
			return true
		}
		v.pop()
	case "quit":
		return true
	case "j", "down":
		l.cursor++
	case "k", "up":
		if l.cursor > 0 {
			l.cursor--
		}
	case "redraw":
		v.out.WriteString("\x1b[2J")
	case "enter":
		v.open()
	}
	return false
}

// open descends into the child instance under the cursor.
func (v *topView) open() {
	l := v.top()
	jobs, err := runningJobs(l.client)
	if err != nil || l.cursor >= len(jobs) {
		return
	}
	id := client.JobID(jobs[l.cursor].ID).String()
	all, _ := rundir.List()
	e, ok := rundir.Child(all, l.uri, jobs[l.cursor].ID)
	if !ok {
		v.msg = "job " + id + " is not a child instance of yours on this node"
		return
	}
	cl, err := dialClient(e.URI)
	if err != nil {
		v.msg = "cannot open job " + id + ": " + err.Error()
		return
	}
	v.stack = append(v.stack, &topLevel{uri: e.URI, label: id, client: cl})
}

// runningJobs are the instance's running jobs, newest first (as flux top).
func runningJobs(c *overlay.Client) ([]broker.JobInfo, error) {
	var reply broker.ListReply
	if err := rpcTimeout(c, broker.TopicList, &broker.ListRequest{}, &reply); err != nil {
		return nil, err
	}
	var run []broker.JobInfo
	for _, j := range reply.Jobs {
		if j.State == "running" {
			run = append(run, j)
		}
	}
	sort.Slice(run, func(a, b int) bool { return run[a].ID > run[b].ID })
	return run, nil
}

func rpcTimeout(c *overlay.Client, topic string, req, reply any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.RPC(ctx, topic, req, reply)
}

// draw fetches the current level's state and paints the whole screen.
func (v *topView) draw() error {
	l := v.top()
	var res broker.ResourceReply
	if err := rpcTimeout(l.client, broker.TopicResources, nil, &res); err != nil {
		return err
	}
	var list broker.ListReply
	if err := rpcTimeout(l.client, broker.TopicList, &broker.ListRequest{Stats: true}, &list); err != nil {
		return err
	}
	st := list.Stats
	if st == nil {
		st = &broker.JobStats{}
	}
	var jobs []broker.JobInfo
	for _, j := range list.Jobs {
		if j.State == "running" {
			jobs = append(jobs, j)
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID > jobs[b].ID })
	all, _ := rundir.List()
	ent, known := rundir.Best(all, l.uri)

	width, height, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil || width < 40 || height < 10 {
		width, height = 80, 24
	}
	var lines []string
	path := make([]string, len(v.stack))
	for i, s := range v.stack {
		path[i] = s.label
	}
	head := strings.Join(path, " > ")
	if known {
		head += fmt.Sprintf("   %s (pid %d)", ent.Name, ent.PID)
	}
	lines = append(lines, head)
	if known && ent.Progress != nil {
		var p capacitor.Progress
		if json.Unmarshal(ent.Progress, &p) == nil {
			total := p.Total
			if total <= 0 {
				total = p.Ended() + p.Running + p.Pending()
			}
			lines = append(lines, fmt.Sprintf("    lines %s", bar(p.Ended()+p.Skipped, total, 24)))
			lines = append(lines, "          "+p.Line())
		}
	}
	nodes, cores := res.All.Nodes(), res.All.Cores()
	busy := cores - res.Free.Cores()
	busyNodes := 0
	free := map[int]int{}
	for _, r := range res.Free.Ranks {
		free[r.Rank] = r.Cores.Count()
	}
	var perRank []string
	for _, r := range res.All.Ranks {
		n := r.Cores.Count() - free[r.Rank]
		if n > 0 {
			busyNodes++
		}
		perRank = append(perRank, fmt.Sprintf("rank %d %s", r.Rank, bar(n, r.Cores.Count(), 8)))
	}
	lines = append(lines, fmt.Sprintf("    nodes %-40s %6d pending", bar(busyNodes, nodes, 24), st.Pending))
	lines = append(lines, fmt.Sprintf("    cores %-40s %6d running", bar(busy, cores, 24), st.Running))
	lines = append(lines, fmt.Sprintf("    %6d complete, %6d failed (%d canceled, %d timeout), %d retried", st.Completed, st.Failed, st.Canceled, st.Timeout, st.Retried))
	// Cores busy per rank, as many as fit on two lines.
	rows, row, shown := 0, "   ", 0
	for _, s := range perRank {
		if len(row)+len(s)+1 > width {
			if rows == 1 {
				break
			}
			lines = append(lines, row)
			rows, row = rows+1, "   "
		}
		row += " " + s
		shown++
	}
	if shown < len(perRank) {
		row += fmt.Sprintf(" ... %d more", len(perRank)-shown)
	}
	lines = append(lines, row)
	uptime := "-"
	if known {
		uptime = fmtDuration(time.Since(ent.Started))
	}
	lines = append(lines, fmt.Sprintf(" size: %d   depth: %d   uptime: %s   %s", nodes, len(v.stack)-1, uptime, l.uri))
	lines = append(lines, fmt.Sprintf("%12s ST NTASKS NNODES %8s NAME", "JOBID", "RUNTIME"))
	if l.cursor >= len(jobs) {
		l.cursor = max(len(jobs)-1, 0)
	}
	room := height - len(lines) - 2
	first := 0
	if l.cursor >= room {
		first = l.cursor - room + 1
	}
	now := time.Now()
	for i := first; i < len(jobs) && i < first+room; i++ {
		j := jobs[i]
		id := client.JobID(j.ID).String()
		_, inst := rundir.Child(all, l.uri, j.ID)
		name := j.Name
		if inst {
			name += " *"
		}
		nn := strings.Count(j.Ranks, ",") + 1
		// Padded by characters: the f58 id starts with a two-byte "ƒ".
		id = strings.Repeat(" ", max(0, 12-utf8.RuneCountInString(id))) + id
		s := fmt.Sprintf("%s  R %6d %6d %8s %s", id, j.Req.Tasks, nn, fmtDuration(now.Sub(j.Start)), name)
		if r := []rune(s); len(r) > width {
			s = string(r[:width])
		}
		switch {
		case i == l.cursor && v.color && inst:
			s = "\x1b[7;34m" + s + "\x1b[0m"
		case i == l.cursor:
			s = "\x1b[7m" + s + "\x1b[0m"
		case v.color && inst:
			s = "\x1b[34m" + s + "\x1b[0m"
		}
		lines = append(lines, s)
	}
	v.out.WriteString("\x1b[H")
	for _, s := range lines {
		if r := []rune(s); len(r) > width && !strings.Contains(s, "\x1b") {
			s = string(r[:width]) // a line that wrapped would push the job list down
		}
		v.out.WriteString(s)
		v.out.WriteString("\x1b[K\r\n")
	}
	v.out.WriteString("\x1b[J")
	foot := "q quit" + map[bool]string{true: " (back)", false: ""}[len(v.stack) > 1] + "  j/k move  enter open a child instance (*)"
	if v.msg != "" {
		foot = v.msg
	}
	fmt.Fprintf(v.out, "\x1b[%d;1H%s\x1b[K", height, foot)
	return v.out.Flush()
}

// bar draws [||||    ] n/of in width characters.
func bar(n, of, width int) string {
	fill := 0
	if of > 0 {
		fill = min(width, n*width/of)
	}
	return "[" + strings.Repeat("|", fill) + strings.Repeat(" ", width-fill) + "] " + strconv.Itoa(n) + "/" + strconv.Itoa(of)
}
