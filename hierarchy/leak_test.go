package hierarchy

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if goroutines they started are still
// running at the end: every goroutine here must have an exit.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
