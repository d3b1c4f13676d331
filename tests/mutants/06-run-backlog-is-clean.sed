# breaks: N-2 the tick judges a repo only by its check, so an unpushed backlog is skipped as clean.
# suites: test_cycle
/^\t\[ "\$ahead" -eq 0 \] || needs=1$/d
