# breaks: P-PULL-6 the fast-forward is done with reset --hard, which overwrites uncommitted edits.
# suites: test_pull
# also: P-PULL-7 P-PULL-10 P-PULL-17 P-PULL-22: reset --hard also overwrites untracked files, unrelated edits and staged changes, and goes through a merge in progress
s/g merge --ff-only --no-autostash --no-overwrite-ignore --no-stat -q "\$t"/g reset -q --hard "$t"/
