package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type depOpt func(*appsv1.Deployment)

func deployment(opts ...depOpt) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: new(int32(1))},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d
}

func unavailable(d *appsv1.Deployment) {
	d.Status.AvailableReplicas, d.Status.ReadyReplicas = 0, 0
	d.Status.Conditions[0].Status, d.Status.Conditions[0].Reason = corev1.ConditionFalse, "MinimumReplicasUnavailable"
	d.Status.Conditions[1].Reason = "ReplicaSetUpdated"
}

func deadlineExceeded(d *appsv1.Deployment) {
	unavailable(d)
	d.Status.Conditions[1] = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "x" has timed out progressing.`}
}

func TestDeploymentReady(t *testing.T) {
	cases := map[string]struct {
		reason string
		d      *appsv1.Deployment
		want   bool
	}{
		"Missing":   {reason: "A Deployment not observed yet is not ready.", want: false},
		"Available": {reason: "Current generation, Available, all replicas updated and available.", d: deployment(), want: true},
		"StaleGeneration": {
			reason: "Status of an older generation says nothing about the current spec.",
			d:      deployment(func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }),
		},
		"NotUpdated": {
			reason: "An old pod still available while the new one is not updated is not ready.",
			d:      deployment(func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 0 }),
		},
		"Unavailable": {reason: "Available=False is not ready.", d: deployment(unavailable)},
		"SurgedOneAvailable": {
			reason: "Surged off a drained node, one of two pods available is a serving performer.",
			d: deployment(func(d *appsv1.Deployment) {
				d.Spec.Replicas = new(int32(2))
				d.Status.Replicas, d.Status.UpdatedReplicas = 2, 2
			}),
			want: true,
		},
		"SurgedNoneAvailable": {
			reason: "Surged with no pod available is not ready.",
			d: deployment(unavailable, func(d *appsv1.Deployment) {
				d.Spec.Replicas = new(int32(2))
				d.Status.Replicas, d.Status.UpdatedReplicas = 2, 2
			}),
		},
		"NoCondition": {
			reason: "Replica counts alone are not enough: Available must be True.",
			d:      deployment(func(d *appsv1.Deployment) { d.Status.Conditions = nil }),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := DeploymentReady(tc.d); got != tc.want {
				t.Errorf("%s\nDeploymentReady(...): want %v, got %v", tc.reason, tc.want, got)
			}
		})
	}
}

func TestServiceReady(t *testing.T) {
	cases := map[string]struct {
		reason string
		s      *corev1.Service
		want   bool
	}{
		"Missing":   {reason: "Not observed yet.", want: false},
		"NoIP":      {reason: "No cluster IP yet.", s: &corev1.Service{}, want: false},
		"ClusterIP": {reason: "A cluster IP makes it ready.", s: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.1"}}, want: true},
		"Headless":  {reason: "A headless Service is not what the function composes.", s: &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: "None"}}, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ServiceReady(tc.s); got != tc.want {
				t.Errorf("%s\nServiceReady(...): want %v, got %v", tc.reason, tc.want, got)
			}
		})
	}
}

func TestDeploymentFailure(t *testing.T) {
	cases := map[string]struct {
		reason   string
		d        *appsv1.Deployment
		hardware bool
		want     *Failure
	}{
		"Ready":       {reason: "A ready Deployment has not failed.", d: deployment()},
		"Progressing": {reason: "Not ready but within its deadline: not failed yet.", d: deployment(unavailable)},
		"Deadline": {
			reason: "Deadline exceeded without hardware requirements: the Deployment's own reason.",
			d:      deployment(deadlineExceeded),
			want:   &Failure{Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "x" has timed out progressing.`},
		},
		"DeadlineHardware": {
			reason: "Deadline exceeded with hardware requirements: most likely no node has the hardware.",
			d:      deployment(deadlineExceeded), hardware: true,
			want: &Failure{Reason: "HardwareUnavailable", Message: `ReplicaSet "x" has timed out progressing.`},
		},
		"ReplicaFailure": {
			reason: "Pods that cannot be created (quota, admission) fail at once.",
			d: deployment(unavailable, func(d *appsv1.Deployment) {
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: "exceeded quota"})
			}),
			want: &Failure{Reason: "PodCreationFailed", Message: "exceeded quota"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, DeploymentFailure(tc.d, tc.hardware)); diff != "" {
				t.Errorf("%s\nDeploymentFailure(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
