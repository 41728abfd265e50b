// Package securebert is a small client of securebert-serve's
// securebert.v1.SecureBert service and the standard grpc.health.v1.Health.
//
// It sets the channel up the way the service needs: round robin over a list
// of addresses or every address of a dns:/// name, a 64 MiB receive limit
// (full hidden states are ~1.5 MB per 512-token input), TLS and mutual TLS
// from PEM files, and a bearer token. Each call gets a deadline (retries
// included) and is retried on UNAVAILABLE only, with capped exponential
// backoff and jitter. Requests and responses are the generated messages of
// package securebertv1; a failed call's error is the gRPC status
// (status.FromError and status.Code work on it).
//
//	c, err := securebert.New(securebert.Options{Target: "127.0.0.1:50051", Insecure: true})
//	defer c.Close()
//	r, err := c.Embed(ctx, &securebertv1.EmbedRequest{Inputs: texts, Pooling: securebertv1.Pooling_POOLING_MEAN})
//
// Thread safety: a Client may be used from many goroutines at once; it holds
// no mutable state besides the gRPC channel, which synchronizes itself.
package securebert

import (
	"context"
	"os"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
)

// ServiceName is the service's name for Health.
const ServiceName = "securebert.v1.SecureBert"

// Client calls one securebert-serve deployment. Create it with New and Close
// it when done.
type Client struct {
	conn        *grpc.ClientConn              // owned; closed by Close
	stub        securebertv1.SecureBertClient // over conn
	health      healthpb.HealthClient         // over conn
	deadline    time.Duration                 // per call, retries included; <= 0: none
	maxAttempts int                           // per call, the first included
	backoff     Backoff                       // waits between attempts
}

// New checks the options, reads the TLS files and creates the channel. It
// does not connect: a server that is down fails the first call (UNAVAILABLE,
// after the retries).
func New(o Options) (*Client, error) {
	s, err := resolve(o, os.Getenv)
	if err != nil {
		return nil, err
	}
	conn, err := dial(s)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn: conn, stub: securebertv1.NewSecureBertClient(conn), health: healthpb.NewHealthClient(conn),
		deadline: s.deadline, maxAttempts: s.maxAttempts, backoff: s.backoff,
	}, nil
}

// Close closes the channel; calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

// Embed embeds each input: one Embedding per input, in input order.
func (c *Client) Embed(ctx context.Context, r *securebertv1.EmbedRequest) (*securebertv1.EmbedResponse, error) {
	return unary(ctx, c, c.stub.Embed, r)
}

// PredictMask predicts the tokens at every <mask> of each input.
func (c *Client) PredictMask(ctx context.Context, r *securebertv1.PredictMaskRequest) (*securebertv1.PredictMaskResponse, error) {
	return unary(ctx, c, c.stub.PredictMask, r)
}

// Tokenize returns the tokens the model would see, without running it.
func (c *Client) Tokenize(ctx context.Context, r *securebertv1.TokenizeRequest) (*securebertv1.TokenizeResponse, error) {
	return unary(ctx, c, c.stub.Tokenize, r)
}

// GetModelInfo describes the loaded model and the server's limits.
func (c *Client) GetModelInfo(ctx context.Context) (*securebertv1.ModelInfo, error) {
	return unary(ctx, c, c.stub.GetModelInfo, &securebertv1.GetModelInfoRequest{})
}

// Health is the serving status of service: "" for the whole server, or
// ServiceName. An unknown service fails with NOT_FOUND.
func (c *Client) Health(ctx context.Context, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	r, err := unary(ctx, c, c.health.Check, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return r.GetStatus(), nil
}

// unary makes one retried call of a generated unary method.
func unary[Req, Resp any](ctx context.Context, c *Client,
	method func(context.Context, Req, ...grpc.CallOption) (Resp, error), r Req) (Resp, error) {
	var response Resp
	err := c.withRetries(ctx, func(ctx context.Context) error {
		var err error
		response, err = method(ctx, r)
		return err
	})
	return response, err
}
