package securebert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	// DefaultTarget is where a client with neither Target nor Addresses goes.
	DefaultTarget = "127.0.0.1:50051"
	// DefaultDeadline bounds each call, retries included.
	DefaultDeadline = 30 * time.Second
	// DefaultMaxAttempts counts the first attempt.
	DefaultMaxAttempts = 4
	// DefaultMaxRecvMsgBytes: a full last_hidden_state (POOLING_NONE) is
	// num_tokens x hidden floats, about 1.5 MB per 512-token input, far over
	// gRPC's 4 MiB for a batch of them.
	DefaultMaxRecvMsgBytes = 64 << 20
)

// Environment variables read for the TLS settings Options leaves empty:
// one set of names for all of the project's clients.
const (
	EnvCAFile   = "SECUREBERT_CA_FILE"
	EnvCertFile = "SECUREBERT_CERT_FILE"
	EnvKeyFile  = "SECUREBERT_KEY_FILE"
	EnvToken    = "SECUREBERT_TOKEN"
)

// Options say where the server is, how to reach it and how calls behave.
// A zero field means its default; New reads them once.
type Options struct {
	// gRPC target: "host:port"; a URI such as "dns:///svc.internal:50051"
	// (round robin over every address the name resolves to); or, as the C++
	// client takes them, "ipv4:a:port,b:port", "ipv6:[a]:port,..." or a bare
	// "a:port,b:port", which mean Addresses. Empty, with no Addresses:
	// DefaultTarget.
	Target string
	// Server addresses ("host:port"), called in round robin; a fixed list,
	// never re-resolved. Exclusive with Target.
	Addresses []string
	// Deadline of each call, retries and waits between them included; a
	// context deadline that is sooner wins. 0: DefaultDeadline; negative:
	// only the context's.
	Deadline time.Duration
	// Attempts per call, the first included, when calls fail with
	// UNAVAILABLE; 1 disables retries. 0: DefaultMaxAttempts.
	MaxAttempts int
	// Waits between attempts; the zero value: DefaultBackoff().
	Backoff Backoff
	// Largest response accepted, in bytes. 0: DefaultMaxRecvMsgBytes.
	MaxRecvMsgBytes int
	// Plaintext instead of TLS. The zero value is TLS; a server started
	// without TLS (its default) needs Insecure. With it, the TLS fields and
	// Token must be empty and their environment variables are not read:
	// credentials never travel in plaintext.
	Insecure bool
	// TLS: PEM file of root certificates to trust. Empty: $SECUREBERT_CA_FILE,
	// else the system's roots.
	CAFile string
	// TLS: PEM client certificate chain, for mutual TLS; needs KeyFile.
	// Empty: $SECUREBERT_CERT_FILE.
	CertFile string
	// TLS: PEM private key of CertFile. Empty: $SECUREBERT_KEY_FILE.
	KeyFile string
	// TLS: name checked against the server certificate. Empty: the target's
	// host; with Addresses, the first address's host.
	ServerName string
	// Bearer token, sent as "authorization: Bearer <token>" on every call.
	// Empty: $SECUREBERT_TOKEN; none if that is empty too.
	Token string
}

// settings are Options with defaults applied and files read.
type settings struct {
	target          string        // for grpc.NewClient; unused with addresses
	addresses       []string      // non-empty: a manual resolver over these
	deadline        time.Duration // per call, retries included; <= 0: the context's only
	maxAttempts     int           // per call, the first included; >= 1
	backoff         Backoff       // validated
	maxRecvMsgBytes int           // > 0
	tls             *tls.Config   // nil: plaintext
	token           string        // empty: no authorization metadata
}

// resolve checks o, applies defaults and, for TLS, the environment (through
// getenv) and reads the PEM files.
func resolve(o Options, getenv func(string) string) (settings, error) {
	s := settings{
		target: o.Target, addresses: slices.Clone(o.Addresses), deadline: o.Deadline,
		maxAttempts: o.MaxAttempts, backoff: o.Backoff, maxRecvMsgBytes: o.MaxRecvMsgBytes,
	}
	if err := checkAddresses(o); err != nil {
		return settings{}, err
	}
	if list, ok := addressList(o.Target); ok {
		s.target, s.addresses = "", list
		if slices.Contains(list, "") {
			return settings{}, fmt.Errorf("target %q has an empty address", o.Target)
		}
	}
	if s.target == "" && len(s.addresses) == 0 {
		s.target = DefaultTarget
	}
	if s.deadline == 0 {
		s.deadline = DefaultDeadline
	}
	if s.maxAttempts < 0 || s.maxRecvMsgBytes < 0 {
		return settings{}, fmt.Errorf("MaxAttempts (%d) and MaxRecvMsgBytes (%d) must be >= 0",
			s.maxAttempts, s.maxRecvMsgBytes)
	}
	if s.maxAttempts == 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	if s.maxRecvMsgBytes == 0 {
		s.maxRecvMsgBytes = DefaultMaxRecvMsgBytes
	}
	if s.backoff == (Backoff{}) {
		s.backoff = DefaultBackoff()
	}
	if err := s.backoff.validate(); err != nil {
		return settings{}, err
	}
	if err := s.resolveSecurity(o, getenv); err != nil {
		return settings{}, err
	}
	return s, nil
}

// resolveSecurity fills s.tls and s.token from o, or the environment for
// fields o leaves empty, unless o is plaintext.
func (s *settings) resolveSecurity(o Options, getenv func(string) string) error {
	if o.Insecure {
		if o.CAFile != "" || o.CertFile != "" || o.KeyFile != "" || o.ServerName != "" || o.Token != "" {
			return errors.New("CAFile, CertFile, KeyFile, ServerName and Token need TLS, but Insecure is set")
		}
		return nil
	}
	s.token = orEnv(o.Token, EnvToken, getenv)
	config, err := tlsConfig(orEnv(o.CAFile, EnvCAFile, getenv), orEnv(o.CertFile, EnvCertFile, getenv),
		orEnv(o.KeyFile, EnvKeyFile, getenv), o.ServerName)
	s.tls = config
	return err
}

func checkAddresses(o Options) error {
	if o.Target != "" && len(o.Addresses) > 0 {
		return errors.New("set Target or Addresses, not both")
	}
	for i, address := range o.Addresses {
		if address == "" {
			return fmt.Errorf("Addresses[%d] is empty", i)
		}
	}
	return nil
}

// addressList reads the address lists of gRPC's C core, which grpc-go has no
// resolver for: "ipv4:" or "ipv6:" and comma-separated addresses, or a
// comma-separated list with no scheme.
func addressList(target string) ([]string, bool) {
	for _, scheme := range []string{"ipv4:", "ipv6:"} {
		if rest, found := strings.CutPrefix(target, scheme); found {
			return strings.Split(rest, ","), true
		}
	}
	if strings.Contains(target, ",") && !strings.Contains(target, ":/") {
		return strings.Split(target, ","), true
	}
	return nil, false
}

func orEnv(value, name string, getenv func(string) string) string {
	if value != "" {
		return value
	}
	return getenv(name)
}
