# breaks: P-PROTO-5 a count that hits an error exits 1 instead of printing 0 and exiting 0.
# suites: test_protocol test_input
/^say_count() {$/,/^}$/s/^\treturn 0$/\t[ -z "$err_class" ]/
