package securebert

import (
	"fmt"
	"math"
	"time"
)

// Backoff is the wait between attempts of a call that failed with
// UNAVAILABLE: before retry r (0 for the first retry) it is
//
//	min(Initial * Multiplier^r, Max) * (1 + Jitter*(2u - 1))
//
// with u uniform in [0, 1), the formula of the C++ client (client/backoff.h).
// The zero value stands for DefaultBackoff(); any other value is used as it
// is, so Jitter 0 (no randomness) is possible. Immutable; safe to share.
type Backoff struct {
	// Wait before the first retry (before jitter).
	Initial time.Duration
	// Each further wait is this many times the previous one; at least 1.
	Multiplier float64
	// Upper bound of one wait (before jitter).
	Max time.Duration
	// Each wait is scaled by a random factor in [1-Jitter, 1+Jitter], so
	// that many clients do not retry in step; 0 disables it, below 1.
	Jitter float64
}

// DefaultBackoff is 50 ms, doubling up to 2 s, with ±20% jitter: the C++
// client's and the Python client's defaults.
func DefaultBackoff() Backoff {
	return Backoff{Initial: 50 * time.Millisecond, Multiplier: 2, Max: 2 * time.Second, Jitter: 0.2}
}

func (b Backoff) validate() error {
	switch {
	case b.Initial <= 0:
		return fmt.Errorf("Backoff.Initial must be > 0, not %v", b.Initial)
	case b.Max < b.Initial:
		return fmt.Errorf("Backoff.Max (%v) must be >= Backoff.Initial (%v)", b.Max, b.Initial)
	case b.Multiplier < 1:
		return fmt.Errorf("Backoff.Multiplier must be >= 1, not %v", b.Multiplier)
	case b.Jitter < 0 || b.Jitter >= 1:
		return fmt.Errorf("Backoff.Jitter must be in [0, 1), not %v", b.Jitter)
	}
	return nil
}

// delay is the wait before retry `retry` (0-based) given unitRandom in
// [0, 1); the caller draws the random number, so tests need none.
func (b Backoff) delay(retry int, unitRandom float64) time.Duration {
	grown := float64(b.Initial) * math.Pow(b.Multiplier, float64(max(retry, 0)))
	base := math.Min(grown, float64(b.Max))
	factor := 1 + b.Jitter*(2*min(max(unitRandom, 0), 1)-1)
	return time.Duration(math.Round(math.Max(base*factor, 0)))
}
