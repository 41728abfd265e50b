package securebert

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// roundRobin spreads calls over every resolved address: a list of
// Addresses, or all the addresses a dns:/// name resolves to. gRPC's default
// (pick_first) would send every call to one server.
const roundRobin = `{"loadBalancingConfig": [{"round_robin": {}}]}`

// addressesScheme names the resolver of a list of Addresses; each channel
// gets its own (grpc.WithResolvers), so the name need not be unique.
const addressesScheme = "securebert-addresses"

// dial creates the channel from resolved settings; it connects lazily, so a
// server that is down is an error of the first call, not of dial.
func dial(s settings) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(roundRobin),
		// A DNS TXT record must not switch the balancing policy off.
		grpc.WithDisableServiceConfig(),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(s.maxRecvMsgBytes)),
	}
	if s.tls != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(s.tls)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if s.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken(s.token)))
	}
	target := s.target
	if len(s.addresses) > 0 {
		r := manual.NewBuilderWithScheme(addressesScheme)
		endpoints := make([]resolver.Endpoint, len(s.addresses))
		for i, address := range s.addresses {
			endpoints[i] = resolver.Endpoint{Addresses: []resolver.Address{{Addr: address}}}
		}
		r.InitialState(resolver.State{Endpoints: endpoints})
		opts = append(opts, grpc.WithResolvers(r))
		// The first address is the channel's authority: the :authority header
		// and, with TLS and no ServerName, the name the certificate must carry.
		target = r.Scheme() + ":///" + s.addresses[0]
	}
	return grpc.NewClient(target, opts...)
}
