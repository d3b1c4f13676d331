# breaks: P-PROTO-3 extra arguments after REPO are silently ignored instead of a usage error.
# suites: test_protocol
/^\t\[ \$# -eq 1 \] || usage_error "unexpected argument/d
