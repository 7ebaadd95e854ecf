package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// certStore holds the serving certificate behind an atomic pointer, so that
// a reload can swap it while handshakes read it.
type certStore struct {
	cert       atomic.Pointer[tls.Certificate]
	selfSigned bool
}

func (s *certStore) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cert.Load(), nil
}

// loadCertificate reads the PEM pair. When neither file exists it makes an
// ephemeral self-signed ECDSA P-256 certificate, so `make run` works on a
// fresh machine; when only one exists, or they do not match, it is an error:
// silently serving a throwaway cert would hide a broken deployment.
func loadCertificate(certFile, keyFile string) (*certStore, error) {
	certErr, keyErr := exists(certFile), exists(keyFile)
	s := &certStore{}
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		c, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.cert.Store(c)
		s.selfSigned = true
		return s, nil
	case certErr != nil:
		return nil, fmt.Errorf("certificate %s: %w", certFile, certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("key %s: %w", keyFile, keyErr)
	}
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
	}
	s.cert.Store(&c)
	return s, nil
}

func exists(name string) error {
	_, err := os.Stat(name)
	return err
}

// selfSigned returns a fresh ECDSA P-256 certificate for the loopback names.
func selfSigned() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"ja3echo self-signed"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
