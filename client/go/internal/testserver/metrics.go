package testserver

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// scrapeClient closes each connection after its answer: the server's
// HTTP endpoint waits (about 5 s) for an idle keep-alive connection when it
// stops, which would add that to every test server's shutdown.
var scrapeClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Sample reads one sample of the server's Prometheus /metrics: the value on
// the line that starts with series (a name and its labels as the server
// prints them, e.g. `securebert_requests_total{rpc="Embed",code="OK"}`).
// A counter that has not counted yet has no line; that reads as 0.
func Sample(metricsURL, series string) (float64, error) {
	response, err := scrapeClient.Get(metricsURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s/metrics: %s", metricsURL, response.Status)
	}
	scanner := bufio.NewScanner(response.Body)
	for scanner.Scan() {
		value, found := strings.CutPrefix(scanner.Text(), series+" ")
		if found {
			return strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	return 0, scanner.Err()
}

// Requests is securebert_requests_total for one RPC and status code name.
func Requests(metricsURL, rpc, code string) (int, error) {
	v, err := Sample(metricsURL, fmt.Sprintf(`securebert_requests_total{rpc=%q,code=%q}`, rpc, code))
	return int(v), err
}
