// Command example fills a <mask> and embeds a text through the Go client:
//
//	go run ./cmd/example -target 127.0.0.1:50051 'Adversaries may use <mask> to gain initial access.'
//
// TLS: -insecure=false with -cacert/-cert/-key/-cname or SECUREBERT_CA_FILE,
// SECUREBERT_CERT_FILE, SECUREBERT_KEY_FILE; a token comes from SECUREBERT_TOKEN.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc/status"

	securebertv1 "securebert-serve/client/go/gen/securebert/v1"
	"securebert-serve/client/go/securebert"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	flags := flag.NewFlagSet("example", flag.ContinueOnError)
	o := securebert.Options{}
	flags.StringVar(&o.Target, "target", securebert.DefaultTarget, "host:port or a gRPC target URI (dns:///name:port)")
	flags.BoolVar(&o.Insecure, "insecure", true, "plaintext, the server's default; -insecure=false for TLS")
	flags.StringVar(&o.CAFile, "cacert", "", "TLS: PEM root certificates to trust")
	flags.StringVar(&o.CertFile, "cert", "", "TLS: PEM client certificate (mutual TLS)")
	flags.StringVar(&o.KeyFile, "key", "", "TLS: PEM private key of -cert")
	flags.StringVar(&o.ServerName, "cname", "", "TLS: server name to verify")
	topK := flags.Uint("top_k", 5, "candidates per <mask>")
	if err := flags.Parse(args); err != nil {
		return err
	}
	text := "Adversaries may use <mask> to gain initial access."
	if flags.NArg() > 0 {
		text = strings.Join(flags.Args(), " ")
	}
	c, err := securebert.New(o)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	predicted, err := c.PredictMask(ctx, &securebertv1.PredictMaskRequest{Inputs: []string{text}, TopK: uint32(*topK)})
	if err != nil {
		return fmt.Errorf("PredictMask: %v: %s", status.Code(err), status.Convert(err).Message())
	}
	for _, mask := range predicted.GetResults()[0].GetMasks() {
		fmt.Fprintf(out, "<mask> at token %d:\n", mask.GetPosition())
		for i, p := range mask.GetPredictions() {
			fmt.Fprintf(out, "  %d. %-14q score=%.4f\n", i+1, p.GetToken(), p.GetScore())
		}
	}
	embedded, err := c.Embed(ctx, &securebertv1.EmbedRequest{Inputs: []string{text}, Pooling: securebertv1.Pooling_POOLING_MEAN})
	if err != nil {
		return fmt.Errorf("Embed: %v: %s", status.Code(err), status.Convert(err).Message())
	}
	fmt.Fprintf(out, "Embed (mean pooling): shape %v\n", embedded.GetEmbeddings()[0].GetShape())
	return nil
}
