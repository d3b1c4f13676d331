# breaks: P-PULL-6 the fast-forward is done with reset --hard, which overwrites uncommitted edits.
# suites: test_pull
s/g merge --ff-only --no-autostash --no-overwrite-ignore --no-stat -q "\$t"/g reset -q --hard "$t"/
