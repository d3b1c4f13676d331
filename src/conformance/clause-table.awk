# docs/SPEC.md -> a C table of its clauses: { "ID", "level", "sentence" },
# Built into pushseal-conformance, so --list-clauses and the failure
# summary quote the spec even where no source tree is installed.
BEGIN { FS = "\\|" }
/^\| [A-Z][A-Z0-9]*(-[A-Z0-9]+)+ \| (core|ext) \|/ {
	line = $0
	gsub(/\\\|/, "\001", line)          # an escaped pipe inside a sentence
	n = split(line, f, "|")
	id = f[2]; level = f[3]; text = f[4]
	for (i = 5; i < n; i++) text = text "|" f[i]
	gsub(/^ +| +$/, "", id); gsub(/^ +| +$/, "", level); gsub(/^ +| +$/, "", text)
	gsub(/\001/, "|", text)
	gsub(/\\/, "\\\\", text); gsub(/"/, "\\\"", text)
	printf "\t{ \"%s\", \"%s\", \"%s\" },\n", id, level, text
}
