package main

import (
	"context"
	"fmt"
	"time"

	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errCreateClaim = "cannot create claim"
	errDelete      = "cannot delete"
	errList        = "cannot list"

	// labelRun marks everything the benchmark creates, by phase and run,
	// so each phase watches and deletes exactly its own objects.
	labelRun = "bench.hourglass-xp.io/run"
	// benchImage has no tag: the claim's version is the tag, so a new
	// version is a new image and a blue-green upgrade.
	benchImage = "example.com/bench/performer"
)

// claimName is the i-th claim of a run.
func claimName(run string, i int) string { return fmt.Sprintf("%s-%04d", run, i) }

// secretName is the claim's connection Secret.
func secretName(claim string) string { return claim + secretSuffix }

const secretSuffix = "-endpoint"

// serviceName is the Service the function composes for a claim.
func serviceName(claim string) string { return "performer-" + claim }

// newClaim is a Performer claim like examples/minimal.yaml, with a version
// (so an upgrade is a version change) and its connection Secret, as an
// executor would apply it.
func newClaim(namespace, name, run, version string, i int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "hourglass.eigenlayer.io/v1alpha1",
		"kind":       "Performer",
		"metadata": map[string]any{
			"name":      name,
			"namespace": namespace,
			"labels":    map[string]any{labelRun: run},
		},
		"spec": map[string]any{
			"avsAddress":                 fmt.Sprintf("0x%040x", i+1),
			"image":                      benchImage,
			"version":                    version,
			"writeConnectionSecretToRef": map[string]any{"name": secretName(name)},
		},
	}}
}

func (k *kube) createClaim(ctx context.Context, u *unstructured.Unstructured) error {
	_, err := k.dyn.Resource(performers).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
	return errors.Wrapf(err, "%s %s/%s", errCreateClaim, u.GetNamespace(), u.GetName())
}

// deleteRun deletes every object of the del resources labelled with the run in the
// namespaces and waits until they, and the objects of gone (the XRs and
// pods they lead to), no longer exist, so the next phase starts from a
// quiet cluster.
func (k *kube) deleteRun(ctx context.Context, run string, nss []string, timeout time.Duration, del []schema.GroupVersionResource, gone ...schema.GroupVersionResource) error {
	sel := labelRun + "=" + run
	for _, gvr := range del {
		for _, ns := range nss {
			l, err := k.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return errors.Wrap(err, errList)
			}
			for _, o := range l.Items {
				err := k.dyn.Resource(gvr).Namespace(ns).Delete(ctx, o.GetName(), metav1.DeleteOptions{})
				if err != nil && !kerrors.IsNotFound(err) {
					return errors.Wrapf(err, "%s %s/%s", errDelete, ns, o.GetName())
				}
			}
		}
	}
	return waitFor(ctx, timeout, "objects of run "+run+" deleted", func() (bool, error) {
		for _, r := range append(del, gone...) {
			// Crossplane copies the claim's labels to its XR; what the
			// floor creates carries the label itself.
			l, err := k.dyn.Resource(r).List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 1})
			if err != nil {
				return false, errors.Wrap(err, errList)
			}
			if len(l.Items) > 0 {
				return false, nil
			}
		}
		// Pods follow their Deployments through garbage collection, after
		// the XRs are gone; the benchmark's namespaces hold nothing else.
		for _, ns := range nss {
			l, err := k.dyn.Resource(pods).Namespace(ns).List(ctx, metav1.ListOptions{Limit: 1})
			if err != nil {
				return false, errors.Wrap(err, errList)
			}
			if len(l.Items) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
}
