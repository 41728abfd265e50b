package securebert

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
)

// fakeService is an in-process SecureBert whose next calls fail with
// scripted codes, for tests of the client's own behaviour (retries, limits,
// credentials) that the real server cannot be made to show on demand.
// Handlers run on gRPC's goroutines; the test reads through methods.
type fakeService struct {
	securebertv1.UnimplementedSecureBertServer
	called chan struct{} // gets a value per call, when it has not got one pending

	mu            sync.Mutex
	failures      []codes.Code // guarded by mu: answers of the next calls, then OK
	calls         int          // guarded by mu: calls received
	authorization []string     // guarded by mu: each call's authorization metadata
}

// startFake serves a fakeService on 127.0.0.1 until the test ends; it
// returns the service and its address.
func startFake(t *testing.T, failures []codes.Code, opts ...grpc.ServerOption) (*fakeService, string) {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeService{called: make(chan struct{}, 1), failures: failures}
	server := grpc.NewServer(opts...)
	securebertv1.RegisterSecureBertServer(server, fake)
	go func() { _ = server.Serve(listener) }() // Serve returns when Stop is called.
	t.Cleanup(server.Stop)
	return fake, listener.Addr().String()
}

// record counts a call and returns its scripted error, nil when none is left.
func (f *fakeService) record(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.calls++
	f.authorization = append(f.authorization, strings.Join(md.Get("authorization"), ","))
	var err error
	if len(f.failures) > 0 {
		err = status.Errorf(f.failures[0], "scripted %v", f.failures[0])
		f.failures = f.failures[1:]
	}
	f.mu.Unlock()
	select {
	case f.called <- struct{}{}:
	default:
	}
	return err
}

func (f *fakeService) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeService) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.authorization...)
}

// Tokenize answers one token "x" per byte of the first input, so a test
// picks the response's size.
func (f *fakeService) Tokenize(ctx context.Context, r *securebertv1.TokenizeRequest) (*securebertv1.TokenizeResponse, error) {
	if err := f.record(ctx); err != nil {
		return nil, err
	}
	tokenization := &securebertv1.Tokenization{}
	if len(r.GetInputs()) > 0 {
		for range len(r.GetInputs()[0]) {
			tokenization.Tokens = append(tokenization.Tokens, &securebertv1.Token{Text: "x"})
		}
	}
	return &securebertv1.TokenizeResponse{Results: []*securebertv1.Tokenization{tokenization}}, nil
}

// EmbedStream answers each request with one empty Embedding per input.
func (f *fakeService) EmbedStream(stream grpc.BidiStreamingServer[securebertv1.EmbedRequest, securebertv1.EmbedResponse]) error {
	if err := f.record(stream.Context()); err != nil {
		return err
	}
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		response := &securebertv1.EmbedResponse{}
		for range r.GetInputs() {
			response.Embeddings = append(response.Embeddings, &securebertv1.Embedding{})
		}
		if err := stream.Send(response); err != nil {
			return err
		}
	}
}
