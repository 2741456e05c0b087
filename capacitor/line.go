package capacitor

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/resources"
)

// Line is one parsed command line: its resource request and how to run it.
type Line struct {
	Seq       int               // line number (1-based, counting every physical line incl. blank/comment)
	Text      string            // the raw line, trimmed of the trailing newline and surrounding blanks
	Req       resources.Request // defaults applied, then Normalize()d: Tasks 0 -> max(Nodes,1), CoresPerTask 0 -> 1
	TimeLimit time.Duration
	Cwd       string
	Env       []string // defaults first, then per-line --env (later wins for the same key); read-only, may share the defaults' array
	Output    string
	Error     string // --error: stderr's own file template
	Input     string // --input: the tasks' standard input (JobArgv puts a shell in front)
	LabelIO   bool
	Name      string   // --job-name
	Setopt    []string // -o KEY=VALUE shell options (checked), defaults first
	PMI       string   // -o pmi=off|on: "" serves PMI-1 to jobs of several tasks
	Argv      []string
	Shell     bool   // Argv is ["/bin/sh","-c",Command]
	Command   string // the command part as written (for display)
	Retries   int    // run it again up to this many times when it fails (--retries)
	Urgency   *int   // --urgency (0 holds, 31 expedites); nil: the instance's default, 16
	// Deps are --dependency: on job ids (the instance judges them) and on
	// earlier lines (afterok:line:12; Line is then the line's Seq, and the
	// capacitor holds the line until it can judge them).
	Deps []broker.Dependency
}

// JobArgv is what the job runs: Argv, behind a shell that opens --input
// (the launcher gives tasks /dev/null) when the line has one.
func (l *Line) JobArgv() []string {
	if l.Input == "" {
		return l.Argv
	}
	return append([]string{shellPath, "-c", `exec "$@" < "$0"`, l.Input}, l.Argv...)
}

// LineError reports a line that cannot run, with its line number.
type LineError struct {
	Seq int
	Msg string
}

func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Seq) + ": " + e.Msg }

// shellPath runs every command that needs a shell.
const shellPath = "/bin/sh"

const msgNoCommand = "no command after the options"

// ParseLine parses one command line: leading Flux jobspec options, then the
// command. skip is true for blank and comment lines. A line that cannot run
// returns a *LineError; the returned Line still carries Seq and Text so the
// caller can report it. getenv serves --env NAME (nil means os.Getenv).
//
// ParseLine does not compare the request with the instance's size: the
// scheduler does, knowing the instance.
func ParseLine(seq int, text string, def Defaults, getenv func(string) string) (l Line, skip bool, err error) {
	return parseLine(seq, text, &def, getenv, true)
}

// parseLine is ParseLine with the fast paths optional, so that tests can
// check that they agree with the shell parser.
func parseLine(seq int, text string, def *Defaults, getenv func(string) string, fast bool) (Line, bool, error) {
	text = strings.Trim(text, " \t\r\n")
	l := Line{Seq: seq, Text: text}
	if text == "" || text[0] == '#' {
		return l, true, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	var msg string
	if strings.IndexByte(text, 0) >= 0 {
		// No argv or environment can carry a NUL; say so here rather than
		// let exec fail with EINVAL.
		msg = "the line holds a NUL byte, which no command can receive; is the input a binary file?"
	} else {
		msg = parseWords(text, def, getenv, fast, &l)
	}
	if msg != "" {
		return Line{Seq: seq, Text: text}, false, &LineError{Seq: seq, Msg: msg}
	}
	return l, false, nil
}

// parseWords reads the options and the command into l, or returns a message.
//
// The shell parser is exact but costs microseconds and kilobytes a line, so
// it is used only where a line needs it: words made of safe bytes (see
// safeByte) split on blanks exactly as the shell would split them. The
// options are read by hand while their words are safe; the command is split
// by hand if all of it is safe and it does not start with an assignment or a
// keyword. Anything else goes to the parser.
func parseWords(text string, def *Defaults, getenv func(string) string, fast bool, l *Line) string {
	var p *syntax.Parser
	defer func() {
		if p != nil {
			parserPool.Put(p)
		}
	}()
	parser := func() *syntax.Parser {
		if p == nil {
			p = parserPool.Get().(*syntax.Parser)
		}
		return p
	}

	// The fast path's options stay on the stack; the parser's iterator
	// makes its own escape to the heap, which only parsed lines pay for.
	fastOpts := lineOpts{getenv: getenv}
	o := &fastOpts
	cmdStart, msg, ok := -1, "", false
	if fast {
		cmdStart, msg, ok = scanOptionsFast(text, o)
	}
	if !ok {
		shellOpts := &lineOpts{getenv: getenv}
		cmdStart, msg = scanOptionsShell(parser(), text, shellOpts)
		o = shellOpts
	}
	if msg != "" {
		return msg
	}
	if fast && isSafeLine(text[cmdStart:]) {
		first := text[cmdStart:wordEnd(text, cmdStart)]
		if strings.IndexByte(first, '=') < 0 && !isShellKeyword(first) {
			setCommand(l, text[cmdStart:], splitBlanks(text[cmdStart:]))
			return o.finish(def, l)
		}
	}
	if msg := parseCommand(parser(), text, cmdStart, l); msg != "" {
		return msg
	}
	return o.finish(def, l)
}

// safeByte marks the bytes that mean nothing to a shell outside quotes:
// letters, digits, -_./,:=+@%^ and blanks. A line made only of them splits on
// blanks exactly as the shell would split it, without the parser.
var safeByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range []byte("-_./,:=+@%^ \t") {
		t[c] = true
	}
	return t
}()

