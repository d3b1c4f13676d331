# breaks: P-LOCAL-2 local-ahead counts HEAD..@{u} (the upstream's commits) instead of @{u}..HEAD.
# suites: test_count
s/n=\$(count_range "\$t" "\$head") || n=0/n=$(count_range "$head" "$t") || n=0/
