package overlay

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// tlsInfo is the HKDF info string that turns an instance key into the seed
// of the instance's ed25519 TLS identity (PROTOCOL.md).
const tlsInfo = "flux tls"

// tlsIdentity is an instance's TLS credentials, derived from its key: every
// broker holding the key builds the same key pair (and, since ed25519
// signatures and the template are deterministic, the same certificate).
type tlsIdentity struct {
	cert tls.Certificate
	pub  ed25519.PublicKey
}

var (
	tlsCacheMu sync.Mutex
	// tlsCache holds one identity per instance key, keyed by the key's
	// SHA-256 so the map does not hold the key itself. Guarded by tlsCacheMu.
	tlsCache = map[[sha256.Size]byte]*tlsIdentity{}
)

// instanceIdentity returns the TLS identity for key, deriving it once.
func instanceIdentity(key *Key) (*tlsIdentity, error) {
	h := sha256.Sum256(key[:])
	tlsCacheMu.Lock()
	defer tlsCacheMu.Unlock()
	if id, ok := tlsCache[h]; ok {
		return id, nil
	}
	id, err := deriveIdentity(key)
	if err != nil {
		return nil, err
	}
	tlsCache[h] = id
	return id, nil
}

// deriveIdentity: seed = HKDF-SHA256(key, salt none, info "flux tls"), the
// ed25519 key pair from that seed, and a self-signed certificate for it.
// The certificate carries no names: peers check only its public key.
func deriveIdentity(key *Key) (*tlsIdentity, error) {
	seed, err := hkdf.Key(sha256.New, key[:], nil, tlsInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("overlay: deriving TLS credentials: %w", err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	clear(seed)
	pub := priv.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "flux instance"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("overlay: making the TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("overlay: parsing the TLS certificate: %w", err)
	}
	return &tlsIdentity{
		cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf},
		pub:  pub,
	}, nil
}

// errNotInstanceCert: the peer's TLS certificate is not for the instance's
// public key. After the HMAC proof this means someone in the middle.
var errNotInstanceCert = errors.New("the peer's TLS certificate is not this instance's")

// tlsConfig returns the TLS 1.3 configuration of one end of a link. There is
// no CA and no host name: each side presents the instance certificate and
// accepts the peer only if its certificate's public key is the instance's
// public key. The handshake's CertificateVerify proves the peer holds the
// matching private key, which only holders of the instance key can derive.
func (id *tlsIdentity) tlsConfig(dialer bool) *tls.Config {
	verify := func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
		if len(rawCerts) == 0 {
			return errNotInstanceCert
		}
		c, err := x509.ParseCertificate(rawCerts[0])
		if err != nil {
			return fmt.Errorf("%w: %v", errNotInstanceCert, err)
		}
		pub, ok := c.PublicKey.(ed25519.PublicKey)
		if !ok || !pub.Equal(id.pub) {
			return errNotInstanceCert
		}
		return nil
	}
	cfg := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{id.cert},
		VerifyPeerCertificate:  verify,
		SessionTicketsDisabled: true, // a resumed session would skip verify
	}
	if dialer {
		// No CA and no host name to check: verify does the whole job.
		cfg.InsecureSkipVerify = true
		cfg.ServerName = "flux"
	} else {
		cfg.ClientAuth = tls.RequireAnyClientCert
	}
	return cfg
}
