package securebert

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func envOf(values map[string]string) func(string) string {
	return func(name string) string { return values[name] }
}

func TestZeroOptionsMeanTheDefaults(t *testing.T) {
	s, err := resolve(Options{}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.target != DefaultTarget || s.deadline != DefaultDeadline || s.maxAttempts != DefaultMaxAttempts ||
		s.backoff != DefaultBackoff() || s.maxRecvMsgBytes != 64<<20 {
		t.Errorf("defaults: %+v", s)
	}
	if s.tls == nil || s.token != "" {
		t.Errorf("want TLS without a token unless Insecure, got tls=%v token=%q", s.tls, s.token)
	}
}

func TestExplicitOptionsAreKept(t *testing.T) {
	b := Backoff{Initial: time.Second, Multiplier: 1, Max: time.Second}
	s, err := resolve(Options{Addresses: []string{"a:1", "b:2"}, Deadline: -1, MaxAttempts: 1,
		Backoff: b, MaxRecvMsgBytes: 5, Insecure: true}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if s.target != "" || len(s.addresses) != 2 || s.deadline >= 0 || s.maxAttempts != 1 ||
		s.backoff != b || s.maxRecvMsgBytes != 5 || s.tls != nil {
		t.Errorf("settings %+v", s)
	}
}

func TestEnvironmentFillsOnlyEmptyTLSFields(t *testing.T) {
	env := envOf(map[string]string{EnvToken: "env-token", EnvCAFile: "/nonexistent/env-ca.pem"})
	s, err := resolve(Options{Token: "mine"}, envOf(map[string]string{EnvToken: "env-token"}))
	if err != nil || s.token != "mine" {
		t.Errorf("explicit Token: %q, %v", s.token, err)
	}
	if _, err := resolve(Options{}, env); err == nil || !strings.Contains(err.Error(), "env-ca.pem") {
		t.Errorf("SECUREBERT_CA_FILE not read: %v", err)
	}
	// Plaintext never picks up credentials, wherever they come from.
	s, err = resolve(Options{Insecure: true}, env)
	if err != nil || s.tls != nil || s.token != "" {
		t.Errorf("Insecure with credentials in the environment: %+v, %v", s, err)
	}
}

func TestInvalidOptionsAreRefused(t *testing.T) {
	for name, o := range map[string]Options{
		"target and addresses": {Target: "a:1", Addresses: []string{"b:2"}},
		"empty address":        {Addresses: []string{"a:1", ""}},
		"negative attempts":    {MaxAttempts: -1},
		"negative recv limit":  {MaxRecvMsgBytes: -1},
		"bad backoff":          {Backoff: Backoff{Initial: time.Second}},
		"insecure with CA":     {Insecure: true, CAFile: "ca.pem"},
		"insecure with token":  {Insecure: true, Token: "t"},
		"insecure with name":   {Insecure: true, ServerName: "x"},
		"cert without key":     {CertFile: "cert.pem"},
		"key without cert":     {KeyFile: "key.pem"},
		"missing CA file":      {CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := resolve(o, noEnv); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAddressListTargetsMeanAddresses(t *testing.T) {
	for target, want := range map[string][]string{
		"ipv4:10.0.0.1:1,10.0.0.2:2": {"10.0.0.1:1", "10.0.0.2:2"},
		"10.0.0.1:1,10.0.0.2:2":      {"10.0.0.1:1", "10.0.0.2:2"},
		"ipv6:[::1]:1,[::2]:2":       {"[::1]:1", "[::2]:2"},
		"ipv4:10.0.0.1:1":            {"10.0.0.1:1"},
		"dns:///svc:1":               nil,
		"svc:1":                      nil,
	} {
		s, err := resolve(Options{Target: target, Insecure: true}, noEnv)
		if err != nil {
			t.Errorf("%q: %v", target, err)
			continue
		}
		if !slices.Equal(s.addresses, want) || (want == nil) != (s.target == target) {
			t.Errorf("%q: target %q, addresses %q; want addresses %q", target, s.target, s.addresses, want)
		}
	}
	if _, err := resolve(Options{Target: "ipv4:10.0.0.1:1,,10.0.0.2:2", Insecure: true}, noEnv); err == nil {
		t.Error("an empty address in the list was accepted")
	}
}
