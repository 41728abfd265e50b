package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
	"securebert-serve/client/go/securebert"
)

var texts = []string{
	"Emotet spreads through malicious Word attachments.",
	"The attacker used a stolen VPN credential to move laterally.",
	"CVE-2021-44228 lets a remote attacker run code through Log4j lookups.",
}

// embed is the embeddings of a call that must succeed, one per input.
func embed(t *testing.T, c *securebert.Client, r *securebertv1.EmbedRequest) []*securebertv1.Embedding {
	t.Helper()
	response, err := c.Embed(testContext(t), r)
	if err != nil {
		t.Fatal(err)
	}
	if len(response.GetEmbeddings()) != len(r.GetInputs()) {
		t.Fatalf("%d embeddings for %d inputs", len(response.GetEmbeddings()), len(r.GetInputs()))
	}
	return response.GetEmbeddings()
}

func TestEmbedMeanIsOneVectorAndRepeatable(t *testing.T) {
	c := sharedClient(t)
	hidden := int64(modelInfo(t, c).GetHiddenSize())
	request := &securebertv1.EmbedRequest{Inputs: texts[:2], Pooling: securebertv1.Pooling_POOLING_MEAN}
	first, again := embed(t, c, request), embed(t, c, request)
	for i, e := range first {
		if !slices.Equal(e.GetShape(), []int64{hidden}) || int64(len(e.GetValues())) != hidden {
			t.Errorf("input %d: shape %v with %d values, want [%d]", i, e.GetShape(), len(e.GetValues()), hidden)
		}
		if n := len(tokens(t, c, texts[i])); int(e.GetNumTokens()) != n {
			t.Errorf("input %d: num_tokens %d, Tokenize says %d", i, e.GetNumTokens(), n)
		}
		if !slices.Equal(e.GetValues(), again[i].GetValues()) {
			t.Errorf("input %d: a repeat gave other values", i)
		}
	}
	request.Normalize = true
	if norm := l2(embed(t, c, request)[0].GetValues()); norm < 0.999 || norm > 1.001 {
		t.Errorf("normalized vector has norm %v", norm)
	}
}

func TestEmbedNoneIsEveryTokensVector(t *testing.T) {
	c := sharedClient(t)
	hidden := int(modelInfo(t, c).GetHiddenSize())
	numTokens := len(tokens(t, c, texts[2]))
	all := embed(t, c, &securebertv1.EmbedRequest{Inputs: texts[2:], Pooling: securebertv1.Pooling_POOLING_NONE})[0]
	if !slices.Equal(all.GetShape(), []int64{int64(numTokens), int64(hidden)}) || len(all.GetValues()) != numTokens*hidden {
		t.Fatalf("shape %v with %d values, want [%d %d]", all.GetShape(), len(all.GetValues()), numTokens, hidden)
	}
	// Pooling is over these very rows: CLS is row 0, MEAN their average.
	cls := embed(t, c, &securebertv1.EmbedRequest{Inputs: texts[2:], Pooling: securebertv1.Pooling_POOLING_CLS})[0]
	mean := embed(t, c, &securebertv1.EmbedRequest{Inputs: texts[2:], Pooling: securebertv1.Pooling_POOLING_MEAN})[0]
	average := make([]float32, hidden)
	for row := range numTokens {
		for j := range hidden {
			average[j] += all.GetValues()[row*hidden+j] / float32(numTokens)
		}
	}
	if !near(cls.GetValues(), all.GetValues()[:hidden], 1e-4) || !near(mean.GetValues(), average, 1e-4) {
		t.Error("CLS or MEAN pooling differs from the rows of POOLING_NONE")
	}
}

func TestEmbedStreamAnswersInRequestOrder(t *testing.T) {
	c := sharedClient(t)
	var requests []*securebertv1.EmbedRequest
	for n := 1; n <= len(texts); n++ {
		requests = append(requests, &securebertv1.EmbedRequest{Inputs: texts[:n], Pooling: securebertv1.Pooling_POOLING_MEAN})
	}
	responses, err := c.EmbedStream(testContext(t), requests)
	if err != nil {
		t.Fatal(err)
	}
	unary := embed(t, c, &securebertv1.EmbedRequest{Inputs: texts, Pooling: securebertv1.Pooling_POOLING_MEAN})
	for i, r := range responses {
		if len(r.GetEmbeddings()) != i+1 {
			t.Fatalf("response %d has %d embeddings, want %d", i, len(r.GetEmbeddings()), i+1)
		}
		for j, e := range r.GetEmbeddings() {
			if !near(e.GetValues(), unary[j].GetValues(), 1e-4) {
				t.Errorf("response %d, input %d differs from Embed's vector", i, j)
			}
		}
	}
}

func TestShortDeadlineOnALargeRequest(t *testing.T) {
	c := sharedClient(t)
	request := &securebertv1.EmbedRequest{Pooling: securebertv1.Pooling_POOLING_NONE,
		Truncation: securebertv1.Truncation_TRUNCATION_RIGHT}
	for i := range min(32, int(modelInfo(t, c).GetMaxClientBatchSize())) {
		request.Inputs = append(request.Inputs, fmt.Sprintf("host%d ", i)+strings.Repeat("beacon to c2 ", 40))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := c.Embed(ctx, request); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("1 ms deadline: %v, want DEADLINE_EXCEEDED", err)
	}
	// The channel is fine afterwards, and the same request fits a longer one.
	if _, err := c.Embed(testContext(t), request); err != nil {
		t.Errorf("after the deadline: %v", err)
	}
}
