package authn

// MaxTokenLen is the longest token accepted, in bytes. Real tokens are a
// few hundred bytes to a few KiB; the cap bounds the work an attacker can
// ask of the parser.
const MaxTokenLen = 8 << 10

// checkFormat does the cheap checks jwx would do more slowly: a compact
// JWS is three base64url segments. It returns the reason of rejection, or
// "" when the token may be handed to jwx. An empty signature segment is
// let through so that alg "none" is rejected for what it is.
func checkFormat(token string) string {
	if len(token) > MaxTokenLen {
		return reasonTooLarge
	}
	dots := 0
	start := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			// The header and the payload may not be empty.
			if i == start {
				return reasonMalformed
			}
			dots++
			start = i + 1
			continue
		}
		if !isBase64URL(c) {
			return reasonMalformed
		}
	}
	if dots != 2 {
		return reasonMalformed
	}
	return ""
}

// isBase64URL reports whether c belongs to the unpadded base64url alphabet
// (RFC 7515 §2: JWS segments carry no padding).
func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
