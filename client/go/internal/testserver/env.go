package testserver

import (
	"errors"
	"os"
)

// The environment of the end-to-end tests; ctest sets both when it runs
// client/go/run_tests.sh.
const (
	EnvServerBin = "SECUREBERT_SERVER_BIN"     // e.g. build/bin/securebert-server
	EnvModelDir  = "SECUREBERT_TEST_MODEL_DIR" // e.g. build/models/tiny
)

// FromEnv is the server binary and model directory to test with. Without
// them the end-to-end tests cannot run, and must fail rather than skip.
func FromEnv() (binary, modelDir string, err error) {
	binary, modelDir = os.Getenv(EnvServerBin), os.Getenv(EnvModelDir)
	if binary == "" || modelDir == "" {
		return "", "", errors.New("the end-to-end tests need " + EnvServerBin + " (e.g. build/bin/securebert-server) and " +
			EnvModelDir + " (e.g. build/models/tiny); client/go/run_tests.sh is run by ctest with both set")
	}
	return binary, modelDir, nil
}
