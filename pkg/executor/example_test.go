package executor_test

import (
	"context"
	"log"

	performerv1 "github.com/Layr-Labs/protocol-apis/gen/protos/eigenlayer/hourglass/v1/performer"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/hourglass-xp/crossplane-hourglass/apis/hourglass/v1alpha1"
	"github.com/hourglass-xp/crossplane-hourglass/pkg/executor"
)

// An executor in a StatefulSet: configuration from its file and environment,
// its performers adopted after a restart, a performer started, used,
// upgraded and stopped.
func Example() {
	ctx := context.Background()

	cfg, err := executor.LoadConfig("/etc/executor/executor.yaml")
	if err != nil {
		log.Fatal(err)
	}
	if cfg.PerformerMode != executor.ModeKubernetes {
		return // The executor's Docker performers take over.
	}
	rc, err := rest.InClusterConfig()
	if err != nil {
		log.Fatal(err)
	}
	m, err := executor.NewManagerFromConfig(ctx, rc, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// Upgrades made by others (GitOps, kubectl) move clients over too.
	go func() { _ = m.FollowUpgrades(ctx) }()

	// After a restart: the performers this executor started before.
	running, err := m.ListPerformers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("adopted %d performers", len(running))

	const avs = "0x1234567890abcdef1234567890abcdef12345678"
	p, err := m.StartPerformer(ctx, executor.PerformerRequest{
		AVSAddress: avs, Image: "myavs/performer:v1.0.0", Version: "v1.0.0",
		// The rest of the Performer spec, e.g. the environment in the
		// original Hourglass operator's format.
		Spec: v1alpha1.PerformerSpec{
			ImagePullPolicy: corev1.PullIfNotPresent,
			Config: v1alpha1.PerformerConfig{
				Environment: map[string]string{"LOG_LEVEL": "info"},
				EnvironmentFrom: []v1alpha1.EnvironmentFromSource{{
					Name:      "RPC_URL",
					ValueFrom: v1alpha1.EnvironmentValueSource{SecretKeyRef: &v1alpha1.KeySelector{Name: "myavs", Key: "rpc-url"}},
				}},
			},
		},
	})
	if err != nil {
		log.Fatal(err) // A ConditionError carries the performer's own reason.
	}
	rsp, err := p.ExecuteTask(ctx, &performerv1.TaskRequest{TaskId: []byte("task-1"), Payload: []byte("...")})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("result: %x", rsp.GetResult())

	// Blue-green: returns once v1.1.0 serves; calls in flight finish on v1.0.0.
	if err := m.UpgradePerformer(ctx, avs, "v1.1.0"); err != nil {
		log.Fatal(err)
	}
	if err := m.StopPerformer(ctx, avs); err != nil {
		log.Fatal(err)
	}
}
