package securebert

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// clearTLSEnv keeps the environment the tests run in out of the client.
func clearTLSEnv(t *testing.T) {
	for _, name := range []string{EnvCAFile, EnvCertFile, EnvKeyFile, EnvToken} {
		t.Setenv(name, "")
	}
}

func startTLSFake(t *testing.T, p testPKI) (*fakeService, string) {
	return startFake(t, nil, grpc.Creds(credentials.NewTLS(p.serverTLS(t))))
}

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestMutualTLSWithBearerToken(t *testing.T) {
	clearTLSEnv(t)
	p := newTestPKI(t)
	fake, address := startTLSFake(t, p)
	// No ServerName: the certificate is checked against the first address's
	// host, 127.0.0.1.
	c := newClient(t, Options{Addresses: []string{address}, CAFile: p.caFile,
		CertFile: p.clientCert, KeyFile: p.clientKey, Token: "s3cret"})
	if err := tokenize(c, context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := fake.authorizations(); len(got) != 1 || got[0] != "Bearer s3cret" {
		t.Errorf("authorization metadata %q, want [\"Bearer s3cret\"]", got)
	}
}

func TestTLSSettingsFromTheEnvironment(t *testing.T) {
	p := newTestPKI(t)
	t.Setenv(EnvCAFile, p.caFile)
	t.Setenv(EnvCertFile, p.clientCert)
	t.Setenv(EnvKeyFile, p.clientKey)
	t.Setenv(EnvToken, "from-env")
	fake, address := startTLSFake(t, p)
	c := newClient(t, Options{Target: address, ServerName: "localhost"})
	if err := tokenize(c, context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if got := fake.authorizations(); len(got) != 1 || got[0] != "Bearer from-env" {
		t.Errorf("authorization metadata %q, want [\"Bearer from-env\"]", got)
	}
}

func TestTLSRefusesAServerOfAnotherCA(t *testing.T) {
	clearTLSEnv(t)
	p := newTestPKI(t)
	fake, address := startTLSFake(t, p)
	// The system's roots did not sign the test CA.
	c := newClient(t, Options{Target: address, CertFile: p.clientCert, KeyFile: p.clientKey, MaxAttempts: 1})
	if got := status.Code(tokenize(c, context.Background(), "a")); got != codes.Unavailable {
		t.Errorf("got %v, want UNAVAILABLE (handshake refused)", got)
	}
	if fake.callCount() != 0 {
		t.Error("a call reached the server over an unverified connection")
	}
}

func TestMutualTLSRefusesAClientWithoutCertificate(t *testing.T) {
	clearTLSEnv(t)
	p := newTestPKI(t)
	fake, address := startTLSFake(t, p)
	c := newClient(t, Options{Target: address, CAFile: p.caFile, MaxAttempts: 1})
	if err := tokenize(c, context.Background(), "a"); err == nil {
		t.Error("the server took a client without a certificate")
	}
	if fake.callCount() != 0 {
		t.Error("a call reached the server without a client certificate")
	}
}
