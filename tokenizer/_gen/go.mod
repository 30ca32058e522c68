module github.com/txt2img/engine/tokenizer/_gen

go 1.26.0

require golang.org/x/text v0.32.0
