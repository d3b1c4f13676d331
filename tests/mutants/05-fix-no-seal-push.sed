# breaks: T04-1 the cycle never pushes the writeback's commits at the end (no seal push).
# suites: test_cycle
/^\tpush_branch || return 1$/d
