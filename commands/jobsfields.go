package commands

import (
	"strconv"

	"github.com/fluxtaskfarm/flux/resources"
	"strings"
	"time"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/internal/jobid"
)

// jobRow is one job as flux jobs sees it: the broker's record and the
// moment of the listing (for runtimes of running jobs).
type jobRow struct {
	j    *broker.JobInfo
	now  time.Time
	user string
	uid  int
}

// Flux's job states and results, from our broker's states.
func (r jobRow) state() string {
	switch r.j.State {
	case "pending":
		return "SCHED"
	case "running":
		return "RUN"
	}
	return "INACTIVE"
}

func (r jobRow) result() string {
	switch r.j.State {
	case "pending", "running":
		return ""
	case "canceled":
		return "CANCELED"
	case "timeout":
		return "TIMEOUT"
	case "failed":
		return "FAILED"
	}
	return "COMPLETED"
}

var stateSingle = map[string]string{"DEPEND": "D", "PRIORITY": "P", "SCHED": "S", "RUN": "R", "CLEANUP": "C", "INACTIVE": "I"}
var resultAbbrev = map[string]string{"COMPLETED": "CD", "FAILED": "F", "CANCELED": "CA", "TIMEOUT": "TO"}

func (r jobRow) status() string {
	if res := r.result(); res != "" {
		return res
	}
	return r.state()
}

func (r jobRow) statusAbbrev() string {
	if res := r.result(); res != "" {
		return resultAbbrev[res]
	}
	return stateSingle[r.state()]
}

func (r jobRow) runtime() time.Duration {
	switch {
	case r.j.Start.IsZero():
		return 0
	case !r.j.End.IsZero():
		return r.j.End.Sub(r.j.Start)
	}
	return r.now.Sub(r.j.Start)
}

func (r jobRow) nnodes() int {
	if r.j.Ranks == "" {
		return 0
	}
	return strings.Count(r.j.Ranks, ",") + 1
}

// returncode is Flux's: the exit code, 128+signal, or -128 for a job
// canceled before it ran.
func (r jobRow) returncode() (int, bool) {
	if r.result() == "" {
		return 0, false
	}
	if r.j.Start.IsZero() && r.j.Canceled {
		return -128, true
	}
	return r.j.Status, true
}

func (r jobRow) exceptionType() string {
	switch r.result() {
	case "CANCELED":
		return "cancel"
	case "TIMEOUT":
		return "timeout"
	case "FAILED":
		if r.j.Note != "" {
			return "exec"
		}
	}
	return ""
}

func (r jobRow) expiration() time.Time {
	if r.j.TimeLimit <= 0 || r.j.Start.IsZero() {
		return time.Time{}
	}
	return r.j.Start.Add(r.j.TimeLimit)
}

// jobField is one field of flux jobs -o: its heading and its value.
type jobField struct {
	heading string
	get     func(r jobRow) fmtValue
}

