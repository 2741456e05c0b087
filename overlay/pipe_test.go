package overlay

import (
	"errors"
	"io"
	"testing"
	"time"
)

// blocked reports whether fn is still running after a short wait, and
// returns a channel that yields its result once it finishes.
func blocked(fn func() error) (bool, <-chan error) {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	select {
	case err := <-ch:
		ch <- err
		return false, ch
	case <-time.After(50 * time.Millisecond):
		return true, ch
	}
}

func TestPipeBackPressure(t *testing.T) {
	a, b := Pipe(2)
	defer a.Close()
	for i := 0; i < 2; i++ {
		if err := a.Send(&Msg{Tag: uint32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	stuck, res := blocked(func() error { return a.Send(&Msg{Tag: 2}) })
	if !stuck {
		t.Fatalf("Send into a full pipe returned %v; it must block", <-res)
	}
	m, err := b.Recv()
	if err != nil || m.Tag != 0 {
		t.Fatalf("Recv: %v %v", m, err)
	}
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send still blocked after Recv made room")
	}
	for want := uint32(1); want <= 2; want++ {
		if m, err := b.Recv(); err != nil || m.Tag != want {
			t.Fatalf("Recv: %v %v, want tag %d", m, err, want)
		}
	}
}

func TestPipeSamePointer(t *testing.T) {
	a, b := Pipe(1)
	m := &Msg{Topic: "x"}
	a.Send(m)
	if got, _ := b.Recv(); got != m {
		t.Fatal("Pipe copied the message; it should pass the pointer")
	}
}

func TestPipeClose(t *testing.T) {
	t.Run("peer close drains then EOF", func(t *testing.T) {
		a, b := Pipe(4)
		a.Send(&Msg{Tag: 1})
		a.Send(&Msg{Tag: 2})
		a.Close()
		for want := uint32(1); want <= 2; want++ {
			if m, err := b.Recv(); err != nil || m.Tag != want {
				t.Fatalf("Recv: %v %v, want tag %d", m, err, want)
			}
		}
		if _, err := b.Recv(); err != io.EOF {
			t.Fatalf("Recv after peer close: %v, want io.EOF", err)
		}
		if err := b.Send(&Msg{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send to a closed peer: %v, want ErrClosed", err)
		}
		if err := a.Send(&Msg{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send after Close: %v, want ErrClosed", err)
		}
		if _, err := a.Recv(); !errors.Is(err, ErrClosed) {
			t.Fatalf("Recv after Close: %v, want ErrClosed", err)
		}
	})
	t.Run("close releases blocked calls", func(t *testing.T) {
		a, b := Pipe(0)
		stuckSend, sendRes := blocked(func() error { return a.Send(&Msg{}) })
		stuckRecv, recvRes := blocked(func() error { _, err := a.Recv(); return err })
		if !stuckSend || !stuckRecv {
			t.Fatal("Send on an unbuffered pipe and Recv with nothing sent should block")
		}
		// The blocked Send may still rendezvous with b's Recv: close b.
		b.Close()
		for name, ch := range map[string]<-chan error{"Send": sendRes, "Recv": recvRes} {
			select {
			case err := <-ch:
				if err == nil {
					t.Fatalf("%s succeeded after the peer closed", name)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s still blocked after Close", name)
			}
		}
	})
}
