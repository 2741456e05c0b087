package hierarchy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/fluxtaskfarm/flux/resources"
)

// Level says how an instance of one level starts its children.
type Level struct {
	NumChildren   int    `json:"num_children"`
	CoresPerChild int    `json:"cores_per_child"`
	NodesPerChild int    `json:"nodes_per_child,omitempty"` // extension: children span whole nodes (-N)
	GPUsPerChild  int    `json:"gpus_per_child,omitempty"`  // extension
	Sched         string `json:"sched,omitempty"`           // extension: the children's scheduler, e.g. "sched.easy"
}

// Config is a parsed config.json. Levels[L-1] is how an instance at level L
// starts its children; the top is level 1 and the leaves are at NumLevels.
type Config struct {
	NumLevels int     `json:"num_levels"`
	Levels    []Level `json:"levels"`
	// Shape is the shorthand "AxB" or "AxB:c" (any number of "x"); Normalize
	// expands it into NumLevels and Levels and keeps it. See the package doc.
	Shape string `json:"shape,omitempty"`
}

// maxCount bounds every number in a config (and the number of leaves), so
// that no product can overflow: the same bound as a job request's fields.
const maxCount = resources.MaxCount

// knownFields is named in the message for an unknown field.
const knownFields = "num_levels, levels, shape; in a level: num_children, cores_per_child, nodes_per_child, gpus_per_child, sched"

// LoadConfig reads and checks a config file; errors start with its path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err // *PathError already names the file
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes config.json strictly (an unknown field is an error
// naming it), expands a shape, and validates the result.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Config{}, fmt.Errorf("unexpected data after the JSON object at byte %d; a config is one JSON object", dec.InputOffset())
	}
	c, err := c.Normalize()
	if err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// jsonError turns a decoding error into a message that says where and what.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New(`the config is empty; write a JSON object such as {"num_levels":2,"levels":[{"num_children":4,"cores_per_child":1}]}`)
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("line %d, column %d: invalid JSON: %s", line, col, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Errorf("the config must be a JSON object, not a %s", typ.Value)
		}
		return fmt.Errorf("%s: got a %s, want %s", field, typ.Value, wantType(typ))
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fmt.Errorf("unknown field %s (known: %s)", name, knownFields)
	}
	return fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func wantType(typ *json.UnmarshalTypeError) string {
	if typ.Type == nil {
		return "another type"
	}
	switch typ.Type.Kind().String() {
	case "int":
		return fmt.Sprintf("a whole number from 0 to %d", maxCount)
	case "string":
		return "a string"
	case "slice":
		return "a list of levels"
	case "struct":
		return "an object"
	}
	return typ.Type.String()
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, max(col, 1)
}

// Normalize expands Shape into NumLevels and Levels. When the config also
// gives levels, they must describe the same tree.
func (c Config) Normalize() (Config, error) {
	if c.Shape == "" {
		return c, nil
	}
	levels, err := parseShape(c.Shape)
	if err != nil {
		return c, err
	}
	n := len(levels) + 1
	if c.NumLevels == 0 && len(c.Levels) == 0 {
		c.NumLevels, c.Levels = n, levels
		return c, nil
	}
	if c.NumLevels != n || !slices.Equal(c.Levels, levels) {
		s := Config{NumLevels: n, Levels: levels}
		return c, fmt.Errorf("shape %q means %s, but num_levels and levels say %s; give only one of them",
			c.Shape, s.describe(), c.describe())
	}
	return c, nil
}

// parseShape reads "A1x...xAk[:c]".
func parseShape(shape string) ([]Level, error) {
	const how = `write it as counts of children joined by "x", optionally with ":cores per leaf", e.g. "2x18" or "2x18:4"`
	dims, cores, hasCores := strings.Cut(shape, ":")
	leafCores := 1
	if hasCores {
		n, err := shapeNumber(cores)
		if err != nil {
			return nil, fmt.Errorf("shape %q: cores per leaf %q %v; %s", shape, cores, err, how)
		}
		leafCores = n
	}
	parts := strings.Split(dims, "x")
	levels := make([]Level, len(parts))
	for i, p := range parts {
		n, err := shapeNumber(p)
		if err != nil {
			return nil, fmt.Errorf("shape %q: level %d's count of children %q %v; %s", shape, i+1, p, err, how)
		}
		levels[i].NumChildren = n
	}
	// Each child has exactly the cores its subtree needs, filled in from the
	// leaves up; the products are bounded so that they cannot overflow.
	need := leafCores
	for i := len(levels) - 1; i >= 0; i-- {
		levels[i].CoresPerChild = need
		need *= levels[i].NumChildren
		if need > maxCount {
			return nil, fmt.Errorf("shape %q: the tree is too large: the children of level %d would need more than %d cores together",
				shape, i+1, maxCount)
		}
	}
	return levels, nil
}

