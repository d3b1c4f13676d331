# breaks: N-5 run exits 0 although a repo ended neither sealed nor clean.
# suites: test_cycle
/^\t\t\[ \$_rc -eq 0 \] || failed=1$/d
