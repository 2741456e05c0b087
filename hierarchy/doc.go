// Package hierarchy owns the tree of instances that flux-hierarchy builds
// from config.json: which children each level starts, with what resources, and
// how many leaves run the command lines.
//
// # config.json
//
// The format is the original flux-hierarchy prototype's:
//
//	{"num_levels":3,"levels":[{"num_children":2,"cores_per_child":36},{"num_children":36,"cores_per_child":1}]}
//
// Levels are numbered from the top: the instance flux-hierarchy runs in is
// level 1, its children are level 2, and the instances at level num_levels
// are the leaves, which run the command lines. An instance at level L starts
// its children with levels[L-1], so levels has num_levels-1 entries. With
// num_levels 1 there are no children: the top runs every line itself (as
// flux-capacitor does). The example above is a top that starts 2 children of
// 36 cores each, each of which starts 36 single-core leaves: 72 leaves.
//
// Fields of a level (unknown fields are an error, so a typo is not silently
// ignored):
//
//	num_children     children each instance of this level starts (>= 1)
//	cores_per_child  cores of one child; it is started as -n1 -c cores_per_child,
//	                 so it lives on one node
//	nodes_per_child  extension: the child is started on whole nodes
//	                 (-N n -n n -c1 with exclusive nodes: it gets every core and
//	                 GPU of them); give it instead of cores_per_child
//	gpus_per_child   extension: GPUs of one child (-g); not with nodes_per_child
//	sched            extension: the scheduler policy the children run, e.g.
//	                 "sched.easy" (checked by the scheduler when a child starts)
//
// # The shape shorthand
//
// Instead of num_levels and levels a config may say "shape":
//
//	{"shape":"2x18"}      = num_levels 3, levels [{2 children, 18 cores}, {18 children, 1 core}]
//	{"shape":"2x18:4"}    = num_levels 3, levels [{2 children, 72 cores}, {18 children, 4 cores}]
//	{"shape":"4x4x4"}     = num_levels 4: 4 children of 16 cores, each with 4 of 4 cores, each with 4 of 1 core
//	{"shape":"16"}        = num_levels 2: 16 single-core leaves
//
// In general "A1xA2x...xAk:c" (":c" optional, default 1) has k levels of
// children: the top starts A1 children, each of those A2, and so on; a leaf
// has c cores and every other child exactly the cores its own children need
// (c * A(i+1) * ... * Ak). A config that gives both shape and levels must give
// the same tree twice.
//
// # Checks
//
// Validate checks the tree by itself: every level has a child, every child has
// resources, and a child can hold its own children ("level 2: each of the 2
// children has 36 cores, but its 36 children need 36 x 2 = 72 cores"). Fit
// checks that level 1's children fit the allocation the top runs on, and, for
// children on whole nodes, everything below them (that needs the cores per
// node, which only the allocation knows; nodes are assumed alike).
package hierarchy