func shapeNumber(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, errors.New("is not a number")
	case n < 1:
		return 0, errors.New("must be at least 1")
	case n > maxCount:
		return 0, fmt.Errorf("must be at most %d", maxCount)
	}
	return n, nil
}

// Validate checks the tree on its own: the number of levels, that every
// level starts at least one child with some resources, and that every child
// can hold its own children. Fit checks the tree against an allocation.
func (c Config) Validate() error {
	switch {
	case c.NumLevels < 1:
		return fmt.Errorf("num_levels is %d; it must be at least 1 (1 = no children: the top instance runs every line itself)", c.NumLevels)
	case len(c.Levels) != c.NumLevels-1:
		return fmt.Errorf("num_levels is %d, so levels needs %d %s (an instance at level L starts its children with levels[L-1]; the leaves are at level %d), but it has %d",
			c.NumLevels, c.NumLevels-1, plural(c.NumLevels-1, "entry", "entries"), c.NumLevels, len(c.Levels))
	}
	leaves := 1
	for i, lv := range c.Levels {
		if err := lv.validate(i + 1); err != nil {
			return err
		}
		leaves *= lv.NumChildren
		if leaves > maxCount {
			return fmt.Errorf("the tree has more than %d leaves by level %d; use fewer or smaller levels", maxCount, i+2)
		}
	}
	for i := 1; i < len(c.Levels); i++ {
		if err := nested(i+1, c.Levels[i-1], c.Levels[i]); err != nil {
			return err
		}
	}
	return nil
}

// validate checks level L's own fields.
func (lv Level) validate(L int) error {
	p := fmt.Sprintf("level %d: ", L)
	switch {
	case lv.NumChildren < 1:
		return fmt.Errorf("%snum_children is %d; every level must start at least 1 child (to stop earlier, lower num_levels)", p, lv.NumChildren)
	case lv.CoresPerChild < 0:
		return fmt.Errorf("%scores_per_child is %d; it cannot be negative", p, lv.CoresPerChild)
	case lv.NodesPerChild < 0:
		return fmt.Errorf("%snodes_per_child is %d; it cannot be negative", p, lv.NodesPerChild)
	case lv.GPUsPerChild < 0:
		return fmt.Errorf("%sgpus_per_child is %d; it cannot be negative", p, lv.GPUsPerChild)
	case lv.NumChildren > maxCount, lv.CoresPerChild > maxCount, lv.NodesPerChild > maxCount, lv.GPUsPerChild > maxCount:
		return fmt.Errorf("%snum_children, cores_per_child, nodes_per_child and gpus_per_child must be at most %d", p, maxCount)
	case lv.NodesPerChild > 0 && lv.CoresPerChild > 0:
		return fmt.Errorf("%sboth cores_per_child (%d) and nodes_per_child (%d) are given; a child on whole nodes gets all their cores, so give only one", p, lv.CoresPerChild, lv.NodesPerChild)
	case lv.NodesPerChild > 0 && lv.GPUsPerChild > 0:
		return fmt.Errorf("%sgpus_per_child (%d) with nodes_per_child (%d): a child on whole nodes gets all their GPUs, so drop gpus_per_child", p, lv.GPUsPerChild, lv.NodesPerChild)
	case lv.NodesPerChild == 0 && lv.CoresPerChild < 1:
		return fmt.Errorf("%scores_per_child is %d; every child needs at least 1 core (or give nodes_per_child for whole nodes)", p, lv.CoresPerChild)
	}
	return nil
}

