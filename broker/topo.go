package broker

import "github.com/fluxtaskfarm/flux/broker/boot"

// subtree lists root and every rank below it in an instance of size.
func subtree(root, size, fanout int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, boot.Children(out[i], size, fanout)...)
	}
	return out
}
