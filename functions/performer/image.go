package main

import "strings"

// Image returns the image reference the performer runs. The rule:
//   - an image with a digest (@sha256:…) or a tag is used exactly as given
//     (admission rejects a version that differs from the tag);
//   - an image with neither gets version as its tag when version is set;
//   - otherwise the image is used as given, and the runtime's default tag
//     (latest) applies.
func Image(image, version string) string {
	if version == "" || HasTagOrDigest(image) {
		return image
	}
	return image + ":" + version
}

// HasTagOrDigest reports whether an image reference carries a tag or a
// digest. A ':' before the last '/' is a registry port, not a tag.
func HasTagOrDigest(image string) bool {
	if strings.Contains(image, "@") {
		return true
	}
	return strings.Contains(image[strings.LastIndex(image, "/")+1:], ":")
}
