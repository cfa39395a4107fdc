package recordio

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Throwaway: pick one small corpus entry per behaviour signature.
func TestZZSelect(t *testing.T) {
	cache := os.Getenv("ZZCACHE")
	target := os.Getenv("ZZTARGET")
	if cache == "" {
		t.Skip()
	}
	dir := filepath.Join(cache, target)
	ents, _ := os.ReadDir(dir)
	best := map[string][]byte{}
	bestName := map[string]string{}
	num := regexp.MustCompile(`[0-9]+`)
	for _, e := range ents {
		raw, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		lines := strings.SplitN(string(raw), "\n", 2)
		lit := strings.TrimSpace(lines[1])
		lit = strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")")
		s, err := strconv.Unquote(lit)
		if err != nil {
			continue
		}
		data := []byte(s)
		var sig []string
		var f Format
		switch target {
		case "FuzzCSV":
			f = CSV
		case "FuzzJSONL":
			f = JSONL
		default:
			f = XLSX
			if target == "FuzzXLSXSheet" {
				data = withSheet(t, unzipParts(t, seedXLSX(t)), data)
			}
		}
		r, err := NewReader(bytes.NewReader(data), "f", f, fuzzFields)
		if err != nil {
			sig = append(sig, "ctor:"+num.ReplaceAllString(err.Error(), "N"))
		} else {
			sig = append(sig, "enc:"+r.Encoding(), fmt.Sprint("missing:", len(r.Missing())))
			kinds := map[string]bool{}
			for i := 0; i < 10000; i++ {
				row, err := r.Next()
				if err != nil {
					var re *RowError
					if errors.As(err, &re) {
						k := num.ReplaceAllString(re.Reason, "N")
						if len(k) > 40 {
							k = k[:40]
						}
						kinds["err:"+k] = true
						continue
					}
					if err.Error() != "EOF" {
						kinds["fatal"] = true
					}
					break
				}
				kinds["row"] = true
				for _, v := range row.Values {
					if strings.Contains(v, "\n") {
						kinds["multiline"] = true
					}
				}
			}
			for k := range kinds {
				sig = append(sig, k)
			}
		}
		sort.Strings(sig)
		key := strings.Join(sig, ",")
		if b, ok := best[key]; !ok || len(raw) < len(b) {
			best[key] = raw
			bestName[key] = e.Name()
		}
	}
	out := filepath.Join("testdata", "fuzz", target)
	os.MkdirAll(out, 0o755)
	for k, raw := range best {
		t.Logf("%s: %s (%d bytes)", bestName[k], k, len(raw))
		os.WriteFile(filepath.Join(out, bestName[k]), raw, 0o644)
	}
}
