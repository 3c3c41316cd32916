package main

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

// Env is the performer container's environment from the three places a
// Performer may set it: environment (the original operator's map, in sorted
// name order so the pod template, and so the revision, is the same however
// the map was written), environmentFrom (its Secret and ConfigMap keys, in
// list order), then env (the API reference's EnvVar list). A name set in
// two of them is refused by admission and, for a composite made without
// the CRD, by EnvDuplicate.
func Env(c *v1alpha1.PerformerConfig) []corev1.EnvVar {
	n := len(c.Environment) + len(c.EnvironmentFrom) + len(c.Env)
	if n == 0 {
		return nil
	}
	env := make([]corev1.EnvVar, 0, n)
	for _, k := range slices.Sorted(maps.Keys(c.Environment)) {
		env = append(env, corev1.EnvVar{Name: k, Value: c.Environment[k]})
	}
	for _, f := range c.EnvironmentFrom {
		env = append(env, corev1.EnvVar{Name: f.Name, ValueFrom: valueFrom(f.ValueFrom)})
	}
	return append(env, c.Env...)
}

// EnvDuplicate returns an error naming a variable set twice and both places
// that set it, nil when every name is set once.
func EnvDuplicate(c *v1alpha1.PerformerConfig) error {
	cfg := field.NewPath("spec", "config")
	first := make(map[string]*field.Path, len(c.Environment)+len(c.EnvironmentFrom)+len(c.Env))
	check := func(name string, at *field.Path) error {
		if prev, ok := first[name]; ok {
			return field.Duplicate(at, fmt.Sprintf("%s is also set by %s: set each variable in one place", name, prev))
		}
		first[name] = at
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(c.Environment)) {
		if err := check(k, cfg.Child("environment").Key(k)); err != nil {
			return err
		}
	}
	for i, f := range c.EnvironmentFrom {
		if err := check(f.Name, cfg.Child("environmentFrom").Index(i).Child("name")); err != nil {
			return err
		}
	}
	for i, e := range c.Env {
		if err := check(e.Name, cfg.Child("env").Index(i).Child("name")); err != nil {
			return err
		}
	}
	return nil
}

// valueFrom turns the operator's key reference into Kubernetes'.
func valueFrom(v v1alpha1.EnvironmentValueSource) *corev1.EnvVarSource {
	switch {
	case v.SecretKeyRef != nil:
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: v.SecretKeyRef.Name}, Key: v.SecretKeyRef.Key,
		}}
	case v.ConfigMapKeyRef != nil:
		return &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: v.ConfigMapKeyRef.Name}, Key: v.ConfigMapKeyRef.Key,
		}}
	}
	return nil
}
