package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "token",
		Usage: "--key <dir/signing.jwk> --sub <id> [--email <e>] [--email-verified=true|false] [--iss <i>] [--aud <a>] [--ttl 1h] [--claim k=v ...]",
		Short: "Prints a signed JWT for development and tests",
		Long: `
Signs a JWT with a private JWK written by 'gatehouse keygen' and prints it.
--claim adds a claim; a value that parses as JSON (a number, true, an array)
is used as such, anything else as a string.`,
		CobraFunc: func(cmd *cobra.Command) {
			f := cmd.Flags()
			f.String("key", "", "Private signing JWK file (required)")
			f.String("sub", "", "Subject: the user id (required)")
			f.String("email", "", "Email claim")
			f.String("email-verified", "", "email_verified claim: true or false (omitted when not given)")
			f.String("iss", "", "Issuer claim")
			f.StringArray("aud", nil, "Audience claim (repeatable)")
			f.Duration("ttl", signing.DefaultTTL, "Lifetime of the token")
			f.StringArray("claim", nil, "Extra claim k=v (repeatable)")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdToken)
		},
	})
}

func cmdToken(fl caddycmd.Flags) (int, error) {
	spec, err := tokenSpec(fl)
	if err != nil {
		return 2, err
	}
	key, err := signing.LoadSigningKey(fl.String("key"))
	if err != nil {
		return 1, err
	}
	token, err := signing.Sign(key, spec)
	if err != nil {
		return 1, err
	}
	fmt.Println(token)
	return 0, nil
}

func tokenSpec(fl caddycmd.Flags) (signing.TokenSpec, error) {
	spec := signing.TokenSpec{
		Subject: fl.String("sub"),
		Email:   fl.String("email"),
		Issuer:  fl.String("iss"),
		TTL:     fl.Duration("ttl"),
	}
	if fl.String("key") == "" || spec.Subject == "" {
		return spec, fmt.Errorf("--key and --sub are required")
	}
	// The gateway would refuse the token: say so now.
	if reason := authn.CheckSubject(spec.Subject); reason != "" {
		return spec, fmt.Errorf("--sub %q: a subject %s", spec.Subject, reason)
	}
	if reason := authn.CheckEmail(spec.Email); reason != "" {
		return spec, fmt.Errorf("--email %q: an email %s", spec.Email, reason)
	}
	if v := fl.String("email-verified"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return spec, fmt.Errorf("--email-verified must be true or false")
		}
		spec.EmailVerified = &b
	}
	spec.Audience, _ = fl.GetStringArray("aud")
	claims, _ := fl.GetStringArray("claim")
	for _, kv := range claims {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return spec, fmt.Errorf("--claim %q: expected key=value", kv)
		}
		if spec.Claims == nil {
			spec.Claims = map[string]any{}
		}
		spec.Claims[k] = claimValue(v)
	}
	return spec, nil
}

// claimValue uses v as JSON when it is valid JSON, else as a string.
func claimValue(v string) any {
	var decoded any
	if json.Unmarshal([]byte(v), &decoded) == nil {
		return decoded
	}
	return v
}
