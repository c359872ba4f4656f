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
			if i == start || !canonicalTail(token[start:i]) {
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
	if dots != 2 || !canonicalTail(token[start:]) {
		return reasonMalformed
	}
	return ""
}

// canonicalTail reports whether an unpadded base64url segment is the one
// encoding of its bytes. The last character of a segment whose length is
// 2 or 3 mod 4 carries 4 or 2 bits that decoders ignore; unless they are
// zero, many strings decode to the same bytes, and a token could be
// re-spelled (a different string, the same signature) without its key.
func canonicalTail(seg string) bool {
	if len(seg) == 0 {
		return true
	}
	v := base64URLValue(seg[len(seg)-1])
	switch len(seg) % 4 {
	case 1:
		return false // no byte count encodes to this length
	case 2:
		return v&0x0f == 0
	case 3:
		return v&0x03 == 0
	}
	return true
}

// base64URLValue is the 6-bit value of a base64url character.
func base64URLValue(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63 // '_'
}

// isBase64URL reports whether c belongs to the unpadded base64url alphabet
// (RFC 7515 §2: JWS segments carry no padding).
func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
