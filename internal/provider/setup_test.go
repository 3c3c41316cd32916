package provider

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

func TestPollIntervalHook(t *testing.T) {
	const fast, slow = 5 * time.Second, time.Minute
	pe := func(ready bool, reason string) *v1alpha1.PerformerEndpoint {
		p := &v1alpha1.PerformerEndpoint{}
		p.Status.AtProvider.Reason = reason
		c := xpv2.Condition{Type: xpv2.TypeReady, Status: corev1.ConditionFalse, Reason: xpv2.ConditionReason(reason)}
		if ready {
			c = xpv2.Available()
		}
		p.SetConditions(c)
		return p
	}
	cases := map[string]struct {
		reason string
		pe     *v1alpha1.PerformerEndpoint
		want   time.Duration
	}{
		"Ready":             {reason: "A Ready resource is polled slowly.", pe: pe(true, v1alpha1.ReasonServiceReady), want: slow},
		"NotServing":        {reason: "A ready pod not answering SERVING is polled fast: nothing else announces its recovery.", pe: pe(false, v1alpha1.ReasonNotServing), want: fast},
		"HealthCheckFailed": {reason: "A ready pod that cannot be checked is polled fast.", pe: pe(false, v1alpha1.ReasonHealthCheckFailed), want: fast},
		"NeverObserved":     {reason: "A resource not observed yet is polled fast.", pe: pe(false, ""), want: fast},
		"ImagePullFailed":   {reason: "A pod problem is announced by the pod watch: slow poll.", pe: pe(false, v1alpha1.ReasonImagePullFailed), want: slow},
		"NoReadyEndpoints":  {reason: "A Service problem is announced by the EndpointSlice watch: slow poll.", pe: pe(false, v1alpha1.ReasonNoReadyEndpoints), want: slow},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PollIntervalHook(fast)(tc.pe, slow)); diff != "" {
				t.Errorf("%s\nPollIntervalHook(...)(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
