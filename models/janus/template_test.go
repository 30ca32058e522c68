package janus

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRenderTemplate(t *testing.T) {
	msgs := []any{
		map[string]any{"role": "<|User|>", "content": "  a cat "},
		map[string]any{"role": "<|Assistant|>", "content": "ok"},
	}
	for _, c := range []struct{ name, src, want string }{
		{"text", "plain", "plain"},
		{"loop", "{% for m in messages %}{{ m['role'] }}: {{ m.content | trim }}\n{% endfor %}", "<|User|>: a cat\n<|Assistant|>: ok\n"},
		{"loop vars", "{% for m in messages %}{% if loop.first %}[{% endif %}{{ loop.index }}{% if not loop.last %},{% else %}]{% endif %}{% endfor %}", "[1,2]"},
		{"elif", "{% for m in messages %}{% if m.role == 'x' %}x{% elif m.role == '<|Assistant|>' %}A{% else %}U{% endif %}{% endfor %}", "UA"},
		{"trim control", "a  {%- if true -%}  b  {%- endif -%}  c", "abc"},
		{"set and concat", "{% set s = 'x' + \"y\" ~ 1 %}{{ s }}", "xy1"},
		{"is defined", "{% if nothing is defined %}no{% elif messages is defined and messages | length > 1 %}yes{% endif %}", "yes"},
		{"in", "{% if 'cat' in messages[0]['content'] and 'dog' not in 'cat' %}in{% endif %}", "in"},
		{"comment", "a{# hidden #}b", "ab"},
		{"escape", "{{ 'a\\nb' }}", "a\nb"},
	} {
		got, err := RenderTemplate(c.src, map[string]any{"messages": msgs})
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{"{{ x", "{% if x %}", "{% for x %}{% endfor %}", "{% macro m() %}{% endmacro %}", "{{ raise_exception('no') }}", "{{ 1 + 'a' }}", "{{ a b }}", "{{ x | nope }}", "{{ 'open }}"} {
		if _, err := RenderTemplate(bad, map[string]any{}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// copyFolder copies the tiny folder (model files included) into a temp dir.
func copyFolder(t *testing.T, src string) string {
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.HasPrefix(rel, "reference") {
			return nil
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestChatTemplate: a folder whose tokenizer_config.json has a text_to_image
// chat template renders it (and gets the default format's ids when the
// template says the same); a different template changes the ids.
func TestChatTemplate(t *testing.T) {
	src := tinyDir(t)
	plain, err := loadTiny(t, src, variantsFor("plain"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs, _, err := plain.PromptIDs("a photo of a black cat", UncondPad)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, tmpl, text string
		same             bool
	}{
		{"deepseek", "{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] | trim }}\n\n{% endfor %}{% if add_generation_prompt %}<|Assistant|>:<begin_of_image>{% endif %}",
			"<｜begin▁of▁sentence｜><|User|>: a photo of a black cat\n\n<|Assistant|>:<begin_of_image>", true},
		{"system", "You draw.\n\n{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n\n{% endfor %}<|Assistant|>:<begin_of_image>",
			"You draw.\n\n<|User|>: a photo of a black cat\n\n<|Assistant|>:<begin_of_image>", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := copyFolder(t, src)
			path := filepath.Join(dir, "tokenizer_config.json")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var cfg map[string]any
			if err := json.Unmarshal(b, &cfg); err != nil {
				t.Fatal(err)
			}
			cfg["chat_template"] = []any{
				map[string]any{"name": "default", "template": "{{ raise_exception('not this one') }}"},
				map[string]any{"name": "text_to_image", "template": c.tmpl},
			}
			b, _ = json.Marshal(cfg)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := loadTiny(t, dir, variantsFor("plain"), nil)
			if err != nil {
				t.Fatal(err)
			}
			text, err := p.PromptText("a photo of a black cat")
			if err != nil || text != c.text {
				t.Fatalf("text %q, %v; want %q", text, err, c.text)
			}
			ids, uncond, err := p.PromptIDs("a photo of a black cat", UncondPad)
			if err != nil {
				t.Fatal(err)
			}
			if ids[0] != 1003 || ids[len(ids)-1] != 1001 || slices.Contains(ids[1:], 1003) || uncond[1] != 1005 {
				t.Fatalf("ids %v / %v: want one BOS first and <begin_of_image> last", ids, uncond)
			}
			if slices.Equal(ids, wantIDs) != c.same {
				t.Fatalf("ids %v vs default %v: same = %v, want %v", ids, wantIDs, !c.same, c.same)
			}
		})
	}
}
