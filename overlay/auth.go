package overlay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// LinkVersion is the version of the broker-link handshake (PROTOCOL.md,
// "Broker links"). It travels in bytes 8-9 of the greeting; those first ten
// bytes keep their layout in every future version, so brokers of different
// versions can always tell each other why they cannot talk.
const LinkVersion = 1

// Greeting layout: each side's first bytes on a new TCP link.
const (
	linkMagic   = "FLUXTBON"
	greetingLen = 44 // magic 8, version 2, flags 1, reserved 1, nonce 32
	nonceLen    = 32
	proofLen    = sha256.Size

	// flagEncrypt in the greeting's flags byte: this side will start TLS
	// right after authentication.
	flagEncrypt = 0x01
)

// Role bytes in the proof: which end of the link computed it, so a proof
// reflected back to its sender never verifies.
const (
	roleDialer   = 'C'
	roleListener = 'S'
)

var (
	// ErrNotBroker: the peer's first bytes are not a flux link greeting
	// (an HTTP client, a port scanner, garbage).
	ErrNotBroker = errors.New("not a flux broker (bad preamble)")
	// ErrAuthFailed: the peer's proof did not verify: it holds another
	// instance key (or another session id, which the proof also covers).
	ErrAuthFailed = errors.New("failed authentication (wrong instance key?)")
	// ErrEncryptMismatch: one end wants TLS on the link and the other not.
	ErrEncryptMismatch = errors.New("link encryption mismatch")
	// ErrSessionMismatch: the peer's hello names another session.
	ErrSessionMismatch = errors.New("session mismatch")
	// ErrBadHello: the peer authenticated but its hello is not a broker's
	// hello of this protocol version.
	ErrBadHello = errors.New("bad hello")
	// ErrHandshakeTimeout: the peer did not finish the handshake within
	// LinkConfig.Timeout.
	ErrHandshakeTimeout = errors.New("handshake timed out")
	// ErrLinkLost: an established link ended without this side closing it
	// (the peer closed it, the connection broke, or heartbeats stopped).
	ErrLinkLost = errors.New("link lost")
)

// VersionError: the peer speaks another link protocol version.
type VersionError struct {
	Peer, Ours int
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("speaks link protocol %d, this broker speaks %d; run the same flux release on every broker", e.Peer, e.Ours)
}

// authResult is what the challenge-response learned about the peer.
type authResult struct {
	peerEncrypt bool
}

// authenticate runs step 1 of the link handshake on the raw connection rw:
// both sides send their greeting, check the peer's magic and version, then
// prove knowledge of key with an HMAC over both nonces, the prover's role and
// the session. Everything read has a fixed size: nothing the peer sends makes
// us allocate, and nothing is decoded before the proof verifies.
//
// rand supplies the nonce. The caller bounds the whole exchange in time by
// closing the connection (see handshake).
func authenticate(rw io.ReadWriter, rand io.Reader, key *Key, session string, dialer, encrypt bool) (authResult, error) {
	var mine [greetingLen]byte
	copy(mine[:8], linkMagic)
	binary.BigEndian.PutUint16(mine[8:10], LinkVersion)
	if encrypt {
		mine[10] = flagEncrypt
	}
	myNonce := mine[12:greetingLen]
	if _, err := io.ReadFull(rand, myNonce); err != nil {
		return authResult{}, fmt.Errorf("making a nonce: %w", err)
	}
	if _, err := rw.Write(mine[:]); err != nil {
		return authResult{}, fmt.Errorf("sending the greeting: %w", err)
	}

	var theirs [greetingLen]byte
	if _, err := io.ReadFull(rw, theirs[:8]); err != nil {
		return authResult{}, readErr("the peer's greeting", err)
	}
	if string(theirs[:8]) != linkMagic {
		return authResult{}, ErrNotBroker
	}
	if _, err := io.ReadFull(rw, theirs[8:10]); err != nil {
		return authResult{}, readErr("the peer's greeting", err)
	}
	if v := binary.BigEndian.Uint16(theirs[8:10]); v != LinkVersion {
		return authResult{}, &VersionError{Peer: int(v), Ours: LinkVersion}
	}
	if _, err := io.ReadFull(rw, theirs[10:]); err != nil {
		return authResult{}, readErr("the peer's greeting", err)
	}
	theirNonce := theirs[12:greetingLen]
	// A peer echoing our own nonce is replaying or reflecting: its
	// proof would still fail, but say so plainly.
	if hmac.Equal(theirNonce, myNonce) {
		return authResult{}, ErrAuthFailed
	}

	myRole, theirRole := byte(roleListener), byte(roleDialer)
	if dialer {
		myRole, theirRole = roleDialer, roleListener
	}
	sess := sha256.Sum256([]byte(session))
	proof := linkProof(key, myRole, theirNonce, myNonce, sess[:])
	if _, err := rw.Write(proof); err != nil {
		return authResult{}, fmt.Errorf("sending the proof: %w", err)
	}
	var got [proofLen]byte
	if _, err := io.ReadFull(rw, got[:]); err != nil {
		return authResult{}, readErr("the peer's proof", err)
	}
	// The peer's proof: its role, our nonce (its "their nonce"), its nonce.
	want := linkProof(key, theirRole, myNonce, theirNonce, sess[:])
	if !hmac.Equal(got[:], want) {
		return authResult{}, fmt.Errorf("%w; every broker needs the same key file and session id (%q here)", ErrAuthFailed, session)
	}

	res := authResult{peerEncrypt: theirs[10]&flagEncrypt != 0}
	if res.peerEncrypt != encrypt {
		return res, fmt.Errorf("%w: this broker has link encryption %s, the peer %s; every broker of an instance must use the same setting",
			ErrEncryptMismatch, onOff(encrypt), onOff(res.peerEncrypt))
	}
	return res, nil
}

// linkProof is HMAC-SHA256(key, role || their nonce || my nonce || SHA-256(session)),
// computed by the side whose role it is.
func linkProof(key *Key, role byte, theirNonce, myNonce, sessHash []byte) []byte {
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte{role})
	m.Write(theirNonce)
	m.Write(myNonce)
	m.Write(sessHash)
	return m.Sum(nil)
}

func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("connection closed while waiting for %s", what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
