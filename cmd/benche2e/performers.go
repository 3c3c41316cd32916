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

	hourglass "github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
)

const (
	errCreatePerformer = "cannot create Performer"
	errDelete          = "cannot delete"
	errList            = "cannot list"

	// labelRun marks everything the benchmark creates, by phase and run,
	// so each phase watches and deletes exactly its own objects.
	labelRun = "bench.hourglass-xp.io/run"
	// benchImage has no tag: the Performer's version is the tag, so a new
	// version is a new image and a blue-green upgrade.
	benchImage = "example.com/bench/performer"
)

// performerName is the i-th Performer of a run.
func performerName(run string, i int) string { return fmt.Sprintf("%s-%04d", run, i) }

// newPerformer is a Performer like examples/minimal.yaml, with a version so
// an upgrade is a version change.
func newPerformer(namespace, name, run, version string, i int) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": hourglass.SchemeGroupVersion.String(),
		"kind":       hourglass.PerformerKind,
		"metadata": map[string]any{
			"name":      name,
			"namespace": namespace,
			"labels":    map[string]any{labelRun: run},
		},
		"spec": map[string]any{
			"avsAddress": fmt.Sprintf("0x%040x", i+1),
			"image":      benchImage,
			"version":    version,
		},
	}}
}

func (k *kube) createPerformer(ctx context.Context, u *unstructured.Unstructured) error {
	_, err := k.dyn.Resource(performers).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
	return errors.Wrapf(err, "%s %s/%s", errCreatePerformer, u.GetNamespace(), u.GetName())
}

// deleteRun deletes every object of the resources labelled with the run in
// the namespaces and waits until they, and the pods they lead to, no longer
// exist, so the next phase starts from a quiet cluster.
func (k *kube) deleteRun(ctx context.Context, run string, nss []string, timeout time.Duration, del ...schema.GroupVersionResource) error {
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
		for _, r := range del {
			l, err := k.dyn.Resource(r).List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 1})
			if err != nil {
				return false, errors.Wrap(err, errList)
			}
			if len(l.Items) > 0 {
				return false, nil
			}
		}
		// Pods follow their Deployments through garbage collection, after
		// the Performers are gone; the benchmark's namespaces hold nothing
		// else.
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
