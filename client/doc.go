// Package client is the Go API of a running instance: what a Go program
// uses to submit jobs, wait for them, watch their results as they end,
// cancel and list them. It is the library behind the CLI's job commands,
// made public and kept small.
//
// Connect to the instance named by FLUX_URI (set inside `flux start` and in
// every job an instance runs), or to an explicit local:// URI:
//
//	c, err := client.Connect("")
//	id, err := c.Submit(ctx, client.Job{Command: []string{"hostname"}, Tasks: 2})
//	res, err := c.Wait(ctx, id)
//	fmt.Println(id, res.Status)
//
// For many jobs, a Watcher submits in batches and delivers each result as
// its job ends, without a request per job (what flux-capacitor and the
// Python FluxExecutor do); its jobs are canceled if the watcher's
// connection closes before they end.
//
// Job IDs are RFC 19 FLUIDs (uint64); JobID prints them in F58 (ƒ...)
// and ParseJobID reads every encoding Flux prints. Errors the instance
// returns unwrap to their errno: errors.Is(err, syscall.ENOENT) for an
// unknown job, ErrNoInstance when there is no instance to connect to.
package client
