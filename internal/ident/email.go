package ident

// LowerASCII lower-cases the ASCII letters A-Z of s and leaves every other
// byte as it is. Emails are compared with it, byte for byte: Unicode case
// folding (strings.EqualFold, strings.ToLower) maps "ſ" (U+017F) to "s" and
// the Kelvin sign (U+212A) to "k", so an address an attacker can register
// would match an invite addressed to someone else.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}