var jobFields = map[string]jobField{
	"id":           {"JOBID", func(r jobRow) fmtValue { return strVal(jobid.String(r.j.ID)) }},
	"id.f58":       {"JOBID", func(r jobRow) fmtValue { return strVal(jobid.String(r.j.ID)) }},
	"id.f58plain":  {"JOBID", func(r jobRow) fmtValue { return strVal("f" + strings.TrimPrefix(jobid.String(r.j.ID), jobid.Prefix)) }},
	"id.dec":       {"JOBID", func(r jobRow) fmtValue { return intVal(int(r.j.ID)) }},
	"id.hex":       {"JOBID", func(r jobRow) fmtValue { return strVal(jobid.Encode(r.j.ID, jobid.Hex)) }},
	"id.dothex":    {"JOBID", func(r jobRow) fmtValue { return strVal(jobid.Encode(r.j.ID, jobid.DotHex)) }},
	"id.words":     {"JOBID", func(r jobRow) fmtValue { return strVal(jobid.Encode(r.j.ID, jobid.Words)) }},
	"userid":       {"UID", func(r jobRow) fmtValue { return intVal(r.uid) }},
	"username":     {"USER", func(r jobRow) fmtValue { return strVal(r.user) }},
	"user":         {"USER", func(r jobRow) fmtValue { return strVal(r.user) }},
	"urgency":      {"URG", func(r jobRow) fmtValue { return intVal(16) }},
	"priority":     {"PRI", func(r jobRow) fmtValue { return intVal(16) }},
	"state":        {"STATE", func(r jobRow) fmtValue { return strVal(r.state()) }},
	"state_single": {"S", func(r jobRow) fmtValue { return strVal(stateSingle[r.state()]) }},
	"name":         {"NAME", func(r jobRow) fmtValue { return strVal(r.j.Name) }},
	"cwd":          {"CWD", func(r jobRow) fmtValue { return strVal(r.j.Cwd) }},
	"queue":        {"QUEUE", func(r jobRow) fmtValue { return strVal("") }},
	"project":      {"PROJECT", func(r jobRow) fmtValue { return strVal("") }},
	"bank":         {"BANK", func(r jobRow) fmtValue { return strVal("") }},
	"ntasks":       {"NTASKS", func(r jobRow) fmtValue { return intVal(r.j.Req.Tasks) }},
	"ncores":       {"NCORES", func(r jobRow) fmtValue { return intVal(r.j.Req.Tasks * max(r.j.Req.CoresPerTask, 1)) }},
	"ngpus":        {"NGPUS", func(r jobRow) fmtValue { return intVal(r.j.Req.Tasks * r.j.Req.GPUsPerTask) }},
	"nnodes":       {"NNODES", func(r jobRow) fmtValue { return intVal(r.nnodes()) }},
	"duration":     {"DURATION", func(r jobRow) fmtValue { return durVal(r.j.TimeLimit) }},
	"expiration":   {"EXPIRATION", func(r jobRow) fmtValue { return timeVal(r.expiration()) }},
	"t_remaining": {"T_REMAINING", func(r jobRow) fmtValue {
		if r.state() != "RUN" || r.expiration().IsZero() {
			return durVal(0)
		}
		return durVal(max(r.expiration().Sub(r.now), 0))
	}},
	"ranks":         {"RANKS", func(r jobRow) fmtValue { return strVal(r.j.Ranks) }},
	"nodelist":      {"NODELIST", func(r jobRow) fmtValue { return strVal(compressHosts(r.j.Hosts)) }},
	"success":       {"SUCCESS", func(r jobRow) fmtValue { return strVal(r.success()) }},
	"result":        {"RESULT", func(r jobRow) fmtValue { return strVal(r.result()) }},
	"result_abbrev": {"RS", func(r jobRow) fmtValue { return strVal(resultAbbrev[r.result()]) }},
	"t_submit":      {"T_SUBMIT", func(r jobRow) fmtValue { return timeVal(r.j.Submit) }},
	"t_depend":      {"T_DEPEND", func(r jobRow) fmtValue { return timeVal(r.j.Submit) }},
	"t_priority":    {"T_PRIORITY", func(r jobRow) fmtValue { return timeVal(r.j.Submit) }},
	"t_sched":       {"T_SCHED", func(r jobRow) fmtValue { return timeVal(r.j.Submit) }},
	"t_run":         {"T_RUN", func(r jobRow) fmtValue { return timeVal(r.j.Start) }},
	"t_cleanup":     {"T_CLEANUP", func(r jobRow) fmtValue { return timeVal(r.j.End) }},
	"t_inactive":    {"T_INACTIVE", func(r jobRow) fmtValue { return timeVal(r.j.End) }},
	"runtime":       {"RUNTIME", func(r jobRow) fmtValue { return floatVal(r.runtime().Seconds()) }},
	"status":        {"STATUS", func(r jobRow) fmtValue { return strVal(r.status()) }},
	"status_abbrev": {"ST", func(r jobRow) fmtValue { return strVal(r.statusAbbrev()) }},
	"waitstatus": {"WSTATUS", func(r jobRow) fmtValue {
		if r.result() == "" || r.j.Start.IsZero() {
			return strVal("")
		}
		if r.j.Signal != 0 && r.j.Status == 128+r.j.Signal {
			return intVal(r.j.Signal)
		}
		return intVal(r.j.Status << 8)
	}},
	"returncode": {"RC", func(r jobRow) fmtValue {
		if rc, ok := r.returncode(); ok {
			return intVal(rc)
		}
		return strVal("")
	}},
	"exception.occurred": {"EXCEPTION-OCCURRED", func(r jobRow) fmtValue {
		if r.exceptionType() == "" {
			return strVal("")
		}
		return strVal("True")
	}},
	"exception.severity": {"EXCEPTION-SEVERITY", func(r jobRow) fmtValue {
		if r.exceptionType() == "" {
			return strVal("")
		}
		return intVal(0)
	}},
	"exception.type":  {"EXCEPTION-TYPE", func(r jobRow) fmtValue { return strVal(r.exceptionType()) }},
	"exception.note":  {"EXCEPTION-NOTE", func(r jobRow) fmtValue { return strVal(r.note()) }},
	"annotations":     {"ANNOTATIONS", func(r jobRow) fmtValue { return strVal("") }},
	"dependencies":    {"DEPENDENCIES", func(r jobRow) fmtValue { return strVal("") }},
	"contextual_info": {"INFO", func(r jobRow) fmtValue { return strVal(r.info()) }},
	"contextual_time": {"TIME", func(r jobRow) fmtValue {
		if r.state() == "SCHED" {
			return durVal(r.j.TimeLimit)
		}
		return durVal(r.runtime())
	}},
	"inactive_reason": {"INACTIVE-REASON", func(r jobRow) fmtValue { return strVal(r.inactiveReason()) }},
	"sched.reason_pending": {"REASON", func(r jobRow) fmtValue {
		if r.state() == "SCHED" {
			return strVal(r.j.Why)
		}
		return strVal("")
	}},
	"flags": {"FLAGS", func(r jobRow) fmtValue { return strVal(r.j.Flags) }},
}

