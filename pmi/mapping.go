package pmi

import (
	"strconv"
	"strings"
)

// ProcessMapping returns the PMI_process_mapping value for a job whose ranks
// are placed in blocks, node after node, with tasksPerNode[i] ranks on node
// i: "(vector,(nodeid,nnodes,ppn),...)", where consecutive nodes with the
// same count collapse into one triple. [4,4] -> "(vector,(0,2,4))";
// [3,1] -> "(vector,(0,1,3),(1,1,1))". Nodes with no task are left out (and
// get no node id); no task at all gives "".
func ProcessMapping(tasksPerNode []int) string {
	var counts []int
	for _, c := range tasksPerNode {
		if c > 0 {
			counts = append(counts, c)
		}
	}
	tasksPerNode = counts
	var b strings.Builder
	node, n := 0, 0
	for i := 0; i < len(tasksPerNode); {
		ppn := tasksPerNode[i]
		j := i
		for j < len(tasksPerNode) && tasksPerNode[j] == ppn {
			j++
		}
		if n == 0 {
			b.WriteString("(vector")
		}
		b.WriteString(",(" + strconv.Itoa(node) + "," + strconv.Itoa(j-i) + "," + strconv.Itoa(ppn) + ")")
		node += j - i
		n++
		i = j
	}
	if n == 0 {
		return ""
	}
	b.WriteString(")")
	return b.String()
}
