package overlay

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// authPair runs authenticate on both ends of a socket pair.
func authPair(t *testing.T, kd, kl Key, sd, sl string, dialerRoles [2]bool, ed, el bool) (errD, errL error) {
	t.Helper()
	x, y := deadlinePair(t)
	ch := make(chan error, 1)
	go func() {
		_, err := authenticate(y, rand.Reader, &kl, sl, dialerRoles[1], el)
		ch <- err
	}()
	_, errD = authenticate(x, rand.Reader, &kd, sd, dialerRoles[0], ed)
	return errD, <-ch
}

func TestAuthenticate(t *testing.T) {
	k := testLinkKey
	other := k
	other[31] ^= 0x80
	roles := [2]bool{true, false}

	if d, l := authPair(t, k, k, "s", "s", roles, true, true); d != nil || l != nil {
		t.Fatalf("same key: %v / %v", d, l)
	}
	if d, l := authPair(t, k, other, "s", "s", roles, false, false); !errors.Is(d, ErrAuthFailed) || !errors.Is(l, ErrAuthFailed) {
		t.Fatalf("other key: %v / %v", d, l)
	}
	if d, l := authPair(t, k, k, "s", "t", roles, false, false); !errors.Is(d, ErrAuthFailed) || !errors.Is(l, ErrAuthFailed) {
		t.Fatalf("other session: %v / %v", d, l)
	}
	// Both ends claiming the same role: each proof would be accepted only
	// from the other role, so a reflected proof never verifies.
	if d, l := authPair(t, k, k, "s", "s", [2]bool{true, true}, false, false); !errors.Is(d, ErrAuthFailed) || !errors.Is(l, ErrAuthFailed) {
		t.Fatalf("two dialers: %v / %v", d, l)
	}
	if d, l := authPair(t, k, k, "s", "s", roles, true, false); !errors.Is(d, ErrEncryptMismatch) || !errors.Is(l, ErrEncryptMismatch) {
		t.Fatalf("encrypt mismatch: %v / %v", d, l)
	}
}

// TestAuthenticateReflection: a peer that sends back our own greeting and
// proof (a mirror) never authenticates.
func TestAuthenticateReflection(t *testing.T) {
	for _, dialer := range []bool{true, false} {
		x, y := socketPair(t)
		go io.Copy(y, y) // mirror everything back
		x.SetDeadline(time.Now().Add(5 * time.Second))
		_, err := authenticate(x, rand.Reader, &testLinkKey, "s", dialer, false)
		if !errors.Is(err, ErrAuthFailed) {
			t.Fatalf("mirror (dialer=%v): %v", dialer, err)
		}
		x.Close()
		y.Close()
	}
}

// fuzzPeer is a connection whose peer sends data and ignores what we write.
type fuzzPeer struct{ r io.Reader }

func (f fuzzPeer) Read(p []byte) (int, error)  { return f.r.Read(p) }
func (f fuzzPeer) Write(p []byte) (int, error) { return len(p), nil }

// FuzzHandshake: whatever bytes the peer sends, authenticate never panics
// and never succeeds (the peer cannot know our fresh nonce's proof).
func FuzzHandshake(f *testing.F) {
	g1 := greeting(LinkVersion, 0)
	f.Add([]byte{})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add(append(bytes.Clone(g1), make([]byte, proofLen)...))
	f.Add(append(greeting(LinkVersion, flagEncrypt), bytes.Repeat([]byte{0xff}, proofLen)...))
	f.Add(greeting(2, 0))
	f.Add(g1[:10])
	f.Add(g1[:greetingLen-1])
	// A real dialer's transcript, answered to some other listener's nonce.
	var rec bytes.Buffer
	theirs := greeting(LinkVersion, 0)
	authenticate(struct {
		io.Reader
		io.Writer
	}{io.MultiReader(bytes.NewReader(theirs), bytes.NewReader(make([]byte, proofLen))), &rec}, rand.Reader, &testLinkKey, "s", true, false)
	f.Add(rec.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, dialer := range []bool{true, false} {
			for _, enc := range []bool{true, false} {
				if _, err := authenticate(fuzzPeer{bytes.NewReader(data)}, rand.Reader, &testLinkKey, "s", dialer, enc); err == nil {
					t.Fatalf("peer bytes %x authenticated (dialer=%v)", data, dialer)
				}
			}
		}
	})
}

