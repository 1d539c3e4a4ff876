package server

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of one App, in their own registry (no
// package globals). They outlive reloads.
type metrics struct {
	reg             *prometheus.Registry
	requests        *prometheus.CounterVec
	duration        *prometheus.HistogramVec
	bytesIn         *prometheus.CounterVec
	bytesOut        *prometheus.CounterVec
	propfindEntries prometheus.Counter
	loginFailures   prometheus.Counter
	loginThrottled  prometheus.Counter
	reloads         *prometheus.CounterVec
}

func newMetrics(activeLocks func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davit_requests_total", Help: "Requests served, by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "davit_request_duration_seconds", Help: "Time to serve a request, by method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"method"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davit_request_body_bytes_total", Help: "Request body bytes read, by method.",
		}, []string{"method"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davit_response_body_bytes_total", Help: "Response body bytes written, by method.",
		}, []string{"method"}),
		propfindEntries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davit_propfind_entries_total", Help: "Responses streamed in PROPFIND Multi-Status bodies.",
		}),
		loginFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davit_login_failures_total", Help: "Requests with wrong credentials.",
		}),
		loginThrottled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "davit_login_throttled_total", Help: "Logins refused with 429 by the failed-login throttle.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "davit_config_reloads_total", Help: "Configuration reloads, by result (ok or error).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.propfindEntries,
		m.loginFailures, m.loginThrottled, m.reloads,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "davit_active_locks", Help: "Live WebDAV locks in the open folders.",
		}, activeLocks),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// methodLabel bounds the label values to the methods Davit knows.
func methodLabel(m string) string {
	switch m {
	case "OPTIONS", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "POST",
		"BDELETE", "BCOPY", "BMOVE", "BPROPFIND", "BPROPPATCH":
		return m
	}
	return "OTHER"
}

func (m *metrics) observe(method string, status int, seconds float64, in, out int64) {
	ml := methodLabel(method)
	m.requests.WithLabelValues(ml, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(ml).Observe(seconds)
	m.bytesIn.WithLabelValues(ml).Add(float64(in))
	m.bytesOut.WithLabelValues(ml).Add(float64(out))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