// nested checks that a child started with parent (an instance at level L)
// can start its own children with child. A parent on whole nodes can only be
// checked against cores once the cores per node are known: Fit does that.
func nested(L int, parent, child Level) error {
	each := eachOf(parent.NumChildren)
	switch {
	case parent.NodesPerChild == 0 && child.NodesPerChild > 0:
		return fmt.Errorf("level %d: %s %s on one node, so its children cannot ask for whole nodes (nodes_per_child %d); give them cores_per_child",
			L, each, count(parent.CoresPerChild, "core"), child.NodesPerChild)
	case parent.NodesPerChild > 0 && child.NodesPerChild > 0:
		if need := child.NumChildren * child.NodesPerChild; need > parent.NodesPerChild {
			return fmt.Errorf("level %d: %s %s, but %s %d x %d = %s",
				L, each, count(parent.NodesPerChild, "node"), itsChildrenNeed(child.NumChildren), child.NumChildren, child.NodesPerChild, count(need, "node"))
		}
	case parent.NodesPerChild == 0:
		if need := child.NumChildren * child.CoresPerChild; need > parent.CoresPerChild {
			return fmt.Errorf("level %d: %s %s, but %s %d x %d = %s",
				L, each, count(parent.CoresPerChild, "core"), itsChildrenNeed(child.NumChildren), child.NumChildren, child.CoresPerChild, count(need, "core"))
		}
		if need := child.NumChildren * child.GPUsPerChild; need > parent.GPUsPerChild {
			return fmt.Errorf("level %d: %s %s, but %s %d x %d = %s",
				L, each, count(parent.GPUsPerChild, "GPU"), itsChildrenNeed(child.NumChildren), child.NumChildren, child.GPUsPerChild, count(need, "GPU"))
		}
	}
	return nil
}

// Fit checks the tree against the allocation the top instance runs on:
// topCores cores on topNodes nodes (nodes are assumed alike, with
// topCores/topNodes cores each; topNodes < 1 counts as 1). Level 1's
// children must fit it; a child of cores_per_child cores must fit on one
// node; and below children on whole nodes, whose cores are only known now,
// the children must fit their parents. GPUs are left to the scheduler.
func (c Config) Fit(topCores, topNodes int) error {
	if err := c.Validate(); err != nil {
		return err
	}
	topNodes = max(topNodes, 1)
	cores, nodes := topCores, topNodes
	for i, lv := range c.Levels {
		L := i + 1
		perNode := cores / nodes // alike nodes; a one-node parent has all its cores on it
		var where string         // the parent, for messages
		if L == 1 {
			where = fmt.Sprintf("the allocation has %s (on %s)", count(topCores, "core"), count(topNodes, "node"))
		} else {
			where = fmt.Sprintf("%s %s (%s)", eachOf(c.Levels[i-1].NumChildren), count(nodes, "node"), count(cores, "core"))
		}
		if lv.NodesPerChild > 0 {
			need := lv.NumChildren * lv.NodesPerChild
			if need > nodes {
				if L == 1 {
					return fmt.Errorf("the config needs %s x %s = %s at level 1; the allocation has %s (%s)",
						count(lv.NumChildren, "child"), count(lv.NodesPerChild, "node"), count(need, "node"), count(topNodes, "node"), count(topCores, "core"))
				}
				return fmt.Errorf("level %d: %s, but %s %d x %d = %s", L, where, itsChildrenNeed(lv.NumChildren), lv.NumChildren, lv.NodesPerChild, count(need, "node"))
			}
			cores, nodes = lv.NodesPerChild*perNode, lv.NodesPerChild
			continue
		}
		need := lv.NumChildren * lv.CoresPerChild
		if need > cores {
			if L == 1 {
				return fmt.Errorf("the config needs %s x %s = %s at level 1; %s",
					count(lv.NumChildren, "child"), count(lv.CoresPerChild, "core"), count(need, "core"), where)
			}
			return fmt.Errorf("level %d: %s, but %s %d x %d = %s", L, where, itsChildrenNeed(lv.NumChildren), lv.NumChildren, lv.CoresPerChild, count(need, "core"))
		}
		// A child of cores_per_child cores is one task (-n1): it lives on
		// one node, so children pack per node.
		if lv.CoresPerChild > perNode {
			return fmt.Errorf("level %d: each child asks for %s on one node (-n1 -c%d), but the nodes have %s each; use nodes_per_child for children larger than a node",
				L, count(lv.CoresPerChild, "core"), lv.CoresPerChild, count(perNode, "core"))
		}
		if fit := nodes * (perNode / lv.CoresPerChild); fit < lv.NumChildren {
			return fmt.Errorf("level %d: the config needs %s x %s, but a node of %s holds only %d of them, so %s hold %d",
				L, count(lv.NumChildren, "child"), count(lv.CoresPerChild, "core"), count(perNode, "core"), perNode/lv.CoresPerChild, count(nodes, "node"), fit)
		}
		cores, nodes = lv.CoresPerChild, 1
	}
	return nil
}

