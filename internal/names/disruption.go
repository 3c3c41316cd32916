package names

// PodDisruptionBudget returns the name of the PodDisruptionBudget that
// guards a performer's serving pod: the Service's name, which is unique per
// performer in its namespace and already shortened to a valid name.
func PodDisruptionBudget(performer string) string {
	return Service(performer)
}
