package overlay

import (
	"testing"
)

// benchMsgs sends b.N copies of m from one goroutine and receives them in
// another, reporting messages per second; size is the payload's for MB/s.
func benchMsgs(b *testing.B, tx, rx Conn, m *Msg, size int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for i := 0; i < b.N; i++ {
			if err := tx.Send(m); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for i := 0; i < b.N; i++ {
		if _, err := rx.Recv(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkStreamConnUnix(b *testing.B) {
	x, y := socketPair(b)
	tx, rx := NewStreamConn(x), NewStreamConn(y)
	defer tx.Close()
	defer rx.Close()
	benchMsgs(b, tx, rx, kibRequest(b), 1024)
}

func BenchmarkPipe(b *testing.B) {
	tx, rx := Pipe(1024)
	defer tx.Close()
	benchMsgs(b, tx, rx, kibRequest(b), 1024)
}

// kibRequest is a request with a 1 KiB payload.
func kibRequest(b *testing.B) *Msg {
	return &Msg{Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1, Payload: mustPayload(b, make([]byte, 1024))}
}

func BenchmarkEncodeFrame(b *testing.B) {
	m := &Msg{Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1, Payload: mustPayload(b, make([]byte, 1024))}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = EncodeFrame(buf[:0], m)
	}
}

func BenchmarkDecodeMsg(b *testing.B) {
	m := &Msg{Type: Request, Topic: "job.submit", Src: -1, Dst: -1, Tag: 1, Payload: mustPayload(b, make([]byte, 1024))}
	frame, _ := EncodeFrame(nil, m)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeMsg(frame[frameHeader:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientRPC measures sequential RPC round trips over a unix socket.
func BenchmarkClientRPC(b *testing.B) {
	x, y := socketPair(b)
	srv := NewStreamConn(y)
	defer srv.Close()
	go func() {
		for {
			req, err := srv.Recv()
			if err != nil {
				return
			}
			resp, _ := req.Respond(nil)
			srv.Send(resp)
		}
	}()
	c := NewClient(NewStreamConn(x))
	defer c.Close()
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.RPC(ctx, "ping", nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rpcs/s")
}
