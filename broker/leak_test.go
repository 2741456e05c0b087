package broker

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if goroutines they started are still
// running at the end: every goroutine here must have an exit.
// The launcher's spawner threads live as long as the process, by design
// (launcher/spawner.go): they are not leaks.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/fluxtaskfarm/flux/launcher.(*spawner).run"))
}