func isSafeLine(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeByte[s[i]] {
			return false
		}
	}
	return true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

func wordEnd(s string, i int) int {
	for i < len(s) && !isBlank(s[i]) {
		i++
	}
	return i
}

// splitBlanks splits a safe command into its words with one allocation.
func splitBlanks(s string) []string {
	n := 0
	for i := skipBlanks(s, 0); i < len(s); i = skipBlanks(s, wordEnd(s, i)) {
		n++
	}
	argv := make([]string, 0, n)
	for i := skipBlanks(s, 0); i < len(s); i = skipBlanks(s, i) {
		j := wordEnd(s, i)
		argv = append(argv, s[i:j])
		i = j
	}
	return argv
}

// scanOptionsFast reads the options while their words are made of safe
// bytes. It returns the offset of the command, or ok=false when it meets a
// word it cannot split by hand before the command starts.
func scanOptionsFast(text string, o *lineOpts) (cmdStart int, msg string, ok bool) {
	for i := skipBlanks(text, 0); i < len(text); {
		j := wordEnd(text, i)
		w := text[i:j]
		if !isSafeLine(w) {
			return 0, "", false
		}
		res, msg := o.step(w)
		if msg != "" {
			return 0, msg, true
		}
		switch res {
		case wordEndOpts:
			return checkCommandStart(text, skipBlanks(text, j), o)
		case wordCommand:
			return checkCommandStart(text, i, o)
		}
		i = skipBlanks(text, j)
	}
	return checkCommandStart(text, len(text), o)
}

// checkCommandStart reports an option left without its value or a line
// without a command (only a comment may follow the options).
func checkCommandStart(text string, cmdStart int, o *lineOpts) (int, string, bool) {
	if o.pending != nil {
		return 0, o.missingValue(), true
	}
	if cmdStart >= len(text) || text[cmdStart] == '#' {
		return 0, msgNoCommand, true
	}
	return cmdStart, "", true
}

// parserPool reuses shell parsers: building one per line would dominate the
// cost of the lines that need it.
//
// The parser reads bash, a superset of POSIX sh: on most HPC systems /bin/sh
// is bash, so a line using <(...) or [[ ]] should reach the shell rather than
// be refused here. Deciding on direct exec is unaffected: it needs plain
// words, which mean the same in every shell.
var parserPool = sync.Pool{New: func() any {
	return syntax.NewParser(syntax.Variant(syntax.LangBash))
}}

// scanOptionsShell reads the options with the shell parser, removing quotes,
// and returns the offset of the first command word. The command itself is
// parsed afterwards as a program of its own, so "-n1 FOO=1 env" is an
// assignment and "-n1 for f in *; do ...; done" a loop, exactly as if the
// options were absent.
func scanOptionsShell(p *syntax.Parser, text string, o *lineOpts) (int, string) {
	lastEnd := 0
	for w, err := range p.WordsSeq(strings.NewReader(text)) {
		if err != nil {
			if o.pending != nil && isUnclosedQuote(err) {
				return 0, msgUnclosedQuote
			}
			// Something that is not a word, such as ">out" or "(": the
			// command starts there and its own parse judges it.
			cmdStart, msg, _ := checkCommandStart(text, skipBlanks(text, lastEnd), o)
			return cmdStart, msg
		}
		start, end := int(w.Pos().Offset()), int(w.End().Offset())
		lastEnd = end
		s, plain := plainWordExcept(w, optionSpecial)
		if !plain {
			if o.pending != nil {
				return 0, o.pendingName + " " + text[start:end] + ": " + msgNotPlain
			}
			if looksLikeOption(text[start:end]) {
				return 0, text[start:end] + ": " + msgNotPlain
			}
			cmdStart, msg, _ := checkCommandStart(text, start, o)
			return cmdStart, msg
		}
		res, msg := o.step(s)
		if msg != "" {
			return 0, msg
		}
		switch res {
		case wordEndOpts:
			cmdStart, msg, _ := checkCommandStart(text, skipBlanks(text, end), o)
			return cmdStart, msg
		case wordCommand:
			cmdStart, msg, _ := checkCommandStart(text, start, o)
			return cmdStart, msg
		}
	}
	cmdStart, msg, _ := checkCommandStart(text, len(text), o)
	return cmdStart, msg
}

const msgNotPlain = "options and their values must be plain words, without $, `, *, ?, [, ~ or backslashes, " +
	"because they are read before any shell runs; write the value out"

const msgUnclosedQuote = "unclosed quote: close it, or escape a quote meant literally (\\' or \\\")"

