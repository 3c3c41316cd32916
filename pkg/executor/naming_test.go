package executor

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
	xpv2 "github.com/crossplane/crossplane/apis/v2/core/v2"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/internal/names"
)

func TestPerformerName(t *testing.T) {
	const avs = "0xABCDEF1234567890abcdef1234567890ABCDEF12"
	cases := map[string]struct {
		reason   string
		executor string
		avs      string
		want     string
	}{
		"Short": {
			reason:   "The executor's name and the lowercased address without 0x.",
			executor: "executor-0", avs: avs,
			want: "executor-0-abcdef1234567890abcdef1234567890abcdef12",
		},
		"SameAddressOtherCase": {
			reason:   "Addresses differing only in case (EIP-55 checksums) name the same Performer.",
			executor: "executor-0", avs: strings.ToLower(avs),
			want: "executor-0-abcdef1234567890abcdef1234567890abcdef12",
		},
		"Long": {
			reason:   "Over 63 characters the shared short form applies: cut, plus a hash of the full name.",
			executor: "my-very-long-executor-statefulset-0", avs: avs,
			want: names.DNSLabel("my-very-long-executor-statefulset-0-abcdef1234567890abcdef1234567890abcdef12"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := PerformerName(tc.executor, tc.avs)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nPerformerName(...): -want, +got:\n%s", tc.reason, diff)
			}
			if !names.IsDNSLabel(got) {
				t.Errorf("%s\nPerformerName(...) = %q is not a DNS-1035 label", tc.reason, got)
			}
		})
	}
}

func TestConnectionSecretName(t *testing.T) {
	cases := map[string]struct {
		reason    string
		performer string
		want      string
	}{
		"Short": {
			reason:    "performer-{name}-connection, beside the Service performer-{name}.",
			performer: "example",
			want:      "performer-example-connection",
		},
		"ExecutorNamed": {
			reason:    "A name PerformerName makes is too long for the full form: cut, plus a hash of the full name, as the platform composes it.",
			performer: "executor-0-abcdef1234567890abcdef1234567890abcdef12",
			want:      "performer-executor-0-abcdef1234567890abcdef123456789-" + names.Hash("performer-executor-0-abcdef1234567890abcdef1234567890abcdef12-connection", 10),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ConnectionSecretName(tc.performer)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nConnectionSecretName(%q): -want, +got:\n%s", tc.reason, tc.performer, diff)
			}
			if !names.IsDNSLabel(got) {
				t.Errorf("%s\nConnectionSecretName(%q) = %q is not a DNS-1035 label", tc.reason, tc.performer, got)
			}
		})
	}
}

