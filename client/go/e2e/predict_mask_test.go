package e2e

import (
	"testing"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
	"securebert-serve/client/go/securebert"
)

func TestPredictMaskRanksTopKAtEveryMask(t *testing.T) {
	c := sharedClient(t)
	info := modelInfo(t, c)
	mask := info.GetMaskToken()
	inputs := []string{
		"Adversaries may use " + mask + " to gain initial access.",
		"The " + mask + " dropped a " + mask + " on the host.",
	}
	const topK = 5
	r, err := c.PredictMask(testContext(t), &securebertv1.PredictMaskRequest{Inputs: inputs, TopK: topK})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetResults()) != len(inputs) {
		t.Fatalf("%d results for %d inputs", len(r.GetResults()), len(inputs))
	}
	for i, result := range r.GetResults() {
		want := maskPositions(t, c, inputs[i], mask)
		if len(result.GetMasks()) != len(want) {
			t.Fatalf("input %d: %d masks, Tokenize finds %d", i, len(result.GetMasks()), len(want))
		}
		for m, masked := range result.GetMasks() {
			if masked.GetPosition() != want[m] {
				t.Errorf("input %d mask %d at token %d, Tokenize puts it at %d", i, m, masked.GetPosition(), want[m])
			}
			checkRanking(t, masked.GetPredictions(), topK, info.GetVocabSize())
		}
	}

	r, err = c.PredictMask(testContext(t), &securebertv1.PredictMaskRequest{Inputs: inputs[:1], TopK: 2, OmitSequence: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.GetResults()[0].GetMasks()[0].GetPredictions() {
		if p.GetSequence() != "" {
			t.Errorf("omit_sequence, yet sequence %q", p.GetSequence())
		}
	}
}

// maskPositions is where the mask token is in text's tokenization.
func maskPositions(t *testing.T, c *securebert.Client, text, mask string) []uint32 {
	t.Helper()
	var positions []uint32
	for i, token := range tokens(t, c, text) {
		if token.GetText() == mask {
			positions = append(positions, uint32(i))
		}
	}
	return positions
}

// checkRanking wants topK distinct candidates, best first, with
// probabilities and the filled-in text.
func checkRanking(t *testing.T, predictions []*securebertv1.TokenPrediction, topK int, vocab uint32) {
	t.Helper()
	if len(predictions) != topK {
		t.Fatalf("%d candidates, want %d", len(predictions), topK)
	}
	seen := map[uint32]bool{}
	for k, p := range predictions {
		if p.GetScore() <= 0 || p.GetScore() > 1 || p.GetTokenId() >= vocab || seen[p.GetTokenId()] || p.GetSequence() == "" {
			t.Errorf("candidate %d: %v", k, p)
		}
		seen[p.GetTokenId()] = true
		if k > 0 && p.GetScore() > predictions[k-1].GetScore() {
			t.Errorf("candidate %d scores %v, above candidate %d's %v", k, p.GetScore(), k-1, predictions[k-1].GetScore())
		}
	}
}