// looksLikeOption reports whether a raw word, quotes aside, starts with '-'.
func looksLikeOption(raw string) bool {
	raw = strings.TrimLeft(raw, `'"`)
	return raw != "" && raw[0] == '-'
}

func isUnclosedQuote(err error) bool {
	var pe syntax.ParseError
	return errors.As(err, &pe) && strings.Contains(pe.Text, "without closing quote")
}

// parseCommand parses text[cmdStart:] as a shell program and decides how it
// runs.
func parseCommand(p *syntax.Parser, text string, cmdStart int, l *Line) string {
	cmd := text[cmdStart:]
	f, err := p.Parse(strings.NewReader(cmd), "")
	if err != nil {
		if isUnclosedQuote(err) {
			return msgUnclosedQuote
		}
		var pe syntax.ParseError
		if errors.As(err, &pe) {
			return "shell syntax error at column " + strconv.Itoa(cmdStart+int(pe.Pos.Offset())+1) + ": " +
				pe.Text + "; fix the command, or quote the characters the shell treats specially"
		}
		return "shell syntax error: " + err.Error() + "; fix the command"
	}
	if len(f.Stmts) == 0 {
		return msgNoCommand
	}
	setCommand(l, cmd, directArgv(f))
	return ""
}

// directArgv returns the argv of a program that is one simple command made
// only of plain words, or nil if the program needs a shell.
func directArgv(f *syntax.File) []string {
	if len(f.Stmts) != 1 {
		return nil
	}
	st := f.Stmts[0]
	if st.Negated || st.Background || st.Coprocess || st.Disown || len(st.Redirs) > 0 {
		return nil
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Assigns) > 0 || len(call.Args) == 0 {
		return nil
	}
	argv := make([]string, len(call.Args))
	for i, w := range call.Args {
		s, plain := plainWord(w)
		if !plain {
			return nil
		}
		argv[i] = s
	}
	return argv
}

// setCommand fills in how the line runs: argv for direct exec when the words
// allow it, else the shell with the command as written.
func setCommand(l *Line, cmd string, argv []string) {
	l.Command = cmd
	if len(argv) > 0 && !isShellBuiltin(argv[0]) {
		l.Argv = argv
		return
	}
	l.Shell = true
	l.Argv = []string{shellPath, "-c", cmd}
}

// plainWord returns a word after quote removal if nothing in it expands:
// unquoted text, '...', and "..." with no $, ` or backslash. Anything the
// shell might change (globs, ~, braces, escapes, $'...') is refused, so that
// direct exec never differs from what /bin/sh -c would have run.
func plainWord(w *syntax.Word) (string, bool) { return plainWordExcept(w, unquotedSpecial) }

// plainWordExcept is plainWord with the set of characters that make an
// unquoted literal not plain given by the caller.
func plainWordExcept(w *syntax.Word, special string) (string, bool) {
	if len(w.Parts) == 1 {
		if lit, ok := w.Parts[0].(*syntax.Lit); ok {
			return lit.Value, !strings.ContainsAny(lit.Value, special)
		}
	}
	var b strings.Builder
	for _, part := range w.Parts {
		switch x := part.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(x.Value, special) {
				return "", false
			}
			b.WriteString(x.Value)
		case *syntax.SglQuoted:
			if x.Dollar {
				return "", false
			}
			b.WriteString(x.Value)
		case *syntax.DblQuoted:
			if x.Dollar {
				return "", false
			}
			for _, in := range x.Parts {
				lit, ok := in.(*syntax.Lit)
				if !ok || strings.ContainsAny(lit.Value, "$`\\") {
					return "", false
				}
				b.WriteString(lit.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// unquotedSpecial lists the characters that may change an unquoted word:
// globs, tilde, brace expansion (bash as sh), escapes and a stray $ or `.
const unquotedSpecial = "*?[]~{}\\$`"

// optionSpecial is unquotedSpecial less the braces: option values never reach
// a shell, and -o needs {{id}}, {{line}} and {{task.id}}.
const optionSpecial = "*?[]~\\$`"

// isShellKeyword lists the words that make the parser read something other
// than a simple command when they start one.
func isShellKeyword(w string) bool {
	switch w {
	case "if", "then", "elif", "else", "fi", "while", "until", "for", "in", "do", "done", "case", "esac",
		"function", "select", "coproc", "time", "declare", "local", "export", "readonly", "typeset",
		"nameref", "let":
		return true
	}
	return false
}

// isShellBuiltin lists the builtins that have no executable of their own
// (or whose executable cannot do their job, like cd): exec'ing them would
// fail, so their lines go to the shell.
func isShellBuiltin(w string) bool {
	switch w {
	case ".", ":", "alias", "bg", "break", "builtin", "cd", "command", "continue", "declare", "eval", "exec",
		"exit", "export", "fc", "fg", "getopts", "hash", "jobs", "let", "local", "readonly", "read", "return",
		"set", "shift", "source", "times", "trap", "type", "typeset", "ulimit", "umask", "unalias", "unset",
		"wait", "shopt", "enable", "mapfile", "readarray", "disown", "suspend", "logout", "dirs", "pushd", "popd":
		return true
	}
	return false
}
