package authz

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		// "*" alone matches every valid name, whatever its separators.
		{"*", "a", true},
		{"*", "message.send", true},
		{"*", "read:users:email", true},
		{"*", "a.b:c.d", true},

		// No "*": the pattern matches exactly itself.
		{"message.send", "message.send", true},
		{"message.send", "message:send", false},
		{"message.send", "Message.send", false},
		{"message.send", "message.sen", false},
		{"message.send", "message.send.x", false},
		{"message.send", "message", false},

		// A trailing "*" matches one or more segments after the
		// separator written before it.
		{"message.*", "message.send", true},
		{"message.*", "message.x.y", true},
		{"message.*", "message.x:y", true},
		{"message.*", "message", false},
		{"message.*", "message:send", false},
		{"message.*", "messages.send", false},
		{"message.*", "xmessage.send", false},
		{"message.*", "Message.send", false},
		{"read:*", "read:users:email", true},
		{"read:*", "read:users.email", true},
		{"read:*", "read.users", false},
		{"read:*", "read", false},
		{"a.b.*", "a.b.c", true},
		{"a.b.*", "a.b", false},
		{"a.b.*", "a.c.d", false},
		{"a.b.*", "a:b.c", false},

		// A "*" before the last segment matches exactly one segment, and
		// the separators on both sides of it must match.
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.xyz.c", true},
		{"a.*.c", "a.c", false},
		{"a.*.c", "a.b.b.c", false},
		{"a.*.c", "a.b.c.d", false},
		{"a.*.c", "a.b:c", false},
		{"a.*.c", "a:b.c", false},
		{"a.*:c", "a.b:c", true},
		{"a.*:c", "a.b.c", false},
		{"*.read", "contact.read", true},
		{"*.read", "read", false},
		{"*.read", "a.b.read", false},
		{"*.read", "contact:read", false},
		{"*.*", "a.b", true},
		{"*.*", "a.b.c", true},
		{"*.*", "a.b:c", true},
		{"*.*", "a", false},
		{"*.*", "a:b", false},
		{"*:*", "a:b", true},
		{"*:*", "a.b", false},
		{"*.*.*", "a.b", false},
		{"*.*.*", "a.b.c", true},
		{"a.*.*", "a.b.c.d", true},
		{"a.*.*", "a.b", false},

		// Invalid input never matches.
		{"mess*", "message", false},
		{"message.**", "message.send", false},
		{"**", "a", false},
		{"", "", false},
		{"", "a", false},
		{"*", "", false},
		{"*", "a..b", false},
		{"*", "message.*", false},
		{"message.*", "message.*", false},
		{"a..b", "a..b", false},
		{"a b", "a b", false},
		{"a.", "a.", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Match("message.*", "message.x.y")
		Match("a.*.c", "a.b:c")
		Match("mess*", "message")
	})
	if allocs != 0 {
		t.Errorf("Match allocates %v times per run, want 0", allocs)
	}
}

func TestLiteralPrefix(t *testing.T) {
	tests := map[string]string{
		"*":            "",
		"message.*":    "message.",
		"a.*.c":        "a.",
		"*.read":       "",
		"message.send": "message.send",
	}
	for pattern, want := range tests {
		if got := literalPrefix(pattern); got != want {
			t.Errorf("literalPrefix(%q) = %q, want %q", pattern, got, want)
		}
	}
}
