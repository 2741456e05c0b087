package resources

// Rank is the resources of one broker rank: its host and the ids of the cores
// and GPUs it may use.
type Rank struct {
	Rank  int    `msgpack:"rank" json:"rank"`
	Host  string `msgpack:"host" json:"host"`
	Cores IDSet  `msgpack:"cores" json:"cores"`
	GPUs  IDSet  `msgpack:"gpus" json:"gpus"`
}

// Set is the resource set R of an instance: one entry per broker rank, in
// ascending rank order.
type Set struct {
	Ranks []Rank `msgpack:"ranks" json:"ranks"`
}

// Cores returns the total number of cores.
func (s Set) Cores() int {
	n := 0
	for _, r := range s.Ranks {
		n += r.Cores.Count()
	}
	return n
}

// GPUs returns the total number of GPUs.
func (s Set) GPUs() int {
	n := 0
	for _, r := range s.Ranks {
		n += r.GPUs.Count()
	}
	return n
}

// Nodes returns the number of ranks (Flux's "nodes": one broker per node).
func (s Set) Nodes() int { return len(s.Ranks) }

// MaxCoresPerNode returns the core count of the largest rank.
func (s Set) MaxCoresPerNode() int {
	m := 0
	for _, r := range s.Ranks {
		m = max(m, r.Cores.Count())
	}
	return m
}

// MaxGPUsPerNode returns the GPU count of the rank with the most GPUs.
func (s Set) MaxGPUsPerNode() int {
	m := 0
	for _, r := range s.Ranks {
		m = max(m, r.GPUs.Count())
	}
	return m
}
