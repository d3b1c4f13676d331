# breaks: T04-4 a seal push that fails still makes fix exit 0.
# suites: test_cycle
# also: S-5: the stuck race is a failed seal too, and now exits 0
s/^\tpush_branch || return 1$/\tpush_branch || return 0/
