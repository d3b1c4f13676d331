# breaks: T04-1 the cycle never pushes the writeback's commits at the end (no seal push).
# suites: test_cycle
# also: C-16-1 T04-3 N-3 S-1 S-3 S-4 S-6 S-8: every clause whose cycle ends in a seal sees the writeback's commit left unpushed
/^\tpush_branch || return 1$/d
