// Package e2e tests the Go client against the real securebert-server: the
// binary named by SECUREBERT_SERVER_BIN serving SECUREBERT_TEST_MODEL_DIR
// (the tiny random-weight test model). Two servers run for the whole package
// (round robin needs two); tests that disturb a server start their own.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"securebert-serve/client/go/internal/testserver"
	"securebert-serve/client/go/securebert"
)

// maxInputTokens is passed to every server, so that the tests' large
// requests stay small; GetModelInfo must report it.
const maxInputTokens = 128

// server is a started securebert-server and where it listens.
type server struct {
	process    *testserver.Server
	address    string // gRPC, "127.0.0.1:N"
	metricsURL string // "http://127.0.0.1:M"
}

var (
	serverBin, modelDir string
	shared              [2]server // serve every test; none of them stops these
)

func TestMain(m *testing.M) {
	var err error
	if serverBin, modelDir, err = testserver.FromEnv(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		os.Exit(1)
	}
	code, err := runWithSharedServers(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		code = 1
	}
	os.Exit(code)
}

// runWithSharedServers starts the shared servers, runs the tests and stops
// the servers; a server that does not drain and exit 0 on SIGTERM is an error.
func runWithSharedServers(m *testing.M) (int, error) {
	errs := make([]error, len(shared))
	inParallel(func(i int) { shared[i], errs[i] = startServer() })
	code := 1
	if err := errors.Join(errs...); err == nil {
		code = m.Run()
	}
	inParallel(func(i int) {
		if shared[i].process != nil {
			if err := shared[i].process.Stop(30 * time.Second); err != nil {
				errs[i] = errors.Join(errs[i], fmt.Errorf("stopping the server at %s: %w", shared[i].address, err))
			}
		}
	})
	return code, errors.Join(errs...)
}

// inParallel runs f(i) for each shared server at once: each start or stop
// takes a while.
func inParallel(f func(i int)) {
	var wg sync.WaitGroup
	for i := range shared {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// startServer starts one server with extra flags and waits until it serves.
func startServer(flags ...string) (server, error) {
	flags = append([]string{"--model_dir=" + modelDir, fmt.Sprintf("--max_input_tokens=%d", maxInputTokens),
		// Nothing is in flight at the end: no reason to linger 2 s per server.
		"--shutdown_linger_ms=0"}, flags...)
	process, err := testserver.Start(serverBin, flags...)
	if err != nil {
		return server{}, err
	}
	address, metricsURL, err := process.Ready(60 * time.Second)
	if err != nil {
		process.Kill()
		return server{}, err
	}
	return server{process: process, address: address, metricsURL: metricsURL}, nil
}

// newClient is a plaintext client (the test servers speak plaintext) that
// the test closes at its end.
func newClient(t *testing.T, o securebert.Options) *securebert.Client {
	t.Helper()
	o.Insecure = true
	c, err := securebert.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
