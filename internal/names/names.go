// Package names holds the naming and labelling rules shared by everything
// that composes or finds a performer's objects: the composition function, the
// provider and the executor client. Keeping them in one place keeps the
// function's objects and the selectors that find them in step. Clients still
// read a performer's endpoint from its status: names here may be shortened,
// and the status is what the platform actually composed.
package names

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	// MaxDNSLabel is the longest a DNS-1035 label, and so a Service name,
	// may be.
	MaxDNSLabel = 63

	// MaxLabelValue is the longest a Kubernetes label value may be.
	MaxLabelValue = 63

	// hashLen is how many hex characters of SHA-256 a shortened name keeps:
	// 40 bits, enough that two different long names in one namespace
	// practically never meet.
	hashLen = 10

	// ServicePrefix is what every performer Service name starts with, as
	// the Performer API reference documents.
	ServicePrefix = "performer-"

	// ClusterDomain is the cluster DNS suffix the endpoint uses.
	ClusterDomain = "svc.cluster.local"
)

// Service returns the name of the Service in front of the named performer:
// performer-{name}, or its short form when that is not a valid DNS-1035 label
// (see DNSLabel).
func Service(performer string) string {
	return DNSLabel(ServicePrefix + performer)
}

// Deployment returns the name of the Deployment running one revision of a
// performer: {service}-{revision}, shortened by the same rule as Service.
// The full, unshortened name is hashed, so two revisions never share a name.
func Deployment(performer, revision string) string {
	return DNSLabel(ServicePrefix + performer + "-" + revision)
}

// Endpoint returns the gRPC endpoint of a performer's Service:
// {service}.{namespace}.svc.cluster.local:{port}.
func Endpoint(service, namespace string, port int32) string {
	return fmt.Sprintf("%s:%d", Host(service, namespace), port)
}

// DNSLabel returns s when it is a valid DNS-1035 label (lowercase letters,
// digits and '-', starting with a letter, ending with a letter or digit, at
// most 63 characters). Otherwise it returns a deterministic short form: s
// lowercased with every character outside [a-z0-9-] replaced by '-', cut to
// 52 characters, then '-' and the first 10 hex digits of the SHA-256 of the
// original s. The hash is of the original, so two names that differ only in
// the part cut off, or in a character that was replaced, still differ.
func DNSLabel(s string) string {
	if IsDNSLabel(s) {
		return s
	}
	return shorten(s, MaxDNSLabel, true)
}

// LabelValue returns s when it is a valid label value, otherwise a
// deterministic short form by the same rule as DNSLabel (with '.' and '_'
// kept, as label values allow them).
func LabelValue(s string) string {
	if IsLabelValue(s) {
		return s
	}
	return shorten(s, MaxLabelValue, false)
}

// Hash returns the first n hex digits of the SHA-256 of s.
func Hash(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	h := hex.EncodeToString(sum[:])
	if n > len(h) {
		n = len(h)
	}
	return h[:n]
}

func shorten(s string, limit int, dns bool) string {
	in := s
	if dns {
		in = strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-':
			b.WriteByte(c)
		case !dns && ((c >= 'A' && c <= 'Z') || c == '.' || c == '_'):
			b.WriteByte(c)
		default:
			b.WriteByte('-')
		}
	}
	keep := b.String()
	if maxKeep := limit - 1 - hashLen; len(keep) > maxKeep {
		keep = keep[:maxKeep]
	}
	// What is kept must start with a letter (DNS-1035) or an alphanumeric
	// character (label value), and must not end in a separator.
	lead := "-._"
	if dns {
		lead = "-._0123456789"
	}
	keep = strings.TrimRight(strings.TrimLeft(keep, lead), "-._")
	h := Hash(s, hashLen)
	switch {
	case keep != "":
		return keep + "-" + h
	case dns:
		// A hash may start with a digit, which DNS-1035 forbids.
		return "x" + h
	default:
		return h
	}
}

// IsDNSLabel reports whether s is a valid DNS-1035 label.
func IsDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > MaxDNSLabel {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case (c >= '0' && c <= '9') || c == '-':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return s[len(s)-1] != '-'
}

// IsLabelValue reports whether s is a valid Kubernetes label value: empty,
// or at most 63 characters of [A-Za-z0-9-_.] starting and ending with an
// alphanumeric character.
func IsLabelValue(s string) bool {
	if len(s) > MaxLabelValue {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if alnum {
			continue
		}
		if c != '-' && c != '_' && c != '.' {
			return false
		}
		if i == 0 || i == len(s)-1 {
			return false
		}
	}
	return true
}
