package securebert

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
)

// quick retries without jitter keep the tests fast and exact.
var quick = Backoff{Initial: time.Millisecond, Multiplier: 2, Max: 10 * time.Millisecond}

// newTestClient is a plaintext client of a fake.
func newTestClient(t *testing.T, o Options) *Client {
	t.Helper()
	o.Insecure = true
	return newClient(t, o)
}

func tokenize(c *Client, ctx context.Context, text string) error {
	_, err := c.Tokenize(ctx, &securebertv1.TokenizeRequest{Inputs: []string{text}})
	return err
}

func repeat(code codes.Code, n int) []codes.Code {
	out := make([]codes.Code, n)
	for i := range out {
		out[i] = code
	}
	return out
}

func TestRetriesUnavailableUntilItSucceeds(t *testing.T) {
	fake, address := startFake(t, repeat(codes.Unavailable, 2))
	c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 3, Backoff: quick})
	if err := tokenize(c, context.Background(), "a"); err != nil {
		t.Fatalf("third attempt should succeed: %v", err)
	}
	if got := fake.callCount(); got != 3 {
		t.Errorf("%d calls reached the server, want 3", got)
	}
}

func TestGivesUpAfterMaxAttemptsWithTheServersStatus(t *testing.T) {
	fake, address := startFake(t, repeat(codes.Unavailable, 10))
	c := newTestClient(t, Options{Target: address, MaxAttempts: 3, Backoff: quick})
	err := tokenize(c, context.Background(), "a")
	if s, ok := status.FromError(err); !ok || s.Code() != codes.Unavailable || s.Message() != "scripted Unavailable" {
		t.Errorf("got %v, want the server's UNAVAILABLE", err)
	}
	if got := fake.callCount(); got != 3 {
		t.Errorf("%d calls reached the server, want 3", got)
	}
}

func TestNeverRetriesOtherCodes(t *testing.T) {
	for _, code := range []codes.Code{codes.InvalidArgument, codes.ResourceExhausted,
		codes.DeadlineExceeded, codes.Internal, codes.Unauthenticated, codes.PermissionDenied} {
		fake, address := startFake(t, []codes.Code{code})
		c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 4, Backoff: quick})
		if got := status.Code(tokenize(c, context.Background(), "a")); got != code {
			t.Errorf("got %v, want %v", got, code)
		}
		if got := fake.callCount(); got != 1 {
			t.Errorf("%v: %d calls, want 1 (no retry)", code, got)
		}
	}
}

func TestNoRetryWhoseWaitEndsPastTheDeadline(t *testing.T) {
	fake, address := startFake(t, repeat(codes.Unavailable, 10))
	// Attempt 1 at 0, wait 400 ms, attempt 2; the next wait (800 ms) would
	// end past the 1 s deadline, so the call ends there.
	c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 10, Deadline: time.Second,
		Backoff: Backoff{Initial: 400 * time.Millisecond, Multiplier: 2, Max: 10 * time.Second}})
	start := time.Now()
	err := tokenize(c, context.Background(), "a")
	if status.Code(err) != codes.Unavailable {
		t.Errorf("got %v, want the last UNAVAILABLE", err)
	}
	if got := fake.callCount(); got != 2 {
		t.Errorf("%d calls, want 2", got)
	}
	if elapsed := time.Since(start); elapsed >= time.Second {
		t.Errorf("took %v: it waited for the deadline", elapsed)
	}
}

func TestCancelDuringBackoffEndsTheCall(t *testing.T) {
	fake, address := startFake(t, repeat(codes.Unavailable, 10))
	c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 10,
		Backoff: Backoff{Initial: time.Minute, Multiplier: 1, Max: time.Minute}})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-fake.called
		cancel()
	}()
	if got := status.Code(tokenize(c, ctx, "a")); got != codes.Canceled {
		t.Errorf("got %v, want CANCELED", got)
	}
}

func TestUnreachableServerIsRetried(t *testing.T) {
	// A port that was just free has nothing listening: connection refused.
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := listener.Addr().String()
	listener.Close()
	c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 3,
		Backoff: Backoff{Initial: 50 * time.Millisecond, Multiplier: 2, Max: time.Second}})
	start := time.Now()
	if got := status.Code(tokenize(c, context.Background(), "a")); got != codes.Unavailable {
		t.Errorf("got %v, want UNAVAILABLE", got)
	}
	// Two waits, 50 and 100 ms, lie between the three attempts.
	if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
		t.Errorf("failed after %v, before the retries' waits", elapsed)
	}
}

func TestEmbedStreamIsRetriedAndAnswersInOrder(t *testing.T) {
	fake, address := startFake(t, []codes.Code{codes.Unavailable})
	c := newTestClient(t, Options{Addresses: []string{address}, MaxAttempts: 2, Backoff: quick})
	var requests []*securebertv1.EmbedRequest
	for n := 1; n <= 3; n++ {
		requests = append(requests, &securebertv1.EmbedRequest{Inputs: make([]string, n)})
	}
	responses, err := c.EmbedStream(context.Background(), requests)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range responses {
		if len(r.GetEmbeddings()) != i+1 {
			t.Errorf("response %d has %d embeddings, want %d", i, len(r.GetEmbeddings()), i+1)
		}
	}
	if len(responses) != 3 || fake.callCount() != 2 {
		t.Errorf("%d responses after %d calls, want 3 after 2", len(responses), fake.callCount())
	}
}

func TestReceiveLimit(t *testing.T) {
	_, address := startFake(t, nil)
	// 900 Ki tokens of 5 bytes each: 4.6 MB, over gRPC's own 4 MiB limit.
	big := strings.Repeat("x", 900<<10)
	if err := tokenize(newTestClient(t, Options{Target: address}), context.Background(), big); err != nil {
		t.Errorf("the 64 MiB default refused a 4.6 MB answer: %v", err)
	}
	small := newTestClient(t, Options{Target: address, MaxRecvMsgBytes: 1 << 10})
	if got := status.Code(tokenize(small, context.Background(), strings.Repeat("x", 1<<10))); got != codes.ResourceExhausted {
		t.Errorf("MaxRecvMsgBytes 1 KiB: got %v, want RESOURCE_EXHAUSTED", got)
	}
}
