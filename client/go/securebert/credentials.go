package securebert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// tlsConfig builds the client side of TLS: caFile's roots (empty: the
// system's), a client certificate for mutual TLS when certFile and keyFile
// are given, and serverName to verify (empty: grpc takes the host of the
// channel's authority).
func tlsConfig(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	// TLS 1.2 is the oldest gRPC allows; Go's client default is the same, but
	// saying it keeps a change of default from loosening this.
	config := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read root certificates: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in CA file %q", caFile)
		}
		config.RootCAs = roots
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("a TLS client certificate and its key go together: set both " +
			"CertFile and KeyFile (or " + EnvCertFile + " and " + EnvKeyFile + ") or neither")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot load client certificate %q and key %q: %w", certFile, keyFile, err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// bearerToken puts "authorization: Bearer <token>" on every call, as gRPC's
// credentials.PerRPCCredentials; immutable, safe from any goroutine.
type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

// RequireTransportSecurity makes gRPC refuse to send the token in plaintext.
func (bearerToken) RequireTransportSecurity() bool { return true }
