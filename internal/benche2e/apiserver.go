package benche2e

import (
	"maps"
	"slices"
	"strings"
)

// The series of kube-apiserver's /metrics the benchmark reads.
const (
	// APIRequests counts requests by verb, resource, subresource and code.
	APIRequests = "apiserver_request_total"
	// EtcdRequests counts the API server's calls to etcd by operation and
	// resource. Its create, update and delete are what was stored: an
	// update request that changes nothing (a no-op PUT or server-side
	// apply) never reaches etcd as an update.
	EtcdRequests = "etcd_requests_total"
)

// WriteVerbs are the verbs of apiserver_request_total that ask to change
// something.
var WriteVerbs = []string{"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"}

// StoredOps are the operations of etcd_requests_total that store a change.
var StoredOps = []string{"create", "update", "delete"}

// Resource keys a series by resource[/subresource], prefixed with its API
// group unless it is the core group: "deployments.apps", "pods/status".
func Resource(labels map[string]string) string {
	r := labels["resource"]
	if g := labels["group"]; g != "" {
		r += "." + g
	}
	if s := labels["subresource"]; s != "" && labels["resource"] != "" {
		r += "/" + s
	}
	if r == "" {
		return "(non-resource)"
	}
	return r
}

// APICounts are what a phase cost the API server, from the difference of
// two scrapes.
type APICounts struct {
	// Requests by verb (GET, LIST, WATCH, POST, PUT, PATCH, APPLY, DELETE).
	Requests map[string]float64 `json:"requests"`
	// Writes by resource: requests with a write verb.
	Writes map[string]float64 `json:"writes"`
	// Stored by resource: writes that reached etcd (create, update, delete).
	Stored map[string]float64 `json:"stored"`
	// Conflicts by resource: writes refused with 409 (a stale
	// resourceVersion, or a create of what exists), each a write to retry.
	Conflicts map[string]float64 `json:"conflicts,omitempty"`
}

// APICountsOf reads the API server's counters from a difference.
func APICountsOf(d Snapshot) APICounts {
	// Only resource requests: the health probes and discovery are the
	// machinery's, not the work's.
	resource := func(l map[string]string) bool { return l["resource"] != "" }
	return APICounts{
		Requests: d.SumBy(APIRequests, resource, Label("verb")),
		Writes: d.SumBy(APIRequests, func(l map[string]string) bool {
			return resource(l) && Is("verb", WriteVerbs...)(l)
		}, Resource),
		Conflicts: d.SumBy(APIRequests, func(l map[string]string) bool {
			return resource(l) && l["code"] == "409" && Is("verb", WriteVerbs...)(l)
		}, Resource),
		Stored: d.SumBy(EtcdRequests, Is("operation", StoredOps...), func(l map[string]string) string {
			// etcd_requests_total names the resource without subresource:
			// a status write is an update of the object.
			return Resource(map[string]string{"resource": l["resource"], "group": l["group"]})
		}),
	}
}

// Total of a count map.
func Total(m map[string]float64) float64 {
	var v float64
	for _, x := range m {
		v += x
	}
	return v
}

// WriteTotal is the number of write requests.
func (c APICounts) WriteTotal() float64 { return Total(c.Writes) }

// StoredTotal is the number of writes stored.
func (c APICounts) StoredTotal() float64 { return Total(c.Stored) }

// RequestTotal is the number of requests of every verb.
func (c APICounts) RequestTotal() float64 { return Total(c.Requests) }

// WritesTo is the number of write requests to a resource (as Resource keys
// it, e.g. "performers.hourglass.eigenlayer.io"), its subresources included:
// what writing one kind of object, status and all, cost.
func (c APICounts) WritesTo(resource string) float64 {
	var v float64
	for k, x := range c.Writes {
		if k == resource || strings.HasPrefix(k, resource+"/") {
			v += x
		}
	}
	return v
}

// TopResources are the keys of m with the largest values first (ties by
// name), at most n of them.
func TopResources(m map[string]float64, n int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}
