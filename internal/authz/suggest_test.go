package authz

import "testing"

func TestDidYouMean(t *testing.T) {
	words := []string{"public", "authenticated", "member", "global_admin", "workspace.admin", "message.read", "message.send"}
	for word, want := range map[string]string{
		"authenticatd":  "did you mean authenticated?",
		"Authenticated": "did you mean authenticated?",
		"admin":         "did you mean global_admin or workspace.admin?",
		"membr":         "did you mean member?",
		"mesage.read":   "did you mean message.read?",
		"Public":        "did you mean public?",
		"billing.run":   "",
		"xyz":           "",
	} {
		if got := DidYouMean(word, words); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", word, got, want)
		}
	}
}
