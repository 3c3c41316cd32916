package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	observev1alpha1 "github.com/hourglass-xp/crossplane-hourglass/apis/observe/v1alpha1"
)

// condSummary is a condition without its message: type=status/reason.
func condSummary(cs []Condition) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		s := "False"
		if c.Status {
			s = "True"
		}
		out = append(out, c.Type+"="+s+"/"+c.Reason)
	}
	return out
}

func TestStatusOf(t *testing.T) {
	r1 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" }), DefaultPlatform())
	r2 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" }), DefaultPlatform())
	dep := func(r *Revision, opts ...depOpt) *appsv1.Deployment {
		d := r.Deployment.DeepCopy()
		d.Generation = 2
		d.Status = deployment(opts...).Status
		return d
	}
	svc := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.1"}}
	earlier := metav1.NewTime(testNow.Add(-time.Hour))

	type want struct {
		phase     string
		podName   string
		conds     []string
		readyTime *metav1.Time
	}
	gpu := &HardwareNeeds{GPUOrTEE: true, NodeTerms: []TermGroup{{Terms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: LabelGFDProduct, Operator: corev1.NodeSelectorOpIn, Values: []string{"NVIDIA-A100-SXM4-40GB"}},
	}}}}}}
	cases := map[string]struct {
		reason   string
		prev     v1alpha1.PerformerStatus
		deleting bool
		plan     *Plan
		o        *Observed
		rollout  Rollout
		hw       *HardwareNeeds
		want     want
	}{
		"Pending": {
			reason: "Nothing ready yet: Pending, rolling out.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{},
			want:   want{phase: "Pending", conds: []string{"Available=False/PodNotReady", "Progressing=True/RolloutInProgress", "Degraded=False/AsExpected"}},
		},
		"PodReadyServiceNot": {
			reason: "The pod is ready but the Service has no cluster IP yet.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1)}},
			want:   want{phase: "Pending", conds: []string{"Available=False/ServiceNotReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}},
		},
		"Running": {
			reason: "Deployment and Service ready: Running, ServiceReady, readyTime now.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1)}, Service: svc},
			want:   want{phase: "Running", conds: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}, readyTime: new(metav1.NewTime(testNow))},
		},
		"ReadyTimeKept": {
			reason: "readyTime is kept across calls while the same revision serves.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1)}, Service: svc},
			want:   want{phase: "Running", conds: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}, readyTime: &earlier},
		},
		"ReadyTimeFromObserved": {
			reason: "An XR read before its last status write (no readyTime, no active revision) gets the time its Deployment became available, not the clock's, so the write is the same.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, availableSince(2*time.Minute))}, Service: svc},
			want:   want{phase: "Running", conds: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}, readyTime: ago(2 * time.Minute)},
		},
		"ReadyTimeKeptWhileUnready": {
			reason: "A performer that was ready keeps its readyTime while its pod restarts; Available says it is down.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc},
			want:   want{phase: "Pending", conds: []string{"Available=False/PodNotReady", "Progressing=True/RolloutInProgress", "Degraded=False/AsExpected"}, readyTime: &earlier},
		},
		"DeadlineHardware": {
			reason: "A GPU performer whose Deployment exceeded its deadline, pods not observed: HardwareUnavailable, Pending (a node may yet appear).",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, deadlineExceeded)}, Service: svc},
			hw:     gpu,
			want:   want{phase: "Pending", conds: []string{"Available=False/HardwareUnavailable", "Progressing=False/AsExpected", "Degraded=True/HardwareUnavailable"}},
		},
		"DeadlineNoHardware": {
			reason: "A plain performer past its deadline with no pod detail: Failed, ProgressDeadlineExceeded.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, deadlineExceeded)}, Service: svc},
			want:   want{phase: "Failed", conds: []string{"Available=False/ProgressDeadlineExceeded", "Progressing=False/AsExpected", "Degraded=True/ProgressDeadlineExceeded"}},
		},
		"PodUnschedulableHardware": {
			reason: "The pod says no node has the GPU, at once and without waiting for the deadline: Pending, HardwareUnavailable, podName set.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", unschedulable(msgNoGPU))}},
			hw:     gpu,
			want:   want{phase: "Pending", podName: "p1", conds: []string{"Available=False/HardwareUnavailable", "Progressing=False/AsExpected", "Degraded=True/HardwareUnavailable"}},
		},
		"PodAffinityHardware": {
			reason: "No node carries the GPU product label the performer's hardware profile selects: HardwareUnavailable.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", nodeSelector(LabelGFDProduct, "NVIDIA-A100-SXM4-40GB"), unschedulable(msgAffinity))}},
			hw:     gpu,
			want:   want{phase: "Pending", podName: "p1", conds: []string{"Available=False/HardwareUnavailable", "Progressing=False/AsExpected", "Degraded=True/HardwareUnavailable"}},
		},
		"PodGPUShortOfCPU": {
			reason: "A GPU performer whose pod no node has the CPU for waits for capacity, not hardware: SchedulingFailed (the function used to say HardwareUnavailable for any \"Insufficient\", the provider SchedulingFailed).",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", nodeSelector(LabelGFDProduct, "NVIDIA-A100-SXM4-40GB"), unschedulable(msgNoCPU))}},
			hw:     gpu,
			want:   want{phase: "Pending", podName: "p1", conds: []string{"Available=False/SchedulingFailed", "Progressing=False/AsExpected", "Degraded=True/SchedulingFailed"}},
		},
		"PodConfigError": {
			reason: "A container the kubelet cannot create (a missing Secret key) fails the performer at once, not after the progress deadline: Failed, PodFailed (the function used to say PodNotReady, the provider PodFailed).",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", scheduled, waiting("CreateContainerConfigError"))}},
			want:   want{phase: "Failed", podName: "p1", conds: []string{"Available=False/PodFailed", "Progressing=False/AsExpected", "Degraded=True/PodFailed"}},
		},
		"PodEvicted": {
			reason: "A pod in phase Failed: Failed, PodFailed (the function used to say PodNotReady, the provider PodFailed).",
			plan:   &Plan{Serving: r1},
			o: &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", scheduled, func(p *corev1.Pod) {
				p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
			})}},
			want: want{phase: "Failed", podName: "p1", conds: []string{"Available=False/PodFailed", "Progressing=False/AsExpected", "Degraded=True/PodFailed"}},
		},
		"PodImagePull": {
			reason: "An image that cannot be pulled: Failed, ImagePullFailed.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", scheduled, waiting("ImagePullBackOff"))}},
			want:   want{phase: "Failed", podName: "p1", conds: []string{"Available=False/ImagePullFailed", "Progressing=False/AsExpected", "Degraded=True/ImagePullFailed"}},
		},
		"PodStarting": {
			reason: "A scheduled pod that is not ready yet: Pending, Progressing with Scheduled.",
			plan:   &Plan{Serving: r1},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1, unavailable)}, Service: svc, Pods: []corev1.Pod{pod(r1, "p1", scheduled)}},
			want:   want{phase: "Pending", podName: "p1", conds: []string{"Available=False/PodNotReady", "Progressing=True/Scheduled", "Degraded=False/AsExpected"}},
		},
		"PodRunning": {
			reason: "The ready pod of the serving revision is the podName, not another revision's.",
			plan:   &Plan{Serving: r1},
			o: &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1)}, Service: svc, Pods: []corev1.Pod{
				pod(r2, "other-revision", scheduled, ready), pod(r1, "old", scheduled), pod(r1, "p1", scheduled, ready),
			}},
			want: want{phase: "Running", podName: "p1", conds: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}, readyTime: new(metav1.NewTime(testNow))},
		},
		"Upgrading": {
			reason: "During an upgrade the old revision serves: Upgrading, UpgradeInProgress, still Available.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r1, Target: r2},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1), r2.ID: dep(r2, unavailable)}, Service: svc},
			want:   want{phase: "Upgrading", conds: []string{"Available=True/ServiceReady", "Progressing=True/UpgradeInProgress", "Degraded=False/AsExpected"}, readyTime: &earlier},
		},
		"UpgradeFailed": {
			reason: "A failed upgrade: the old revision serves (Running), Degraded with the target's reason.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r1, Target: r2, UpgradeFailed: true},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1), r2.ID: dep(r2, deadlineExceeded)}, Service: svc},
			want:   want{phase: "Running", conds: []string{"Available=True/ServiceReady", "Progressing=False/ProgressDeadlineExceeded", "Degraded=True/ProgressDeadlineExceeded"}, readyTime: &earlier},
		},
		"UpgradeFailedNotHealthy": {
			reason: "With the provider, a target whose Deployment is available but whose pod does not answer gRPC: Degraded with the provider's reason, not the deadline's.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r1, Target: r2, UpgradeFailed: true},
			o: &Observed{
				Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1), r2.ID: dep(r2)}, Service: svc,
				Endpoints: map[string]*observev1alpha1.PerformerEndpoint{r1.ID: healthyEndpoint(true, true, observev1alpha1.ReasonServiceReady), r2.ID: healthyEndpoint(false, false, observev1alpha1.ReasonHealthCheckFailed)},
			},
			rollout: Rollout{HealthChecked: true},
			want:    want{phase: "Running", podName: "pod-from-provider", conds: []string{"Available=True/ServiceReady", "Progressing=False/HealthCheckFailed", "Degraded=True/HealthCheckFailed"}, readyTime: &earlier},
		},
		"Switched": {
			reason: "Traffic just switched to a ready revision: Running, a new readyTime.",
			prev:   v1alpha1.PerformerStatus{Active: revisionStatus(r1), ReadyTime: &earlier},
			plan:   &Plan{Serving: r2, Switched: true},
			o:      &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1), r2.ID: dep(r2)}, Service: svc},
			want:   want{phase: "Running", conds: []string{"Available=True/ServiceReady", "Progressing=False/AsExpected", "Degraded=False/AsExpected"}, readyTime: new(metav1.NewTime(testNow))},
		},
		"Terminating": {
			reason:   "A composite being deleted is Terminating.",
			deleting: true,
			plan:     &Plan{Serving: r1},
			o:        &Observed{Deployments: map[string]*appsv1.Deployment{r1.ID: dep(r1)}, Service: svc},
			want:     want{phase: "Terminating", conds: []string{"Available=True/ServiceReady", "Progressing=True/Deleting", "Degraded=False/AsExpected"}, readyTime: new(metav1.NewTime(testNow))},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPerformer()
			p.Status, p.Deleting = tc.prev, tc.deleting
			if tc.o.Deployments == nil {
				tc.o.Deployments = map[string]*appsv1.Deployment{}
			}
			hw := tc.hw
			if hw == nil {
				hw = &HardwareNeeds{}
			}
			st, conds := StatusOf(p, tc.plan, tc.o, tc.rollout, hw, testNow)
			got := want{phase: st.Phase, podName: st.PodName, conds: condSummary(conds), readyTime: st.ReadyTime}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nStatusOf(...): -want, +got:\n%s", tc.reason, diff)
			}
			if st.ServiceName != "performer-example" || st.GRPCEndpoint != "performer-example.avs.svc.cluster.local:9090" {
				t.Errorf("%s\nStatusOf(...): service %q, endpoint %q", tc.reason, st.ServiceName, st.GRPCEndpoint)
			}
		})
	}
}

