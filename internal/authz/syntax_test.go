package authz

import (
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	long := strings.Repeat("a", MaxNameLen)
	tests := []struct {
		name    string
		wantErr string // "" = valid
	}{
		{"message.send", ""},
		{"read:users:email", ""},
		{"workspace.api_keys", ""},
		{"a", ""},
		{"A-b_9.x:Y", ""},
		{long, ""},
		{long + "a", `permission "` + strings.Repeat("a", 64) + `"...: longer than 255 bytes`},
		{"", `permission "": empty permission`},
		{"a..b", `permission "a..b": empty segment (segments are separated by a single "." or ":")`},
		{"a.:b", "empty segment"},
		{".a", "empty segment"},
		{"a.", "empty segment"},
		{":", "empty segment"},
		{"a b", `permission "a b": invalid character ' ' at byte 1: segments hold ASCII letters, digits, "_" and "-", separated by "." or ":"`},
		{"a/b", `invalid character '/' at byte 1`},
		{"café", `invalid character 0xc3 at byte 3`},
		{"a\x00", `invalid character '\x00' at byte 1`},
		{"message.*", `permission "message.*": "*" is only allowed in patterns, not in a permission name`},
		{"*", `"*" is only allowed in patterns`},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		checkErr(t, "ValidateName("+quote(tt.name)+")", err, tt.wantErr)
	}
}

func TestValidatePattern(t *testing.T) {
	tests := []struct {
		pattern string
		wantErr string
	}{
		{"*", ""},
		{"message.*", ""},
		{"read:*", ""},
		{"*.read", ""},
		{"a.*.c", ""},
		{"*.*", ""},
		{"message.send", ""},
		{"mess*", `pattern "mess*": "*" must be a whole segment, as in "message.*"`},
		{"*ess", `"*" must be a whole segment`},
		{"message.**", `"*" must be a whole segment`},
		{"**", `"*" must be a whole segment`},
		{"", `pattern "": empty pattern`},
		{"message.", "empty segment"},
		{".*", "empty segment"},
		{"*..a", "empty segment"},
		{"a.?", `invalid character '?' at byte 2`},
	}
	for _, tt := range tests {
		err := ValidatePattern(tt.pattern)
		checkErr(t, "ValidatePattern("+quote(tt.pattern)+")", err, tt.wantErr)
	}
}

// checkErr fails unless err is nil when want is "", or err's message
// contains want.
func checkErr(t *testing.T, call string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s = %v, want nil", call, err)
	case want != "" && err == nil:
		t.Errorf("%s = nil, want error containing %q", call, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s = %q, want it to contain %q", call, err, want)
	}
}
