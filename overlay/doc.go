// Package overlay owns how flux processes talk to each other: the msgpack
// message envelope (Msg), its framing on a byte stream, connections that carry
// messages (an in-process Pipe, a framed stream over a unix socket), the
// owner-only client socket (ListenLocal, Dial), the RPC client that
// matches responses to requests by tag (Client, Stream), and the
// broker-to-broker links of a multi-broker instance (DialLink, ListenLinks):
// TCP, authenticated with the instance Key before anything is decoded,
// optionally TLS 1.3, carrying a yamux control stream and a bulk stream.
//
// The package knows nothing about jobs: a payload is opaque msgpack bytes
// whose meaning belongs to the topic. The wire format is written down in
// PROTOCOL.md and pinned by const_test.go and the golden files in testdata/.
//
// Concurrency shape (see STYLE.md 5, 6, 9): every connection has one writer
// goroutine and one reader; every queue is bounded and says what happens when
// it is full; shutdown goes through one closed channel.
package overlay
