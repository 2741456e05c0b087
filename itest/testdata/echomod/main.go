// Command echomod is a broker module for the integration tests, written the
// way a module in any language would be: it connects to FLUX_URI, registers
// the service "echo" with service.add, and answers every echo request with
// its own payload plus the rank of the broker it runs under.
package main

import (
	"fmt"
	"os"

	"github.com/fluxtaskfarm/flux/overlay"
	"github.com/vmihailenco/msgpack/v5"
)

func main() {
	conn, err := overlay.Dial(os.Getenv("FLUX_URI"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echomod:", err)
		os.Exit(1)
	}
	add, _ := overlay.NewRequest("service.add", map[string]any{"names": []string{"echo"}, "pid": os.Getpid()})
	add.Tag = 1
	if err := conn.Send(add); err != nil {
		os.Exit(1)
	}
	for {
		m, err := conn.Recv()
		if err != nil {
			return // the broker went away or removed us
		}
		if m.Type != overlay.Request {
			continue
		}
		var body any
		if len(m.Payload) > 0 {
			msgpack.Unmarshal(m.Payload, &body)
		}
		resp, _ := m.Respond(map[string]any{"echo": body, "module": os.Getenv("FLUX_MODULE_NAME")})
		conn.Send(resp)
	}
}