func (r jobRow) success() string {
	switch r.result() {
	case "":
		return ""
	case "COMPLETED":
		return "True"
	}
	return "False"
}

func (r jobRow) note() string {
	if r.result() == "TIMEOUT" {
		return "resource allocation expired"
	}
	return r.j.Note
}

// info is the INFO column: why a pending job waits (the scheduler says),
// else where the job ran.
func (r jobRow) info() string {
	if r.state() == "SCHED" {
		return r.j.Why
	}
	return compressHosts(r.j.Hosts)
}

func (r jobRow) inactiveReason() string {
	switch r.result() {
	case "":
		return ""
	case "CANCELED":
		if r.j.Note != "" {
			return "Canceled: " + r.j.Note
		}
		return "Canceled"
	case "TIMEOUT":
		return "Timeout"
	case "COMPLETED":
		return "Exit 0"
	}
	if r.j.Note != "" {
		return "Exception: " + r.j.Note
	}
	if r.j.Signal != 0 {
		return "Killed by " + signalName(r.j.Signal)
	}
	if rc, _ := r.returncode(); rc != 0 {
		return "Exit " + itoa(rc)
	}
	return "Failed"
}

// jobFormats are flux jobs' named formats (flux-jobs(1)).
var jobFormats = map[string]string{
	"default": "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status_abbrev:>2.2} {ntasks:>6} {nnodes:>6h} " +
		"{contextual_time!F:>8h} {contextual_info}",
	"long": "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status:>9.9} {ntasks:>6} {nnodes:>6h} " +
		"{t_submit!d:%b%d %R::>12} {t_remaining!F:>12h} {contextual_time!F:>8h} {contextual_info}",
	"deps": "{id.f58:>12} ?:{queue:<8.8} {name:<10.10+} {urgency:<3} {priority:<12} {state:<8.8} {dependencies}",
	"endreason": "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status_abbrev:>2.2} " +
		"{t_inactive!d:%b%d %R::>12h} {inactive_reason}",
}

// compressHosts turns "vm,vm,node1,node2" into Flux's nodelist form
// ("vm,vm,node[1-2]" as flux-hostlist would; repeats stay, as Flux shows
// two brokers on one host).
func compressHosts(hosts string) string {
	if hosts == "" || !strings.Contains(hosts, ",") {
		return hosts
	}
	return hostlistOf(strings.Split(hosts, ","))
}

func hostlistOf(hosts []string) string { return resources.FormatHostlist(hosts) }

func itoa(n int) string { return strconv.Itoa(n) }
