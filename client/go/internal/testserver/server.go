// Package testserver runs the real securebert-server binary as a child
// process on ephemeral loopback ports, for end-to-end tests.
//
// A goroutine reads the child's stderr (its log) line by line, so tests wait
// on log events ("ready:", "draining:") instead of sleeping; the ports come
// from the "listening:" line.
//
// Ownership: a Server owns its child process; Stop or Kill ends it, and the
// child is also killed if the test binary dies first.
// Thread safety: every method may be called from any goroutine.
package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// listening matches the server's "listening: grpc=H:P port=N metrics=H:P port=M".
var listening = regexp.MustCompile(`listening: grpc=\S+ port=(\d+) metrics=\S+ port=(\d+)`)

// Server is one running securebert-server.
type Server struct {
	// Constant after Start.
	cmd    *exec.Cmd
	exited chan struct{} // closed once the log has ended and the process is reaped

	mu      sync.Mutex
	lines   []string      // guarded by mu: every log line so far
	changed chan struct{} // guarded by mu: closed (and replaced) when lines grow or the log ends
	ended   bool          // guarded by mu: the log has ended
	waitErr error         // guarded by mu: the process's exit, once ended
}

// Start runs binary with args plus --listen and --metrics_listen on
// 127.0.0.1:0 (any free port); Ready waits for it to serve.
func Start(binary string, args ...string) (*Server, error) {
	args = append(append([]string(nil), args...), "--listen=127.0.0.1:0", "--metrics_listen=127.0.0.1:0")
	cmd := exec.Command(binary, args...)
	// Killed with the test binary, e.g. by go test's -timeout: no stray servers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", binary, err)
	}
	s := &Server{cmd: cmd, exited: make(chan struct{}), changed: make(chan struct{})}
	go s.readLog(bufio.NewScanner(stderr))
	return s, nil
}

func (s *Server) readLog(scanner *bufio.Scanner) {
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		s.mu.Lock()
		s.lines = append(s.lines, scanner.Text())
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
	}
	// The pipe is at its end: Wait may reap the process now.
	err := s.cmd.Wait()
	s.mu.Lock()
	s.ended, s.waitErr = true, err
	close(s.changed)
	s.mu.Unlock()
	close(s.exited)
}

// WaitForLog returns the first log line containing text, waiting up to
// timeout; an error (with the log's end) if the log ends or time runs out.
func (s *Server) WaitForLog(text string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for seen := 0; ; {
		s.mu.Lock()
		for ; seen < len(s.lines); seen++ {
			if strings.Contains(s.lines[seen], text) {
				line := s.lines[seen]
				s.mu.Unlock()
				return line, nil
			}
		}
		ended, waitErr, changed := s.ended, s.waitErr, s.changed
		s.mu.Unlock()
		if ended {
			return "", fmt.Errorf("server exited (%v) before logging %q:\n%s", waitErr, text, s.LogTail(20))
		}
		select {
		case <-changed:
		case <-timer.C:
			return "", fmt.Errorf("no %q in the server log after %v:\n%s", text, timeout, s.LogTail(20))
		}
	}
}

// Ready waits for the "ready:" line and returns the gRPC address
// ("127.0.0.1:N") and the metrics base URL ("http://127.0.0.1:M").
func (s *Server) Ready(timeout time.Duration) (grpcAddress, metricsURL string, err error) {
	if _, err := s.WaitForLog("ready:", timeout); err != nil {
		return "", "", err
	}
	// "listening:" comes before "ready:", so it is in the log by now.
	line, err := s.WaitForLog("listening:", 0)
	if err != nil {
		return "", "", err
	}
	m := listening.FindStringSubmatch(line)
	if m == nil {
		return "", "", fmt.Errorf("cannot read the ports from %q", line)
	}
	return "127.0.0.1:" + m[1], "http://127.0.0.1:" + m[2], nil
}

// LogTail is the log's last n lines.
func (s *Server) LogTail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines[max(0, len(s.lines)-n):], "\n")
}

// Signal sends sig to the server.
func (s *Server) Signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }

// Stop drains the server with SIGTERM and waits up to timeout for it to
// exit, then kills it; an error unless it exited by itself with status 0.
func (s *Server) Stop(timeout time.Duration) error {
	if err := s.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.exited:
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.waitErr
	case <-timer.C:
		s.Kill()
		return fmt.Errorf("server still running %v after SIGTERM; killed", timeout)
	}
}

// Kill ends the server with SIGKILL and waits until it is reaped.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill() // Fails only when it has exited already.
	<-s.exited
}
