package server

import (
	"net/http"
	"strconv"
	"sync"

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

	// byMethod holds each method label's series, looked up once here
	// rather than hashed on every request; read-only after newMetrics.
	byMethod map[string]*methodSeries
}

// methodSeries are the per-request series of one method label.
type methodSeries struct {
	duration prometheus.Observer
	in, out  prometheus.Counter
	codes    sync.Map // status code (int) → prometheus.Counter
}

// knownMethods are the method label values; any other method is OTHER.
var knownMethods = []string{"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "POST",
	"BDELETE", "BCOPY", "BMOVE", "BPROPFIND", "BPROPPATCH"}

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
	m.byMethod = make(map[string]*methodSeries, len(knownMethods)+1)
	for _, ml := range append(knownMethods, "OTHER") {
		m.byMethod[ml] = &methodSeries{
			duration: m.duration.WithLabelValues(ml),
			in:       m.bytesIn.WithLabelValues(ml),
			out:      m.bytesOut.WithLabelValues(ml),
		}
	}
	return m
}

// methodLabel bounds the label values to the methods Davit knows.
func methodLabel(m string) string {
	for _, k := range knownMethods {
		if m == k {
			return m
		}
	}
	return "OTHER"
}

func (m *metrics) observe(method string, status int, seconds float64, in, out int64) {
	ms, ok := m.byMethod[method]
	if !ok {
		ms = m.byMethod["OTHER"]
	}
	c, ok := ms.codes.Load(status)
	if !ok {
		// Status codes are bounded (100 to 999), and so is this map.
		ml := methodLabel(method)
		c, _ = ms.codes.LoadOrStore(status, m.requests.WithLabelValues(ml, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	ms.duration.Observe(seconds)
	ms.in.Add(float64(in))
	ms.out.Add(float64(out))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
