package overlay

import (
	"context"
	"testing"
)

// BenchmarkLink measures one link, plain and TLS: small control messages
// (1 KiB payload, like a batch of job submissions) and bulk output messages
// (64 KiB), one sender and one receiver. msgs/s and MB/s (payload bytes)
// are reported; compare the plain and tls lines for the TLS overhead.
func BenchmarkLink(b *testing.B) {
	for _, mode := range modes() {
		for _, size := range []struct {
			name string
			n    int
			bulk bool
		}{{"control-1KiB", 1 << 10, false}, {"bulk-64KiB", 64 << 10, true}} {
			b.Run(mode.name+"/"+size.name, func(b *testing.B) {
				child, parent := benchLinkPair(b, mode.encrypt)
				tx, rx := child.Control(), parent.Control()
				if size.bulk {
					tx, rx = child.Bulk(), parent.Bulk()
				}
				benchLinkMsgs(b, tx, rx, size.n)
			})
		}
	}
}

func benchLinkPair(b *testing.B, encrypt bool) (child, parent *Link) {
	pc, cc := testLinkCfg(0, encrypt, nil), testLinkCfg(1, encrypt, nil)
	ln, err := ListenLinks("127.0.0.1:0", pc)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	acc := acceptAsync(ln)
	child, err = DialLink(context.Background(), ln.Addr().String(), cc)
	if err != nil {
		b.Fatal(err)
	}
	parent = <-acc
	b.Cleanup(func() { child.Close(); parent.Close() })
	return child, parent
}

func benchLinkMsgs(b *testing.B, tx, rx Conn, size int) {
	m := &Msg{Type: Event, Topic: "task.output", Src: 1, Dst: 0, Payload: rawBin(make([]byte, size))}
	benchMsgs(b, tx, rx, m, size)
}

// BenchmarkLinkRPC measures sequential request/response round trips over a
// link's control stream (latency, not throughput).
func BenchmarkLinkRPC(b *testing.B) {
	for _, mode := range modes() {
		b.Run(mode.name, func(b *testing.B) {
			child, parent := benchLinkPair(b, mode.encrypt)
			go func() {
				for {
					req, err := parent.Control().Recv()
					if err != nil {
						return
					}
					resp, _ := req.Respond(nil)
					parent.Control().Send(resp)
				}
			}()
			c := NewClient(child.Control())
			ctx := b.Context()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c.RPC(ctx, "ping", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rpcs/s")
		})
	}
}
