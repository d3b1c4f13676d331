# breaks: P-PULL-4 a diverged branch is merged (a merge commit) instead of failing unchanged.
# suites: test_pull
s/^\t\tfail diverged "branch \$branch has diverged.*$/\t\tg merge --no-ff --no-edit -q "$t" >\&2 \&\& return 0/
