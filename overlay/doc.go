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
//
// The queues and their limits:
//   - a stream connection's send queue: 1024 frames (client sockets). Send
//     waits while it is full (back-pressure on the producer); TrySend fails
//     with ErrSendQueueFull instead. Close flushes it for at most 2 s.
//   - a broker link stream's send queue: 4096 frames or 64 MiB, whichever
//     comes first. The broker uses TrySend on links and treats a peer whose
//     queue is full as lost (it has stopped reading).
//   - yamux's per-stream window (256 KiB) bounds what is in flight on a
//     link; a write stalled for 3 heartbeats, or 3 missed heartbeats, ends
//     the link (ErrLinkLost).
//   - a Pipe (in-process connection): its capacity; Send waits when full.
//   - LinkListener: at most 64 handshakes at once (a connection beyond that
//     is closed at once), each bounded by the handshake timeout;
//     authenticated links wait, unbuffered, for Accept. Dropped connections
//     are logged at most once a second per reason, then counted (droplog.go).
//   - a Client's Stream: streamBuffer responses; when full, the Client's
//     reader waits for the Stream to be drained or closed (stream.go). Its
//     pending calls: one entry per call in flight.
package overlay
