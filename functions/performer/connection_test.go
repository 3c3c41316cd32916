package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

func TestConnectionSecret(t *testing.T) {
	long := "performer-with-a-name-long-enough-that-its-service-name-must-be-shortened"
	cases := map[string]struct {
		reason string
		name   string
		port   int32
		want   *corev1.Secret
	}{
		"Endpoint": {
			reason: "The Secret holds the Service's endpoint, host and port, under the performer's name in its namespace.",
			name:   "example",
			port:   8080,
			want: &corev1.Secret{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{
					Name: "performer-example-connection", Namespace: "avs",
					Labels: names.Labels("example", "0x1234567890abcdef1234567890abcdef12345678", "", ""),
				},
				Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{
					"endpoint": []byte("performer-example.avs.svc.cluster.local:8080"),
					"host":     []byte("performer-example.avs.svc.cluster.local"),
					"port":     []byte("8080"),
				},
			},
		},
		"LongName": {
			reason: "A name too long for a Service gets the shortened Service in its endpoint, and a valid Secret name.",
			name:   long,
			port:   9090,
			want: &corev1.Secret{
				TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
				ObjectMeta: metav1.ObjectMeta{
					Name: names.DNSLabel("performer-" + long + "-connection"), Namespace: "avs",
					Labels: names.Labels(long, "0x1234567890abcdef1234567890abcdef12345678", "", ""),
				},
				Type: corev1.SecretTypeOpaque,
				Data: map[string][]byte{
					"endpoint": []byte(names.Service(long) + ".avs.svc.cluster.local:9090"),
					"host":     []byte(names.Service(long) + ".avs.svc.cluster.local"),
					"port":     []byte("9090"),
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPerformer()
			p.Name = tc.name
			got := ConnectionSecret(p, tc.port)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nConnectionSecret(...): -want, +got:\n%s", tc.reason, diff)
			}
			if !names.IsDNSLabel(got.Name) {
				t.Errorf("%s\nConnectionSecret(...).Name %q is not a DNS label", tc.reason, got.Name)
			}
		})
	}
}
