package testtools

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errKey       = "cannot generate a key"
	errSign      = "cannot sign a certificate"
	errWriteCert = "cannot write the server certificates"
	errPair      = "cannot make the client key pair"
)

// validity is long enough for any benchmark run, short enough that the
// certificates are plainly throwaway.
const validity = 24 * time.Hour

// MTLS writes to dir what a composition function reads from
// TLS_SERVER_CERTS_DIR — tls.crt and tls.key for 127.0.0.1, and the ca.crt
// its callers' certificates must chain to — and returns the TLS
// configuration of a caller holding a client certificate of that CA: a
// function on loopback called over mTLS, as Crossplane calls it.
func MTLS(dir string) (*tls.Config, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, errors.Wrap(err, errKey)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caCrt, _, err := sign(ca, ca, caKey)
	if err != nil {
		return nil, err
	}
	serverCrt, serverKey, err := sign(&x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "function"},
		NotBefore:    ca.NotBefore,
		NotAfter:     ca.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}, ca, caKey)
	if err != nil {
		return nil, err
	}
	clientCrt, clientKey, err := sign(&x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "crossplane"},
		NotBefore:    ca.NotBefore,
		NotAfter:     ca.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, errors.Wrap(err, errWriteCert)
	}
	for name, b := range map[string][]byte{"ca.crt": caCrt, "tls.crt": serverCrt, "tls.key": serverKey} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, errors.Wrap(err, errWriteCert)
		}
	}
	pair, err := tls.X509KeyPair(clientCrt, clientKey)
	if err != nil {
		return nil, errors.Wrap(err, errPair)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caCrt)
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, RootCAs: pool}, nil
}

// sign makes a key for tmpl and signs tmpl with the parent's key; it
// returns the certificate and the key, PEM-encoded. A template signed by
// its own key (parent == tmpl) is a CA, whose key the caller holds.
func sign(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (crt, key []byte, err error) {
	k := parentKey
	if tmpl != parent {
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, nil, errors.Wrap(err, errKey)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		return nil, nil, errors.Wrap(err, errSign)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, errors.Wrap(err, errKey)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
