# breaks: P-PROTO-5 a count that hits an error exits 1 instead of printing 0 and exiting 0.
# suites: test_protocol test_input
# also: P-INPUT-1 P-INPUT-2 P-INPUT-3 P-INPUT-4 P-INPUT-5 P-INPUT-6 P-INPUT-9: every bad-input clause runs the counts on a bad path, which now exit 1
/^say_count() {$/,/^}$/s/^\treturn 0$/\t[ -z "$err_class" ]/
