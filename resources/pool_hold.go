package resources

import "slices"

// Hold allocates everything that is free on rank, as one Alloc with a single
// slice (Tasks 0), and returns it. The scheduler uses it to take a lost
// rank out of service: once its running jobs are released, holding what is
// free keeps it from ever being handed out again. An unknown rank, or one
// with nothing free, gives an empty Alloc.
func (p *Pool) Hold(rank int) Alloc {
	i := p.pos(rank)
	if i < 0 || (p.nfree[i] == 0 && p.nfreeG[i] == 0) {
		return Alloc{}
	}
	s := Slice{Rank: rank, Cores: IDSet{w: trim(slices.Clone(p.freeC[i]))}, GPUs: IDSet{w: trim(slices.Clone(p.freeG[i]))}}
	clear(p.freeC[i])
	clear(p.freeG[i])
	p.totalC -= p.nfree[i]
	p.totalG -= p.nfreeG[i]
	p.nfree[i], p.nfreeG[i] = 0, 0
	p.low[i] = len(p.freeC[i])
	p.advanceFirst()
	return Alloc{Slices: []Slice{s}}
}