// Leaves returns the number of leaf instances: the product of every level's
// num_children (1 when num_levels is 1: the top is the leaf).
func (c Config) Leaves() int {
	n := 1
	for _, lv := range c.Levels {
		n *= lv.NumChildren
	}
	return n
}

// LeafCores returns the cores of one leaf: the last level's cores_per_child.
// It is 0 when the leaves get whole nodes or the top is the leaf (num_levels
// 1): their cores are the allocation's, which the config does not know.
func (c Config) LeafCores() int {
	if len(c.Levels) == 0 {
		return 0
	}
	return c.Levels[len(c.Levels)-1].CoresPerChild
}

// ChildRequest returns the request an instance at level (1-based, below
// NumLevels) submits to start one child: -n1 -c cores_per_child [-g
// gpus_per_child], or, with nodes_per_child n, -N n -n n -c1: the child is
// meant to get the n nodes whole (the caller asks for them exclusively), one
// broker per node. It panics for a level without children: that is a bug in
// the caller, not in the config.
func (c Config) ChildRequest(level int) resources.Request {
	if level < 1 || level > len(c.Levels) {
		panic(fmt.Sprintf("hierarchy: ChildRequest(%d) for a tree whose levels 1-%d start children", level, len(c.Levels)))
	}
	lv := c.Levels[level-1]
	if lv.NodesPerChild > 0 {
		return resources.Request{Nodes: lv.NodesPerChild, Tasks: lv.NodesPerChild, CoresPerTask: 1}
	}
	return resources.Request{Tasks: 1, CoresPerTask: lv.CoresPerChild, GPUsPerTask: lv.GPUsPerChild}
}

// String describes the tree on one line:
// "3 levels: 2 x (36 cores) -> 36 x (1 core); 72 leaves".
func (c Config) String() string {
	return c.describe() + "; " + count(c.Leaves(), "leaf")
}

func (c Config) describe() string {
	if c.NumLevels == 1 && len(c.Levels) == 0 {
		return "1 level: no children, the top runs every line"
	}
	parts := make([]string, len(c.Levels))
	for i, lv := range c.Levels {
		var res []string
		if lv.NodesPerChild > 0 {
			res = append(res, count(lv.NodesPerChild, "node"))
		} else {
			res = append(res, count(lv.CoresPerChild, "core"))
		}
		if lv.GPUsPerChild > 0 {
			res = append(res, count(lv.GPUsPerChild, "GPU"))
		}
		if lv.Sched != "" {
			res = append(res, lv.Sched)
		}
		parts[i] = fmt.Sprintf("%d x (%s)", lv.NumChildren, strings.Join(res, ", "))
	}
	return count(c.NumLevels, "level") + ": " + strings.Join(parts, " -> ")
}

// count writes "1 core", "2 cores", "1 child", "2 children", "3 leaves".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch noun {
	case "child":
		return strconv.Itoa(n) + " children"
	case "leaf":
		return strconv.Itoa(n) + " leaves"
	case "entry":
		return strconv.Itoa(n) + " entries"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// eachOf names the instances of a level that has n of them per parent:
// "each of the 2 children has" or "the one child has".
func eachOf(n int) string {
	if n == 1 {
		return "the one child has"
	}
	return fmt.Sprintf("each of the %d children has", n)
}

func itsChildrenNeed(n int) string {
	if n == 1 {
		return "its 1 child needs"
	}
	return fmt.Sprintf("its %d children need", n)
}
