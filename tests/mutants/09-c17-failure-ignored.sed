# breaks: C-17-2 a backlog push that fails is ignored and the writeback writes anyway.
# suites: test_cycle
# also: N-5 S-3: writing on top of a backlog the remote refuses also grows it every tick (S-3) and the tick reports success (N-5)
s/^\t\tpush_branch || { skipped=c17; return 1; }$/\t\tpush_branch || :/
