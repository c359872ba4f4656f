package canonpath

import "testing"

func BenchmarkCheck(b *testing.B) {
	paths := []string{
		"/w/acme/messages",
		"/w/acme/instances/i1/chats/c_9f8e7d6c5b4a/",
		"/w/acme/files/caf%C3%A9%20menu.pdf",
	}
	for _, p := range paths {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
