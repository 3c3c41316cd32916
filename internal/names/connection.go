package names

import "strconv"

// Keys of a performer's connection Secret: how executors and tools that do
// not read the Performer's status find its endpoint.
const (
	ConnectionEndpoint = "endpoint"
	ConnectionHost     = "host"
	ConnectionPort     = "port"
)

// connectionSuffix ends the name of a performer's connection Secret.
const connectionSuffix = "-connection"

// ConnectionSecret returns the name of the Secret, in the performer's
// namespace, that holds its connection details: {service}-connection,
// shortened by the same rule as Service.
func ConnectionSecret(performer string) string {
	return DNSLabel(ServicePrefix + performer + connectionSuffix)
}

// Host returns the cluster DNS name of a performer's Service:
// {service}.{namespace}.svc.cluster.local.
func Host(service, namespace string) string {
	return service + "." + namespace + "." + ClusterDomain
}

// Connection returns the connection details of a performer's Service, by
// the keys above. They are known from the name, namespace and port alone,
// so they never wait for the performer to be ready.
func Connection(service, namespace string, port int32) map[string][]byte {
	return map[string][]byte{
		ConnectionEndpoint: []byte(Endpoint(service, namespace, port)),
		ConnectionHost:     []byte(Host(service, namespace)),
		ConnectionPort:     []byte(strconv.Itoa(int(port))),
	}
}