func TestImageWithVersion(t *testing.T) {
	cases := map[string]struct {
		reason  string
		image   string
		version string
		want    string
		wantErr bool
	}{
		"Tagged":       {reason: "The tag follows the version.", image: "myavs/performer:v1.0.0", version: "v2.0.0", want: "myavs/performer:v2.0.0"},
		"RegistryPort": {reason: "A registry port is not a tag.", image: "reg.local:5000/myavs/performer:v1", version: "v2", want: "reg.local:5000/myavs/performer:v2"},
		"Untagged":     {reason: "An untagged image takes the version as its tag: unchanged.", image: "reg.local:5000/myavs/performer", version: "v2", want: "reg.local:5000/myavs/performer"},
		"Digest":       {reason: "A digest cannot follow a version.", image: "myavs/performer:v1@sha256:0123456789abcdef0123456789abcdef", version: "v2", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := imageWithVersion(tc.image, tc.version)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nimageWithVersion(...): want error %t, got %v", tc.reason, tc.wantErr, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nimageWithVersion(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestServicePattern(t *testing.T) {
	const pattern = "performer-{name}.{namespace}.svc.cluster.local:{port}"
	cases := map[string]struct {
		reason    string
		pattern   string
		endpoint  string
		namespace string
		wantParse bool
		wantValid bool
	}{
		"Match":       {reason: "The composed endpoint fits.", pattern: pattern, endpoint: "performer-executor-0-abc.avs.svc.cluster.local:9090", namespace: "avs", wantParse: true, wantValid: true},
		"ShortForm":   {reason: "A shortened Service name still fits {name}.", pattern: pattern, endpoint: "performer-executor-0-abcdef-0123456789.avs.svc.cluster.local:9090", namespace: "avs", wantParse: true, wantValid: true},
		"OtherNS":     {reason: "{namespace} is the performer's namespace exactly.", pattern: pattern, endpoint: "performer-x.other.svc.cluster.local:9090", namespace: "avs", wantParse: true},
		"OtherDomain": {reason: "A platform with another cluster domain is caught.", pattern: pattern, endpoint: "performer-x.avs.svc.example.org:9090", namespace: "avs", wantParse: true},
		"NoPort":      {reason: "An endpoint without a port (the original operator's bug) is caught.", pattern: pattern, endpoint: "performer-x.avs.svc.cluster.local", namespace: "avs", wantParse: true},
		"Unknown":     {reason: "Only the three placeholders exist.", pattern: "performer-{avs}.{namespace}:{port}"},
		"Missing":     {reason: "Every placeholder is required.", pattern: "performer-{name}.svc:{port}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sp, err := ParseServicePattern(tc.pattern)
			if (err == nil) != tc.wantParse {
				t.Fatalf("%s\nParseServicePattern(%q): want ok %t, got %v", tc.reason, tc.pattern, tc.wantParse, err)
			}
			if err != nil {
				return
			}
			err = sp.Validate(tc.endpoint, tc.namespace)
			if (err == nil) != tc.wantValid {
				t.Errorf("%s\nValidate(%q): want valid %t, got %v", tc.reason, tc.endpoint, tc.wantValid, err)
			}
		})
	}
}

func TestChecks(t *testing.T) {
	since := time.Date(2026, 11, 22, 12, 0, 0, 500e6, time.UTC)
	before := metav1.NewTime(since.Add(-time.Hour))
	after := metav1.NewTime(since.Add(time.Minute))
	degradedAt := func(at time.Time, reason string) metav1.Condition {
		return metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: reason, Message: "m", LastTransitionTime: metav1.NewTime(at)}
	}
	perf := func(s v1alpha1.PerformerStatus) *v1alpha1.Performer {
		return &v1alpha1.Performer{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Status: s}
	}
	// readyCond is Crossplane's Ready condition on the Performer.
	readyCond := func(s metav1.ConditionStatus) metav1.Condition {
		return metav1.Condition{Type: string(xpv2.TypeReady), Status: s, Reason: "r", LastTransitionTime: before}
	}
	serving := []metav1.Condition{readyCond(metav1.ConditionTrue)}
	type want struct {
		done   bool
		reason string
	}
	cases := map[string]struct {
		reason string
		check  check
		p      *v1alpha1.Performer
		want   want
	}{
		"StartPending": {
			reason: "Not ready yet: keep waiting.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhasePending, GRPCEndpoint: "e:1", Conditions: []metav1.Condition{readyCond(metav1.ConditionFalse)}}),
		},
		"StartServing": {
			reason: "status.ready and the Ready condition true, with an endpoint: done.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, GRPCEndpoint: "e:1", Conditions: serving}),
			want:   want{done: true},
		},
		"StartRunningNotReady": {
			reason: "A phase alone is not readiness: status.ready false keeps waiting.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, GRPCEndpoint: "e:1", Conditions: serving}),
		},
		"StartReadyConditionFalse": {
			reason: "status.ready true while Crossplane's Ready condition is False: keep waiting for both.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, GRPCEndpoint: "e:1", Conditions: []metav1.Condition{readyCond(metav1.ConditionFalse)}}),
		},
		"StartReadyNoCondition": {
			reason: "status.ready true before Crossplane wrote any Ready condition: keep waiting.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, GRPCEndpoint: "e:1"}),
		},
		"StartReadyNoEndpoint": {
			reason: "Ready but no endpoint published: nothing to call yet.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, Conditions: serving}),
		},
		"StartServingWhileUpgrading": {
			reason: "A spec change started an upgrade; the previous revision serves: done, the rollout goes on in the background.",
			check:  running(since),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseUpgrading, Ready: true, GRPCEndpoint: "e:1", Conditions: serving,
				Active: &v1alpha1.RevisionStatus{Version: "v1"}, Target: &v1alpha1.RevisionStatus{Version: "v2"}}),
			want: want{done: true},
		},
		"StartDegraded": {
			reason: "Degraded during this start: fail with its reason.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhasePending, Conditions: []metav1.Condition{degradedAt(since.Truncate(time.Second), "ImagePullFailed")}}),
			want:   want{reason: "ImagePullFailed"},
		},
		"StartStaleDegraded": {
			reason: "A Degraded condition from before this start is not its failure.",
			check:  running(since),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhasePending, Conditions: []metav1.Condition{degradedAt(before.Time, "ImagePullFailed")}}),
		},
		"StartCreatedSeesAll": {
			reason: "For a Performer created by this start, every Degraded condition is its own.",
			check:  running(time.Time{}),
			p:      perf(v1alpha1.PerformerStatus{Conditions: []metav1.Condition{degradedAt(before.Time, "SchedulingFailed")}}),
			want:   want{reason: "SchedulingFailed"},
		},
		"UpgradeInProgress": {
			reason: "The old revision still active: keep waiting.",
			check:  upgraded("v2", since, &before, true),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseUpgrading, LastUpgrade: &before,
				Active: &v1alpha1.RevisionStatus{Version: "v1"}, Target: &v1alpha1.RevisionStatus{Version: "v2"}}),
		},
		"UpgradeActiveButNotAdvanced": {
			reason: "Active is v2 but lastUpgrade has not moved: keep waiting.",
			check:  upgraded("v2", since, &before, true),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, Conditions: serving, LastUpgrade: &before, Active: &v1alpha1.RevisionStatus{Version: "v2"}}),
		},
		"UpgradeDone": {
			reason: "Running and serving, active v2, lastUpgrade advanced: done.",
			check:  upgraded("v2", since, &before, true),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, Conditions: serving, LastUpgrade: &after, Active: &v1alpha1.RevisionStatus{Version: "v2"}}),
			want:   want{done: true},
		},
		"UpgradeDoneNotServing": {
			reason: "Active v2 and advanced, but the new revision does not answer (status.ready false): keep waiting.",
			check:  upgraded("v2", since, &before, true),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Conditions: []metav1.Condition{readyCond(metav1.ConditionFalse)},
				LastUpgrade: &after, Active: &v1alpha1.RevisionStatus{Version: "v2"}}),
		},
		"UpgradeDoneFirstTime": {
			reason: "No lastUpgrade before: any lastUpgrade is an advance.",
			check:  upgraded("v2", since, nil, true),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, Conditions: serving, LastUpgrade: &after, Active: &v1alpha1.RevisionStatus{Version: "v2"}}),
			want:   want{done: true},
		},
		"UpgradeAskedBefore": {
			reason: "An upgrade asked before this call needs no advance.",
			check:  upgraded("v2", since, &before, false),
			p:      perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Ready: true, Conditions: serving, LastUpgrade: &before, Active: &v1alpha1.RevisionStatus{Version: "v2"}}),
			want:   want{done: true},
		},
		"UpgradeFailed": {
			reason: "Degraded about the target revision: fail with the performer's reason, even if the condition is older than the call.",
			check:  upgraded("v2", since, &before, true),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Active: &v1alpha1.RevisionStatus{Version: "v1"},
				Target: &v1alpha1.RevisionStatus{Version: "v2"}, Conditions: []metav1.Condition{degradedAt(before.Time, "ProgressDeadlineExceeded")}}),
			want: want{reason: "ProgressDeadlineExceeded"},
		},
		"UpgradeStaleFailure": {
			reason: "Degraded from an earlier failed upgrade to v3 is not this upgrade's failure.",
			check:  upgraded("v2", since, &before, true),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Active: &v1alpha1.RevisionStatus{Version: "v1"},
				Target: &v1alpha1.RevisionStatus{Version: "v3"}, Conditions: []metav1.Condition{degradedAt(before.Time, "ImagePullFailed")}}),
		},
		"UpgradeRecentFailureOfOtherTarget": {
			reason: "Degraded about v3, however recent, is not the failure of an upgrade to v2 the platform has not taken up yet.",
			check:  upgraded("v2", since, &before, true),
			p: perf(v1alpha1.PerformerStatus{Phase: v1alpha1.PhaseRunning, Active: &v1alpha1.RevisionStatus{Version: "v1"},
				Target: &v1alpha1.RevisionStatus{Version: "v3"}, Conditions: []metav1.Condition{degradedAt(after.Time, "ImagePullFailed")}}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			done, err := tc.check(tc.p)
			got := want{done: done}
			var ce *ConditionError
			if errors.As(err, &ce) {
				got.reason = ce.Reason
			} else if err != nil {
				t.Fatalf("%s\ncheck(...): unexpected error %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\ncheck(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
