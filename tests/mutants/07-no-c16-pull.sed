# breaks: C-16-1 a repo behind its remote is not pulled before the writeback writes on top of the stale branch.
# suites: test_cycle
# also: C-16-2 C-16-3 N-6 S-4 S-5 S-6: with the pull gone the C-16 guard never fires, so every behind, diverged or blocked repo is written on top of
s/^\tff_to || { skipped=c16; return 1; }$/\t:/
