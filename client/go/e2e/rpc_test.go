package e2e

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
	"securebert-serve/client/go/securebert"
)

// parityFile holds Hugging Face's tokenization of texts (ids, tokens).
const parityFile = "../../../tests/data/tokenizer/parity.jsonl"

type parityCase struct {
	Text   string   `json:"text"`
	IDs    []uint32 `json:"ids"`
	Tokens []string `json:"tokens"`
}

func sharedClient(t *testing.T) *securebert.Client {
	return newClient(t, securebert.Options{Target: shared[0].address})
}

func modelInfo(t *testing.T, c *securebert.Client) *securebertv1.ModelInfo {
	t.Helper()
	info, err := c.GetModelInfo(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// tokens is the server's tokenization of text.
func tokens(t *testing.T, c *securebert.Client, text string) []*securebertv1.Token {
	t.Helper()
	r, err := c.Tokenize(testContext(t), &securebertv1.TokenizeRequest{Inputs: []string{text}})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetResults()[0].GetTokens()
}

func TestGetModelInfo(t *testing.T) {
	info := modelInfo(t, sharedClient(t))
	if info.GetMaxInputTokens() != maxInputTokens || info.GetHiddenSize() == 0 || info.GetMaskToken() != "<mask>" ||
		info.GetMaxClientBatchSize() == 0 {
		t.Errorf("model info %v", info)
	}
}

func TestHealth(t *testing.T) {
	c := sharedClient(t)
	for _, service := range []string{"", securebert.ServiceName} {
		if got, err := c.Health(testContext(t), service); err != nil || got != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Health(%q) = %v, %v; want SERVING", service, got, err)
		}
	}
	if _, err := c.Health(testContext(t), "no.such.Service"); status.Code(err) != codes.NotFound {
		t.Errorf("unknown service: %v, want NOT_FOUND", err)
	}
}

func TestTokenizeMatchesHuggingFace(t *testing.T) {
	c := sharedClient(t)
	info := modelInfo(t, c)
	batch, mask := int(info.GetMaxClientBatchSize()), info.GetMaskToken()
	cases := loadParity(t)
	for start := 0; start < len(cases); start += batch {
		chunk := cases[start:min(start+batch, len(cases))]
		request := &securebertv1.TokenizeRequest{}
		for _, tc := range chunk {
			request.Inputs = append(request.Inputs, tc.Text)
		}
		r, err := c.Tokenize(testContext(t), request)
		if err != nil {
			t.Fatal(err)
		}
		for i, result := range r.GetResults() {
			want := chunk[i]
			var ids []uint32
			var texts []string
			for k, token := range result.GetTokens() {
				ids, texts = append(ids, token.GetId()), append(texts, token.GetText())
				// Hugging Face shows <mask> with the whitespace it absorbed
				// (lstrip); Token.text is the vocabulary string.
				if token.GetText() == mask && k < len(want.Tokens) {
					want.Tokens[k] = strings.TrimLeftFunc(want.Tokens[k], unicode.IsSpace)
				}
			}
			if !slices.Equal(ids, want.IDs) || !slices.Equal(texts, want.Tokens) {
				t.Errorf("%q:\n got ids %v tokens %q\nwant ids %v tokens %q", want.Text, ids, texts, want.IDs, want.Tokens)
			}
		}
	}
}

// loadParity reads the cases that fit maxInputTokens.
func loadParity(t *testing.T) []parityCase {
	t.Helper()
	f, err := os.Open(parityFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []parityCase
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	for scanner.Scan() {
		var c parityCase
		if err := json.Unmarshal(scanner.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", parityFile, err)
		}
		if len(c.IDs) <= maxInputTokens {
			cases = append(cases, c)
		}
	}
	// RoBERTa's <s> is 0 and </s> is 2; a file of other ids is another vocabulary.
	if len(cases) < 100 || cases[0].IDs[0] != 0 || cases[0].IDs[len(cases[0].IDs)-1] != 2 {
		t.Fatalf("%s: %d usable cases, want RoBERTa ids and at least 100", parityFile, len(cases))
	}
	return cases
}

func TestInvalidArgumentNamesTheField(t *testing.T) {
	c := sharedClient(t)
	_, err := c.Embed(testContext(t), &securebertv1.EmbedRequest{})
	if s, _ := status.FromError(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "inputs") {
		t.Errorf("empty inputs: %v, want INVALID_ARGUMENT naming \"inputs\"", err)
	}
	_, err = c.PredictMask(testContext(t), &securebertv1.PredictMaskRequest{Inputs: []string{"no mask here"}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("no <mask>: %v, want INVALID_ARGUMENT", err)
	}
	long := &securebertv1.TokenizeRequest{Inputs: []string{strings.Repeat("word ", 2*maxInputTokens)}}
	_, err = c.Tokenize(testContext(t), long)
	if s, _ := status.FromError(err); s.Code() != codes.InvalidArgument || !strings.Contains(s.Message(), "128") {
		t.Errorf("too long: %v, want INVALID_ARGUMENT naming the limit 128", err)
	}
}

func l2(v []float32) float64 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum)
}

func near(a, b []float32, tolerance float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i])-float64(b[i])) > tolerance {
			return false
		}
	}
	return true
}
