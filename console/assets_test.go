package console

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// assetBudget is issue 16's bound on what the console ships, compressed.
const assetBudget = 100 << 10

// TestConsoleAssetsCompressedSize gzips every embedded file (the assets the
// browser loads and the page templates) and fails when they total more
// than 100 KB. The figure is computed from the embed.FS, so adding a
// vendored script or a font counts.
func TestConsoleAssetsCompressedSize(t *testing.T) {
	total, files := 0, 0
	for _, fsys := range []fs.FS{assetFS, templateFS} {
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(raw)
			if err := zw.Close(); err != nil {
				return err
			}
			total += b.Len()
			files++
			t.Logf("%s: %d bytes, %d gzipped", path, len(raw), b.Len())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 2 {
		t.Fatalf("found %d embedded files: the walk is broken", files)
	}
	t.Logf("console assets: %d files, %d bytes gzipped (budget %d)", files, total, assetBudget)
	if total > assetBudget {
		t.Fatalf("embedded console files are %d bytes gzipped, over the %d byte budget", total, assetBudget)
	}
}

// externalRef finds a reference to another origin in markup or CSS: an
// absolute or protocol-relative URL in src, href, action, formaction,
// srcset, poster or data attributes, or in a CSS url() / @import.
var externalRef = regexp.MustCompile(`(?i)(\b(src|href|action|formaction|srcset|poster|data)\s*=\s*["']?\s*(https?:)?//)|(url\(\s*["']?\s*(https?:)?//)|(@import\s+["']?\s*(https?:)?//)`)

// TestConsoleNoExternalReferences: no template or asset points the
// browser at another origin (spec §12: no external requests; the CSP would
// block it anyway, leaving a broken page).
func TestConsoleNoExternalReferences(t *testing.T) {
	if !externalRef.MatchString(`<script src="https://cdn.example/htmx.js">`) ||
		!externalRef.MatchString(`<link href='//fonts.example/x.css'>`) ||
		!externalRef.MatchString(`body{background:url( "http://x/y.png")}`) ||
		externalRef.MatchString(`<a href="{{.Base}}/w/acme">`) {
		t.Fatal("the external-reference pattern is wrong")
	}
	scanned := 0
	for _, fsys := range []fs.FS{assetFS, templateFS} {
		err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			raw, err := fs.ReadFile(fsys, path)
			if err != nil {
				return err
			}
			scanned++
			for i, line := range strings.Split(string(raw), "\n") {
				if m := externalRef.FindString(line); m != "" {
					t.Errorf("%s:%d refers to another origin: %q", path, i+1, m)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 2 {
		t.Fatalf("scanned %d files", scanned)
	}
}
