package e2e

import (
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
	"securebert-serve/client/go/internal/testserver"
	"securebert-serve/client/go/securebert"
)

// requests reads securebert_requests_total{rpc, code} of each server.
func requests(t *testing.T, rpc, code string, servers ...server) []int {
	t.Helper()
	counts := make([]int, len(servers))
	for i, s := range servers {
		n, err := testserver.Requests(s.metricsURL, rpc, code)
		if err != nil {
			t.Fatal(err)
		}
		counts[i] = n
	}
	return counts
}

// warmUp calls GetModelInfo through c until every one of servers has
// answered one of them: then each connection is up, and round robin
// alternates over all of them rather than over those that connected first.
func warmUp(t *testing.T, c *securebert.Client, servers ...server) {
	t.Helper()
	before := requests(t, "GetModelInfo", "OK", servers...)
	for range 200 {
		modelInfo(t, c)
		now, all := requests(t, "GetModelInfo", "OK", servers...), true
		for i := range servers {
			all = all && now[i] > before[i]
		}
		if all {
			return
		}
	}
	t.Fatal("200 calls did not reach every server")
}

func embedOnce(t *testing.T, c *securebert.Client) error {
	_, err := c.Embed(testContext(t), &securebertv1.EmbedRequest{Inputs: texts[:1]})
	return err
}

func TestRoundRobinOverAddresses(t *testing.T) {
	a, b := shared[0].address, shared[1].address
	t.Run("Addresses", func(t *testing.T) {
		checkRoundRobin(t, newClient(t, securebert.Options{Addresses: []string{a, b}}))
	})
	t.Run("ipv4 target", func(t *testing.T) {
		checkRoundRobin(t, newClient(t, securebert.Options{Target: "ipv4:" + a + "," + b}))
	})
}

// checkRoundRobin sends 40 calls through c, which must reach both shared
// servers in turn.
func checkRoundRobin(t *testing.T, c *securebert.Client) {
	warmUp(t, c, shared[:]...)
	before := requests(t, "Embed", "OK", shared[:]...)
	const calls = 40
	for range calls {
		if err := embedOnce(t, c); err != nil {
			t.Fatal(err)
		}
	}
	after := requests(t, "Embed", "OK", shared[:]...)
	a, b := after[0]-before[0], after[1]-before[1]
	// Round robin over two ready servers alternates: 20 each.
	if a+b != calls || a < calls/4 || b < calls/4 {
		t.Errorf("%d calls split %d / %d over the two servers", calls, a, b)
	}
}

func TestDNSTargetReachesTheServer(t *testing.T) {
	_, port, err := net.SplitHostPort(shared[1].address)
	if err != nil {
		t.Fatal(err)
	}
	// localhost may also resolve to ::1, where nothing listens: round robin
	// keeps to the address that answers.
	c := newClient(t, securebert.Options{Target: "dns:///localhost:" + port, MaxAttempts: 1})
	before := requests(t, "Embed", "OK", shared[1])
	for range 5 {
		if err := embedOnce(t, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := requests(t, "Embed", "OK", shared[1])[0] - before[0]; got != 5 {
		t.Errorf("server saw %d of 5 calls", got)
	}
}

func TestDeadAddressIsPassedOver(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := listener.Addr().String()
	listener.Close()
	// No retries: round robin itself only picks connected servers.
	c := newClient(t, securebert.Options{Addresses: []string{dead, shared[0].address}, MaxAttempts: 1})
	for i := range 10 {
		if err := embedOnce(t, c); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// A draining server stays connected but answers UNAVAILABLE (for
// --shutdown_linger_ms), so round robin keeps picking it: without retries
// some calls fail; with them, each failed attempt moves on to the other
// server and every call succeeds.
func TestRetriesMoveOffADrainingServer(t *testing.T) {
	draining, err := startServer("--shutdown_linger_ms=60000", "--shutdown_grace_s=120")
	if err != nil {
		t.Fatal(err)
	}
	defer draining.process.Kill() // It would linger a minute after SIGTERM.
	pool := []string{shared[0].address, draining.address}
	once := newClient(t, securebert.Options{Addresses: pool, MaxAttempts: 1})
	retried := newClient(t, securebert.Options{Addresses: pool, MaxAttempts: 4,
		Backoff: securebert.Backoff{Initial: time.Millisecond, Multiplier: 2, Max: 10 * time.Millisecond}})
	warmUp(t, once, shared[0], draining)
	warmUp(t, retried, shared[0], draining)
	if err := draining.process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := draining.process.WaitForLog("draining:", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	var failed error
	for i := 0; i < 40 && failed == nil; i++ {
		failed = embedOnce(t, once)
	}
	if s, _ := status.FromError(failed); s.Code() != codes.Unavailable || !strings.Contains(s.Message(), "drain") {
		t.Fatalf("without retries: %v, want the draining server's UNAVAILABLE", failed)
	}

	refusedBefore := requests(t, "Embed", "UNAVAILABLE", draining)[0]
	for i := range 20 {
		if err := embedOnce(t, retried); err != nil {
			t.Fatalf("call %d with retries: %v", i, err)
		}
	}
	if refused := requests(t, "Embed", "UNAVAILABLE", draining)[0] - refusedBefore; refused == 0 {
		t.Error("no attempt reached the draining server: the retries were not tested")
	}
}
