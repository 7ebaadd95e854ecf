package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Certificate key types the benchmarks compare.
const (
	KeyECDSA   = "ecdsa"   // ECDSA P-256, what ja3echo makes when it has no certificate
	KeyEd25519 = "ed25519" // browsers do not accept it; measured because Go clients do
	KeyRSA     = "rsa"     // RSA-2048
)

// KeyTypes lists the key types in table order.
var KeyTypes = []string{KeyECDSA, KeyEd25519, KeyRSA}

// KeyName is a key type's name in tables.
func KeyName(kind string) string {
	switch kind {
	case KeyECDSA:
		return "ECDSA P-256"
	case KeyEd25519:
		return "Ed25519"
	case KeyRSA:
		return "RSA-2048"
	}
	return kind
}

// NewCert returns a fresh self-signed certificate of the given key type for
// localhost and 127.0.0.1.
func NewCert(kind string) (tls.Certificate, error) {
	var (
		key crypto.Signer
		err error
	)
	switch kind {
	case KeyECDSA:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case KeyRSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return tls.Certificate{}, fmt.Errorf("bench: unknown key type %q (want ecdsa, ed25519 or rsa)", kind)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"ja3echo bench"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// WritePEM writes c's chain and PKCS#8 key, the pair ja3echo's --cert/--key
// and the baseline's -cert/-key read.
func WritePEM(c tls.Certificate, certFile, keyFile string) error {
	var chain []byte
	for _, der := range c.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
}
