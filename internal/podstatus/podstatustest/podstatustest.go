// Package podstatustest holds the pods every caller of podstatus.Diagnose
// tests against, with the reason and message each must give: one table, so
// the composition function and the provider cannot drift apart again.
package podstatustest

import (
	_ "embed"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

//go:embed pods.yaml
var podsYAML []byte

// A Case is one pod and what it must be diagnosed as.
type Case struct {
	// Name identifies the case in test names.
	Name string `json:"name"`
	// Why the pod is diagnosed as Want.
	Why  string     `json:"why"`
	Want Diagnosis  `json:"want"`
	Pod  corev1.Pod `json:"pod"`
}

// Diagnosis is what a caller shows for the pod.
type Diagnosis struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Cases returns the table, parsed strictly: a misspelt field fails the
// test rather than silently leaving a status empty.
func Cases(t testing.TB) []Case {
	t.Helper()
	var cs []Case
	if err := yaml.UnmarshalStrict(podsYAML, &cs); err != nil {
		t.Fatalf("cannot parse the pod table: %v", err)
	}
	if len(cs) == 0 {
		t.Fatal("the pod table is empty")
	}
	return cs
}
