# breaks: T04-4 a seal push that fails still makes fix exit 0.
# suites: test_cycle
s/^\tpush_branch || return 1$/\tpush_branch || return 0/