func TestAuthenticateBadRandom(t *testing.T) {
	_, err := authenticate(fuzzPeer{bytes.NewReader(nil)}, bytes.NewReader(nil), &testLinkKey, "s", true, false)
	if err == nil {
		t.Fatal("authenticate without entropy succeeded")
	}
}

func TestTLSIdentity(t *testing.T) {
	a, err := instanceIdentity(&testLinkKey)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := instanceIdentity(&testLinkKey)
	if a != b {
		t.Error("identity derived twice for the same key")
	}
	// Every broker holding the key builds the same identity.
	fresh, err := deriveIdentity(&testLinkKey)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.pub.Equal(a.pub) || !bytes.Equal(fresh.cert.Certificate[0], a.cert.Certificate[0]) {
		t.Error("two derivations from the same key differ")
	}
	other := testLinkKey
	other[0] ^= 1
	c, _ := instanceIdentity(&other)
	if c.pub.Equal(a.pub) {
		t.Fatal("two keys, one TLS identity")
	}

	// TLS between two instances fails on both ends; within one it works.
	run := func(cli, srv *tlsIdentity) (error, error) {
		x, y := deadlinePair(t)
		ch := make(chan error, 1)
		go func() {
			s := tls.Server(y, srv.tlsConfig(false))
			err := s.Handshake()
			if err != nil {
				y.Close() // unblock the client
			}
			ch <- err
		}()
		c := tls.Client(x, cli.tlsConfig(true))
		errC := c.Handshake()
		if errC == nil {
			// TLS 1.3: the client finishes first; a read sees the
			// server's verdict on the client certificate.
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, rerr := c.Read(make([]byte, 1))
			if ne, ok := rerr.(net.Error); !ok || !ne.Timeout() {
				errC = rerr
			}
		}
		return errC, <-ch
	}
	if e1, e2 := run(a, a); e1 != nil || e2 != nil {
		t.Fatalf("same instance: %v / %v", e1, e2)
	}
	if e1, _ := run(a, c); e1 == nil {
		t.Fatal("client accepted another instance's server")
	}
	if _, e2 := run(c, a); e2 == nil {
		t.Fatal("server accepted another instance's client")
	}
}

// TestLinkConstantsFrozen pins the broker-link wire numbers (PROTOCOL.md).
func TestLinkConstantsFrozen(t *testing.T) {
	if LinkVersion != 1 || linkMagic != "FLUXTBON" || greetingLen != 44 || proofLen != 32 ||
		flagEncrypt != 1 || roleDialer != 'C' || roleListener != 'S' || tlsInfo != "flux tls" ||
		helloTopic != "overlay.hello" || controlStreamID != 1 || bulkStreamID != 3 || KeySize != 32 {
		t.Fatal("a broker-link constant changed; that is a protocol change (PROTOCOL.md)")
	}
	// The proofs of a fixed transcript, computed independently (Python's
	// hmac module), so the MAC input's layout cannot drift.
	var n1, n2 [32]byte
	for i := range n1 {
		n1[i], n2[i] = byte(i), byte(255-i)
	}
	sess := sha256.Sum256([]byte("test-session"))
	for _, v := range []struct {
		role      byte
		their, my []byte
		want      string
	}{
		{roleDialer, n1[:], n2[:], "727641d01bea40a0d80e42e0de547ff700c03bab1f777b9b8b958c6ac8777412"},
		{roleListener, n2[:], n1[:], "4addd31b1dbd8e51a24581e3ddd0d3a0b514576312ca7c2c5c96c9279a27839a"},
	} {
		if got := hex.EncodeToString(linkProof(&testLinkKey, v.role, v.their, v.my, sess[:])); got != v.want {
			t.Errorf("proof for role %c = %s, want %s", v.role, got, v.want)
		}
	}
}

// deadlinePair is a connected socket pair whose ends give up after 5 s, closed
// when the test ends.
func deadlinePair(t *testing.T) (x, y net.Conn) {
	t.Helper()
	x, y = socketPair(t)
	t.Cleanup(func() { x.Close(); y.Close() })
	x.SetDeadline(time.Now().Add(5 * time.Second))
	y.SetDeadline(time.Now().Add(5 * time.Second))
	return x, y
}
