// Package boot is the broker's configuration layer, pure and free of I/O
// beyond reading one file and listing local addresses: the -S key=value
// broker attributes (Attrs, KnownAttrs), the boot.conf of a multi-host
// instance (ParseConfig, LoadConfig: session-id, tbon-endpoints, key-file,
// tbon-fanout), which endpoint is this host's (Config.LocalRank, Config.Rank),
// and the shape of the tree overlay (Parent, Children, Depth, InSubtree,
// NextHop).
//
// Boot methods (boot.method): "single" is one broker; "config" reads
// boot.config_file; "pmi" and "slurm" are the hooks for brokers launched by
// a PMI-1 server or by srun (their peers come from the launcher, not from
// this package). `flux start --test-size=N` starts N local brokers itself
// and passes each its rank.
//
// Every error names the file or attribute at fault and says what to write
// instead, since the user reads them when a broker refuses to start.
package boot
