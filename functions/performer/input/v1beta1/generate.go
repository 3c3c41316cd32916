//go:build generate

// Generates the deep copy methods of the input types and the input CRD
// (package/function/input/). Run with `make generate-function`.

//go:generate ../../../../_output/bin/controller-gen object paths=./...
//go:generate ../../../../_output/bin/controller-gen crd:crdVersions=v1 paths=./... output:crd:artifacts:config=../../../../package/function/input

package v1beta1
