package securebert

import (
	"testing"
	"time"
)

func TestBackoffDelayGrowsCapsAndJitters(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Multiplier: 2, Max: time.Second, Jitter: 0.2}
	for _, c := range []struct {
		retry      int
		unitRandom float64
		want       time.Duration
	}{
		{0, 0.5, 100 * time.Millisecond}, // u = 0.5: no jitter
		{1, 0.5, 200 * time.Millisecond},
		{3, 0.5, 800 * time.Millisecond},
		{4, 0.5, time.Second}, // 1.6 s capped
		{9, 0.5, time.Second},
		{0, 0, 80 * time.Millisecond},   // 1 - jitter
		{4, 1, 1200 * time.Millisecond}, // 1 + jitter, after the cap
		{-1, 0.5, 100 * time.Millisecond},
		{0, 7, 120 * time.Millisecond}, // u clamped to [0, 1]
	} {
		if got := b.delay(c.retry, c.unitRandom); got != c.want {
			t.Errorf("delay(%d, %v) = %v, want %v", c.retry, c.unitRandom, got, c.want)
		}
	}
}

func TestDefaultBackoffMatchesTheOtherClients(t *testing.T) {
	b := DefaultBackoff()
	if err := b.validate(); err != nil {
		t.Fatal(err)
	}
	if got := b.delay(0, 0.5); got != 50*time.Millisecond {
		t.Errorf("first wait %v, want 50ms", got)
	}
	if got := b.delay(10, 0.5); got != 2*time.Second {
		t.Errorf("capped wait %v, want 2s", got)
	}
}

func TestBackoffValidateRefusesNonsense(t *testing.T) {
	ok := DefaultBackoff()
	for name, b := range map[string]Backoff{
		"no initial":    {Multiplier: 2, Max: time.Second},
		"max < initial": {Initial: time.Second, Multiplier: 2, Max: time.Millisecond},
		"shrinking":     {Initial: time.Millisecond, Multiplier: 0.5, Max: time.Second},
		"jitter 1":      {Initial: time.Millisecond, Multiplier: 2, Max: time.Second, Jitter: 1},
		"jitter < 0":    {Initial: time.Millisecond, Multiplier: 2, Max: time.Second, Jitter: -0.1},
	} {
		if b.validate() == nil {
			t.Errorf("%s: %+v accepted", name, b)
		}
	}
	if err := ok.validate(); err != nil {
		t.Errorf("default refused: %v", err)
	}
}
