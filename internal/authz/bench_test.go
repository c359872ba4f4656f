package authz

import (
	"fmt"
	"testing"
)

// benchCatalog has about 60 permissions: the built-ins plus 11 resources
// with five actions each, manage implying read and write.
func benchCatalog(b *testing.B) *Catalog {
	resources := []string{"message", "contact", "campaign", "chat", "instance", "report",
		"template", "webhook", "tag", "invoice", "automation"}
	var decls []Declaration
	for _, r := range resources {
		decls = append(decls,
			decl(r+".read"), decl(r+".write", r+".read"), decl(r+".delete"),
			decl(r+".export", r+".read"), decl(r+".manage", r+".write", r+".delete"))
	}
	return mustCatalog(b, decls...)
}

func BenchmarkSetHas(b *testing.B) {
	c := benchCatalog(b)
	s := c.Expand([]string{"message.*", "contact.read"})
	id, _ := c.ID("contact.read")
	b.ReportAllocs()
	for b.Loop() {
		if !s.Has(id) {
			b.Fatal("Has = false")
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	cases := [][2]string{
		{"message.send", "message.send"},
		{"message.*", "message.x.y"},
		{"a.*.c", "a.b.c"},
		{"*", "read:users:email"},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s~%s", c[0], c[1]), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !Match(c[0], c[1]) {
					b.Fatal("no match")
				}
			}
		})
	}
}

func BenchmarkEffective(b *testing.B) {
	c := benchCatalog(b)
	// Three roles' worth of patterns plus a member grant, and a deny.
	grants := []string{
		"message.*", "chat.read", "chat.write", "instance.read", // operator
		"contact.manage", "tag.*", "template.read", // contacts
		"*.read", "report.export", // viewer
		"webhook.manage", // member grant
	}
	denies := []string{"message.delete", "contact.delete"}
	b.ReportAllocs()
	for b.Loop() {
		s := c.Effective(grants, denies)
		if s.Len() == 0 {
			b.Fatal("empty set")
		}
	}
}
