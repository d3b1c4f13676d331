# breaks: P-PUSH-14 every local branch is pushed (--all), not only the current one.
# suites: test_push
s/push -q --no-follow-tags -- "\$remote" "\$branch_ref:\$merge"/push -q --no-follow-tags --all -- "$remote"/
