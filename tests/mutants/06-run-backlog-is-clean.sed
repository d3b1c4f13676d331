# breaks: N-2 the tick judges a repo only by its check, so an unpushed backlog is skipped as clean.
# suites: test_cycle
# also: N-5 S-2 S-7: a backlog judged clean is never drained: not the 501 commits (S-2), not the commit of a killed run (S-7), not the second repo of a tick (N-5)
/^\t\[ "\$ahead" -eq 0 \] || needs=1$/d
