package securebert

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// withRetries runs attempt under the call's deadline (the context's or
// c.deadline, whichever is sooner) until it succeeds, fails with a code
// other than UNAVAILABLE, or MaxAttempts are spent; it returns the last
// attempt's error unchanged, so status.FromError sees the server's status.
// Every RPC of the service is a pure function of its request, so trying one
// again is always safe. A retry whose wait would end past the deadline is not
// made: it could only time out.
func (c *Client) withRetries(ctx context.Context, attempt func(context.Context) error) error {
	if c.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.deadline)
		defer cancel()
	}
	for tried := 1; ; tried++ {
		err := attempt(ctx)
		if status.Code(err) != codes.Unavailable || tried >= c.maxAttempts {
			return err
		}
		// math/rand/v2's global source is seeded by the runtime and safe for
		// concurrent use.
		wait := c.backoff.delay(tried-1, rand.Float64())
		if deadline, ok := ctx.Deadline(); ok && !time.Now().Add(wait).Before(deadline) {
			return err
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			// Cancelled while waiting: say so, as gRPC would for a call.
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}
