# breaks: P-PUSH-13 the push goes to an upstream named differently from the branch (push.default=upstream, not simple).
# suites: test_push
s/^\tif \[ "\$merge" != "\$branch_ref" \]; then$/\tif false; then/
