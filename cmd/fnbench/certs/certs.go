// Package certs writes the mTLS certificates a composition function and its
// caller need, laid out as Crossplane lays them out: a directory per side
// holding tls.crt, tls.key and ca.crt. Benchmarks use them to call a
// function over the transport Crossplane uses, on loopback.
package certs

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
	errKey   = "cannot generate a key"
	errCert  = "cannot sign a certificate"
	errWrite = "cannot write the certificates"
	errLoad  = "cannot load the client certificates"
	errNoCA  = "cannot find a certificate in ca.crt"

	// Server and Client are the directories Write creates under its
	// directory: the function's TLS_SERVER_CERTS_DIR and the caller's.
	Server = "server"
	Client = "client"
)

// validity is long enough for any benchmark run, short enough that the
// certificates are plainly throwaway.
const validity = 24 * time.Hour

// Write creates a CA, a server certificate valid for hosts (IP addresses or
// DNS names) and a client certificate, and writes them to dir/server and
// dir/client.
func Write(dir string, hosts ...string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return errors.Wrap(err, errKey)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fnbench CA"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return errors.Wrap(err, errCert)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	server := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "function"},
		NotBefore:    ca.NotBefore,
		NotAfter:     ca.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			server.IPAddresses = append(server.IPAddresses, ip)
			continue
		}
		server.DNSNames = append(server.DNSNames, h)
	}
	client := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "crossplane"},
		NotBefore:    ca.NotBefore,
		NotAfter:     ca.NotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for sub, tmpl := range map[string]*x509.Certificate{Server: server, Client: client} {
		if err := writeSigned(filepath.Join(dir, sub), tmpl, ca, caKey, caPEM); err != nil {
			return err
		}
	}
	return nil
}

// writeSigned signs tmpl with the CA and writes it, its key and the CA.
func writeSigned(dir string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey, caPEM []byte) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return errors.Wrap(err, errKey)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return errors.Wrap(err, errCert)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return errors.Wrap(err, errKey)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return errors.Wrap(err, errWrite)
	}
	files := map[string][]byte{
		"ca.crt":  caPEM,
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return errors.Wrap(err, errWrite)
		}
	}
	return nil
}

// ClientTLS is the TLS configuration of a caller holding the certificates
// in dir (tls.crt, tls.key, ca.crt), as Crossplane's: it presents its
// certificate and trusts only servers the CA signed.
func ClientTLS(dir string) (*tls.Config, error) {
	crt, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		return nil, errors.Wrap(err, errLoad)
	}
	ca, err := os.ReadFile(filepath.Clean(filepath.Join(dir, "ca.crt")))
	if err != nil {
		return nil, errors.Wrap(err, errLoad)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New(errNoCA)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{crt}, RootCAs: pool}, nil
}
