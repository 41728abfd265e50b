package securebert

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
)

// EmbedStream sends requests on one EmbedStream call and returns the
// responses, which the server sends in request order. The whole stream is
// one call: it shares the deadline, and an UNAVAILABLE failure starts it
// again from the first request (as the C++ client does).
func (c *Client) EmbedStream(ctx context.Context, requests []*securebertv1.EmbedRequest) ([]*securebertv1.EmbedResponse, error) {
	var responses []*securebertv1.EmbedResponse
	err := c.withRetries(ctx, func(ctx context.Context) error {
		var err error
		responses, err = c.embedStreamOnce(ctx, requests)
		return err
	})
	if err != nil {
		return nil, err
	}
	return responses, nil
}

func (c *Client) embedStreamOnce(ctx context.Context, requests []*securebertv1.EmbedRequest) ([]*securebertv1.EmbedResponse, error) {
	// Cancelling ends the stream and so unblocks a Send stuck on flow
	// control when receiving has failed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.EmbedStream(ctx)
	if err != nil {
		return nil, err
	}
	// Sending from a goroutine of its own keeps large responses flowing while
	// requests still go out; gRPC allows one sender and one receiver at once.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for _, r := range requests {
			if stream.Send(r) != nil {
				return // The stream failed; Recv returns its status.
			}
		}
		_ = stream.CloseSend() // Fails only if the stream did; Recv says why.
	}()
	responses := make([]*securebertv1.EmbedResponse, 0, len(requests))
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cancel()
			<-sent
			return nil, err
		}
		responses = append(responses, r)
	}
	<-sent
	if len(responses) != len(requests) {
		return nil, status.Errorf(codes.Internal, "EmbedStream: the server answered %d messages to %d requests",
			len(responses), len(requests))
	}
	return responses, nil
}