func TestStatusUpgradeMessage(t *testing.T) {
	r1 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" }), DefaultPlatform())
	r2 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" }), DefaultPlatform())
	o := &Observed{Deployments: map[string]*appsv1.Deployment{}, Pods: []corev1.Pod{pod(r2, "p2", scheduled, waiting("ErrImagePull"))}}
	_, conds := StatusOf(testPerformer(), &Plan{Serving: r1, Target: r2}, o, Rollout{}, &HardwareNeeds{}, testNow)
	want := "upgrading from revision " + r1.ID + " (myavs/performer:v1) to " + r2.ID + " (myavs/performer:v2); pod p2: ImagePullFailed: container performer of pod p2 cannot pull image myavs/performer:v2 (ErrImagePull: back-off)"
	if conds[1].Message != want {
		t.Errorf("Progressing message during an upgrade whose pod cannot pull:\nwant %q\ngot  %q", want, conds[1].Message)
	}
}

func TestStatusUpgradeNotHealthyMessage(t *testing.T) {
	r1 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v1" }), DefaultPlatform())
	r2 := revisionFor(t, testPerformer(func(s *v1alpha1.PerformerSpec) { s.Version = "v2" }), DefaultPlatform())
	o := &Observed{
		Deployments: map[string]*appsv1.Deployment{r2.ID: deployment()},
		Endpoints:   map[string]*observev1alpha1.PerformerEndpoint{r2.ID: healthyEndpoint(false, false, observev1alpha1.ReasonNotServing)},
	}
	_, conds := StatusOf(testPerformer(), &Plan{Serving: r1, Target: r2}, o, Rollout{HealthChecked: true}, &HardwareNeeds{}, testNow)
	want := "upgrading from revision " + r1.ID + " (myavs/performer:v1) to " + r2.ID + " (myavs/performer:v2); revision " + r2.ID +
		" is available but not healthy: NotServing: NotServing message"
	if conds[1].Message != want {
		t.Errorf("Progressing message during an upgrade whose pod does not answer gRPC:\nwant %q\ngot  %q", want, conds[1].Message)
	}
}
