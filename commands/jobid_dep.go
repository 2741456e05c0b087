package commands

import (
	"github.com/fluxtaskfarm/flux/broker"
	"github.com/fluxtaskfarm/flux/client"
)

// parseJobID reads a job id in any encoding Flux prints (decimal, f58,
// hex), for flux job urgency and --dependency.
func parseJobID(s string) (uint64, error) {
	id, err := client.ParseJobID(s)
	return uint64(id), err
}

// parseDependency is broker.ParseDependency taking any job id encoding.
func parseDependency(s string) (broker.Dependency, error) {
	return broker.ParseDependencyWith(s, parseJobID)
}
