# breaks: P-LOCAL-2 local-ahead counts HEAD..@{u} (the upstream's commits) instead of @{u}..HEAD.
# suites: test_count
# also: P-LOCAL-3 P-LOCAL-4 P-LOCAL-5 P-LOCAL-7 P-LOCAL-8 P-LOCAL-9: every other local count that is not 0 both ways is reversed too
s/n=\$(count_range "\$t" "\$head") || n=0/n=$(count_range "$head" "$t") || n=0/
