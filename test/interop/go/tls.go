package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
)

// tlsOpts turns the TLS flags into franz-go's DialTLSConfig: --tls-ca FILE (PEM bundle to trust
// instead of the system's), --tls-cert FILE and --tls-key FILE (PEM client certificate chain and
// key), --tls-server-name NAME (checked in, and sent as SNI for, every connection instead of the
// host dialed). Without any of them the client dials plaintext. franz-go otherwise sets the
// server name to the host of each address it dials.
func tlsOpts(a *args) ([]kgo.Opt, error) {
	caFile, certFile, keyFile, serverName := a.option("tls-ca", ""), a.option("tls-cert", ""), a.option("tls-key", ""), a.option("tls-server-name", "")
	if caFile == "" && certFile == "" && keyFile == "" && serverName == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca: no PEM certificate in %s", caFile)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return []kgo.Opt{kgo.DialTLSConfig(cfg)}, nil
}
