package main

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
	"time"

	"securebert-serve/client/go/internal/testserver"
)

// The example runs against the real server, so the README's commands work.
func TestExamplePrintsTopKAndShape(t *testing.T) {
	binary, modelDir, err := testserver.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	server, err := testserver.Start(binary, "--model_dir="+modelDir, "--max_input_tokens=128", "--shutdown_linger_ms=0")
	if err != nil {
		t.Fatal(err)
	}
	address, _, err := server.Ready(60 * time.Second)
	if err != nil {
		server.Kill()
		t.Fatal(err)
	}
	defer func() {
		if err := server.Stop(30 * time.Second); err != nil {
			t.Error(err)
		}
	}()

	var out bytes.Buffer
	if err := run([]string{"-target", address, "-top_k", "3", "Attackers used <mask> to steal credentials."}, &out); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^<mask> at token \d+:\n(  \d\. .* score=0\.\d{4}\n){3}Embed \(mean pooling\): shape \[\d+\]\n$`)
	if !want.Match(out.Bytes()) {
		t.Errorf("output:\n%s", out.String())
	}
	err = run([]string{"-target", address, "no mask"}, &out)
	if got := fmt.Sprint(err); !regexp.MustCompile(`^PredictMask: InvalidArgument: `).MatchString(got) {
		t.Errorf("a text without <mask>: %q, want PredictMask's INVALID_ARGUMENT", got)
	}
}
